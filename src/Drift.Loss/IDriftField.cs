using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Loss;

/// <summary>
/// A drifting field: moves generated samples <c>x [B,d]</c> towards positives <c>y+ [P,d]</c> and away
/// from negatives <c>y- [Q,d]</c>. With a leading group dimension ([G,B,d], [G,P,d], ...) each group is
/// its own problem, all computed at once (per-scale normalisation included). Implementations compute
/// without gradient and on the tensors' device.
/// </summary>
public interface IDriftField
{
    /// <summary>Bandwidths (conservative) or temperatures (laplace), one per scale.</summary>
    IReadOnlyList<double> Scales { get; }

    /// <summary>The same field with every scale multiplied by <paramref name="multiplier"/>: bandwidth annealing,
    /// and the √D units of a feature space. A multiplier of 1 returns this field.</summary>
    IDriftField Scaled(double multiplier);

    /// <param name="negatives">Null means the generated batch itself, with each point's pair with
    /// itself treated as the self term.</param>
    /// <param name="guidance">Extra negatives for classifier-free guidance, mixed into the negative side.</param>
    FieldOutput Compute(Tensor x, Tensor positives, Tensor? negatives = null, GuidanceNegatives? guidance = null);

    /// <summary>The metrics.csv columns the field adds after the evaluated metrics (an iterative field's counts);
    /// none by default.</summary>
    IReadOnlyList<string> DiagnosticNames(IEnumerable<string> scaleNames) => [];

    /// <summary>The values of <see cref="DiagnosticNames"/> since the last call, or null when the field has none.</summary>
    double[]? TakeDiagnostics() => null;
}

/// <summary>
/// Unconditional data as extra negatives (classifier-free guidance): the negative side becomes the mixture
/// (1 − γ)·model + γ·data, so the field vanishes where model = (data(·|c) − γ·data)/(1 − γ), the guided
/// distribution with scale α = 1/(1 − γ). Each negative's kernel entries are weighted by its share of the
/// mixture, relative to an unweighted negative, so the total weight of the negatives is unchanged.
/// </summary>
/// <param name="Samples">[U, d] unconditional data samples ([G, U, d] for groups).</param>
/// <param name="Gammas">Mixture weight γ in [0, 1): one, or one per group.</param>
public sealed record GuidanceNegatives(Tensor Samples, double[] Gammas)
{
    public GuidanceNegatives(Tensor samples, double gamma) : this(samples, [gamma]) { }

    /// <summary>γ = 1 − 1/α for guidance scale α ≥ 1.</summary>
    public static double GammaFor(double alpha) => 1 - 1 / alpha;

    /// <summary>Log-weights [1, q + U] (or [G, 1, q + U]) of q model negatives then the U extra ones:
    /// log(1 − γ) and log(γ·m/U), so that the m model negatives that count (at weight 1 − γ) and the U extra
    /// ones sum to m.</summary>
    internal Tensor LogWeights(long q, long m, ScalarType dtype, Device device)
    {
        foreach (var g in Gammas)
            if (!(g is >= 0 and < 1)) throw new ArgumentException($"guidance mixture weight must be in [0, 1), got {g}");
        var u = Samples.shape[^2];
        var gamma = torch.tensor(Gammas, dtype: float64).view(-1, 1, 1);
        var w = torch.cat([(1 - gamma).log().expand(-1, 1, q), (gamma * m / u).log().expand(-1, 1, u)], -1).to(dtype, device);
        return Gammas.Length == 1 && Samples.dim() == 2 ? w.squeeze(0) : w;
    }
}

/// <param name="Velocity">V [B,d] (or [G,B,d]), the sum over scales (each normalised first when the field asks for it).</param>
/// <param name="ScaleRms">[S] root-mean-square of each scale's raw field, before any normalisation
/// (averaged over groups): the diagnostic that vanishes when the distributions match.</param>
public sealed record FieldOutput(Tensor Velocity, Tensor ScaleRms);
