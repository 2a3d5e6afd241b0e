using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Metrics;

/// <summary>
/// Squared energy distance 2E‖X−Y‖ − E‖X−X′‖ − E‖Y−Y′‖ between two samples, as the V-statistic (every
/// pair, i = j included): never negative, so it can be compared on a log scale with the data-vs-data
/// floor, which is positive at any finite sample size. Computed in float64 on the CPU.
/// </summary>
public static class EnergyDistance
{
    public static double Compute(Tensor x, Tensor y)
    {
        if (x.dim() != 2 || y.dim() != 2 || x.shape[1] != y.shape[1])
            throw new ArgumentException("energy distance takes two [n, d] samples of one dimension");
        if (x.shape[0] < 1 || y.shape[0] < 1)
            throw new ArgumentException("energy distance needs points on both sides");
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var a = x.detach().to(float64, CPU);
        var b = y.detach().to(float64, CPU);
        double MeanDistance(Tensor p, Tensor q) => PairwiseDistances.Sum(p, q, d => d) / (p.shape[0] * q.shape[0]);
        var cross = MeanDistance(a, b);
        var withinA = MeanDistance(a, a);
        var withinB = MeanDistance(b, b);
        return Math.Max(0, 2 * cross - withinA - withinB);
    }
}
