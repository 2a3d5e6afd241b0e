using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Loss;

/// <summary>
/// A drifting field: moves generated samples <c>x [B,d]</c> towards positives <c>y+ [P,d]</c> and away
/// from negatives <c>y- [Q,d]</c>. Implementations compute without gradient and on the tensors' device.
/// </summary>
public interface IDriftField
{
    /// <summary>Bandwidths (conservative) or temperatures (laplace), one per scale.</summary>
    IReadOnlyList<double> Scales { get; }

    /// <param name="negatives">Null means the generated batch itself, with each point's pair with
    /// itself treated as the self term.</param>
    /// <param name="guidance">Extra negatives for classifier-free guidance, mixed into the negative side.</param>
    FieldOutput Compute(Tensor x, Tensor positives, Tensor? negatives = null, GuidanceNegatives? guidance = null);
}

/// <summary>
/// Unconditional data as extra negatives (classifier-free guidance): the negative side becomes the mixture
/// (1 − γ)·model + γ·data, so the field vanishes where model = (data(·|c) − γ·data)/(1 − γ), the guided
/// distribution with scale α = 1/(1 − γ). Each negative's kernel entries are weighted by its share of the
/// mixture, relative to an unweighted negative, so the total weight of the negatives is unchanged.
/// </summary>
/// <param name="Samples">[U, d] unconditional data samples.</param>
/// <param name="Gamma">Mixture weight γ in [0, 1).</param>
public sealed record GuidanceNegatives(Tensor Samples, double Gamma)
{
    /// <summary>γ = 1 − 1/α for guidance scale α ≥ 1.</summary>
    public static double GammaFor(double alpha) => 1 - 1 / alpha;

    /// <summary>Log-weights [1, q + U] of q model negatives then the U extra ones: log(1 − γ) and
    /// log(γ·m/U), so that the m model negatives that count (at weight 1 − γ) and the U extra ones sum to m.</summary>
    internal Tensor LogWeights(long q, long m, ScalarType dtype, Device device)
    {
        if (!(Gamma is >= 0 and < 1)) throw new ArgumentException($"guidance mixture weight must be in [0, 1), got {Gamma}");
        var u = Samples.shape[0];
        var w = torch.empty([1, q + u], dtype: dtype, device: device);
        w.narrow(1, 0, q).fill_(Math.Log(1 - Gamma));
        w.narrow(1, q, u).fill_(Math.Log(Gamma * m / u));
        return w;
    }
}

/// <param name="Velocity">V [B,d], the sum over scales (each normalised first when the field asks for it).</param>
/// <param name="ScaleRms">[S] root-mean-square of each scale's raw field, before any normalisation:
/// the diagnostic that vanishes when the distributions match.</param>
public sealed record FieldOutput(Tensor Velocity, Tensor ScaleRms);
