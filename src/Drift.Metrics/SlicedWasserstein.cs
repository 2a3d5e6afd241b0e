using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Metrics;

/// <summary>
/// Sliced Wasserstein-2, squared: the mean over random unit directions θ of W2² between the projections θ·x
/// and θ·y, each a sorted matching of quantiles. Samples of different sizes are compared at matching
/// quantile levels by linear interpolation. Float64 on the CPU.
/// </summary>
public static class SlicedWasserstein
{
    public static double Compute(Tensor x, Tensor y, int directions, Generator g)
    {
        if (x.dim() != 2 || y.dim() != 2 || x.shape[1] != y.shape[1])
            throw new ArgumentException("sliced Wasserstein takes two [n, d] samples of one dimension");
        if (directions < 1) throw new ArgumentException("at least one direction is needed");
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var d = x.shape[1];
        var theta = torch.randn([d, directions], dtype: float64, generator: g);
        theta /= theta.norm(0, keepdim: true);
        var px = x.detach().to(float64, CPU).mm(theta).sort(0).Values;     // [m, K]
        var py = y.detach().to(float64, CPU).mm(theta).sort(0).Values;     // [n, K]
        var levels = Math.Max(px.shape[0], py.shape[0]);
        return (Quantiles(px, levels) - Quantiles(py, levels)).pow(2).mean().item<double>();
    }

    /// <summary>Column-wise quantiles at the levels (i + 0.5)/levels of sorted columns.</summary>
    private static Tensor Quantiles(Tensor sorted, long levels)
    {
        var n = sorted.shape[0];
        if (n == levels) return sorted;
        var position = (torch.arange(levels, dtype: float64) + 0.5) * ((double)n / levels) - 0.5;
        position = position.clamp(0, n - 1);
        var low = position.floor().to(int64);
        var high = (low + 1).clamp_max(n - 1);
        var frac = (position - low.to(float64)).unsqueeze(1);
        return sorted.index_select(0, low) * (1 - frac) + sorted.index_select(0, high) * frac;
    }
}
