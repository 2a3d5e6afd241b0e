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
        var cross = MeanDistance(a, b);
        var withinA = MeanDistance(a, a);
        var withinB = MeanDistance(b, b);
        return Math.Max(0, 2 * cross - withinA - withinB);
    }

    /// <summary>Direct differences rather than the ‖a‖²+‖b‖²−2ab expansion, whose cancellation puts
    /// ~1e-8 on the zero self-distances after the square root. Rows of a in chunks of at most 16 MiB of
    /// distances: larger buffers come as fresh pages from the kernel each time, several times slower.</summary>
    private static double MeanDistance(Tensor a, Tensor b)
    {
        var rows = Math.Max(1, (1L << 21) / b.shape[0]);
        var sum = 0.0;
        for (long r0 = 0; r0 < a.shape[0]; r0 += rows)
        {
            using var scope = torch.NewDisposeScope();
            sum += torch.cdist(a.narrow(0, r0, Math.Min(rows, a.shape[0] - r0)), b, compute_mode: compute_mode.donot_use_mm_for_euclid_dist)
                .sum().item<double>();
        }
        return sum / (a.shape[0] * b.shape[0]);
    }
}
