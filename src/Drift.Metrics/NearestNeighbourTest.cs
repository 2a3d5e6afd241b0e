using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Metrics;

/// <summary>
/// The 1-nearest-neighbour two-sample test (Lopez-Paz and Oquab 2017): pool the two samples, label each point by
/// its sample, and classify every point by its nearest other point (leave-one-out). The accuracy is 0.5 when
/// the samples come from one distribution, towards 1 as they part (a collapsed sample's points are each other's
/// nearest), and below 0.5 when one copies the other (every point's nearest is its twin): memorisation, which
/// distances between distributions do not see. Float64 on the CPU, in row chunks of 16 MiB of distances; ties go
/// to the lower index.
/// </summary>
public static class NearestNeighbourTest
{
    public static double Accuracy(Tensor x, Tensor y)
    {
        if (x.dim() != 2 || y.dim() != 2 || x.shape[1] != y.shape[1])
            throw new ArgumentException("the 1-NN test takes two [n, d] samples of one dimension");
        if (x.shape[0] < 1 || y.shape[0] < 1 || x.shape[0] + y.shape[0] < 3)
            throw new ArgumentException("the 1-NN test needs points on both sides and three in all");
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var pooled = torch.cat([x.detach(), y.detach()]).to(float64, CPU);
        var n = pooled.shape[0];
        var fromX = torch.arange(n) < x.shape[0];
        var rows = PairwiseDistances.Rows(n);
        long correct = 0;
        for (long r0 = 0; r0 < n; r0 += rows)
        {
            using var chunkScope = torch.NewDisposeScope();
            var count = Math.Min(rows, n - r0);
            var distances = torch.cdist(pooled.narrow(0, r0, count), pooled, compute_mode: compute_mode.donot_use_mm_for_euclid_dist);
            distances.diagonal(r0).fill_(double.PositiveInfinity);
            var nearest = distances.argmin(1);
            correct += (fromX.index_select(0, nearest) == fromX.narrow(0, r0, count)).sum().item<long>();
        }
        return (double)correct / n;
    }
}
