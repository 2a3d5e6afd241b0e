using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Metrics;

/// <param name="Covered">Modes holding at least a tenth of their expected share of samples.</param>
/// <param name="MassError">Total variation between the sample's and the mixture's mode weights, counting
/// samples off every mode as misplaced mass: ½ Σ_k |p̂_k − w_k| + ½ p̂_off.</param>
/// <param name="OffMode">Share of samples farther than 3 std from every centre.</param>
public sealed record ModeReport(int Covered, int Modes, double MassError, double OffMode);

/// <summary>Assigns samples to the nearest of known mixture centres (within 3 std) and compares the counts
/// with the mixture's weights.</summary>
public static class ModeCoverage
{
    public static ModeReport Compute(Tensor samples, double[,] centers, double std, double[]? weights = null)
    {
        var k = centers.GetLength(0);
        var w = weights ?? Enumerable.Repeat(1.0 / k, k).ToArray();
        using var scope = torch.NewDisposeScope();
        var s = samples.detach().to(float64, CPU);
        var distance = torch.cdist(s, torch.tensor(centers, dtype: float64));
        var (nearest, index) = distance.min(1);
        var onMode = nearest <= 3 * std;
        var counts = torch.bincount(index[onMode], minlength: k).to(float64).data<double>().ToArray();
        var n = (double)s.shape[0];
        var share = counts.Select(c => c / n).ToArray();
        var off = 1 - share.Sum();
        var covered = Enumerable.Range(0, k).Count(j => share[j] >= 0.1 * w[j]);
        var tv = 0.5 * Enumerable.Range(0, k).Sum(j => Math.Abs(share[j] - w[j])) + 0.5 * off;
        return new ModeReport(covered, k, tv, off);
    }
}
