using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Metrics;

/// <summary>
/// Sums over every pair (a_i, b_j) of a function of their Euclidean distance, a block of rows of <c>a</c> at a time of
/// at most <see cref="Cells"/> distances (16 MiB of float64): a whole n×n matrix (and its temporaries) limited how many
/// points <c>drift eval</c> could judge, and larger buffers come as fresh pages from the kernel each time, several times
/// slower. Direct differences rather than the ‖a‖²+‖b‖²−2ab expansion, whose cancellation puts ~1e-8 on the zero
/// self-distances after the square root.
/// </summary>
public static class PairwiseDistances
{
    public const long Cells = 1L << 21;

    /// <summary>Rows of <paramref name="a"/> a block holds against <paramref name="columns"/> columns: one at least.</summary>
    public static long Rows(long columns, long cells = Cells) => Math.Max(1, cells / Math.Max(1, columns));

    /// <summary>Σ_ij f(‖a_i − b_j‖), where <paramref name="f"/> maps a block of distances to the same shape.</summary>
    public static double Sum(Tensor a, Tensor b, Func<Tensor, Tensor> f, long cells = Cells)
    {
        var rows = Rows(b.shape[0], cells);
        var sum = 0.0;
        for (long r0 = 0; r0 < a.shape[0]; r0 += rows)
        {
            using var scope = torch.NewDisposeScope();
            var distances = torch.cdist(a.narrow(0, r0, Math.Min(rows, a.shape[0] - r0)), b, compute_mode: compute_mode.donot_use_mm_for_euclid_dist);
            sum += f(distances).sum().item<double>();
        }
        return sum;
    }
}
