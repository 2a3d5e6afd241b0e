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
    FieldOutput Compute(Tensor x, Tensor positives, Tensor? negatives = null);
}

/// <param name="Velocity">V [B,d], the sum over scales (each normalised first when the field asks for it).</param>
/// <param name="ScaleRms">[S] root-mean-square of each scale's raw field, before any normalisation:
/// the diagnostic that vanishes when the distributions match.</param>
public sealed record FieldOutput(Tensor Velocity, Tensor ScaleRms);
