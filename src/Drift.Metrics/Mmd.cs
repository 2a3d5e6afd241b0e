using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Metrics;

/// <summary>
/// Unbiased squared maximum mean discrepancy with a sum of Gaussian kernels exp(−‖x−y‖²/2σ²): within-sample
/// pairs i ≠ j only, so its expectation is exactly zero for equal distributions (single values can be
/// negative). Float64 on the CPU, a block of kernel values at a time (<see cref="PairwiseDistances"/>).
/// </summary>
public static class Mmd
{
    /// <param name="cells">The most kernel values held at once (<see cref="PairwiseDistances.Cells"/>).</param>
    public static double Compute(Tensor x, Tensor y, IReadOnlyList<double> bandwidths, long cells = PairwiseDistances.Cells)
    {
        if (x.dim() != 2 || y.dim() != 2 || x.shape[1] != y.shape[1])
            throw new ArgumentException("MMD takes two [n, d] samples of one dimension");
        if (x.shape[0] < 2 || y.shape[0] < 2) throw new ArgumentException("unbiased MMD needs at least 2 points on each side");
        if (bandwidths.Count == 0 || bandwidths.Any(s => !(s > 0))) throw new ArgumentException("MMD bandwidths must be positive");
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var a = x.detach().to(float64, CPU);
        var b = y.detach().to(float64, CPU);
        var m = a.shape[0];
        var n = b.shape[0];
        var total = 0.0;
        foreach (var sigma in bandwidths)
        {
            double KernelSum(Tensor p, Tensor q) => PairwiseDistances.Sum(p, q, d => torch.exp(d.pow(2) / (-2 * sigma * sigma)), cells);
            // The diagonal of a within-sample kernel matrix is exactly 1 per point.
            total += (KernelSum(a, a) - m) / (m * (m - 1.0)) + (KernelSum(b, b) - n) / (n * (n - 1.0)) - 2 * KernelSum(a, b) / (m * (double)n);
        }
        return total;
    }
}
