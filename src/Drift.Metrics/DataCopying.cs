using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Metrics;

/// <summary>
/// Whether generated samples copy the training data: the data-copying test of Meehan, Chaudhuri and Dasgupta (2020),
/// in its global form (without their cells). Each generated sample's distance to its nearest training point is set
/// against the same distance for held-out points, which the model never saw:
///
///     U = #{(i, j): g_i > q_j} + #{(i, j): g_i = q_j} / 2,   Z = (U − m k / 2) / sd(U)
///
/// the Mann–Whitney statistic of the m generated distances g against the k held-out ones q, as a z-score (the
/// variance corrected for ties). Z is about 0 (±2) when samples sit as far from the training points as unseen data
/// does, far below 0 when they sit nearer (copies or near copies of training points), and above 0 when farther
/// (a model that has not yet matched the data). Distances to held-out data cannot see copying: a generator that
/// returned its training images would score a held-out FD, precision and recall as good as the data's own.
/// </summary>
public static class DataCopying
{
    /// <param name="Z">The Mann–Whitney z-score of the generated samples' nearest-training distances against the held-out points'.</param>
    /// <param name="NearShare">The share of generated samples nearer a training point than 99 % of held-out points are
    /// (0.01 for samples as new as unseen data).</param>
    public sealed record Result(double Z, double NearShare);

    /// <summary>The samples judged against the first half of the held-out points, and the second half judged the same way:
    /// the floor, what samples as new as unseen data score (Z about 0, a hundredth near).</summary>
    /// <param name="train">The training points [n, d] (any dtype; converted a chunk at a time).</param>
    /// <param name="heldOut">At least two points of the data the model did not train on [k, d].</param>
    /// <param name="generated">The samples [m, d], of the held-out points' dtype.</param>
    public static (Result Generated, Result Floor) Compute(Tensor train, Tensor heldOut, Tensor generated)
    {
        if (heldOut.shape[0] < 2) throw new ArgumentException("the data-copying test needs two held-out points or more");
        var (m, half) = ((int)generated.shape[0], (int)heldOut.shape[0] / 2);
        using var queries = torch.cat([generated.cpu(), heldOut.cpu()]);
        var distances = NearestDistances(queries, train);
        var reference = distances[m..(m + half)];
        return (Compare(distances[..m], reference), Compare(distances[(m + half)..], reference));
    }

    /// <summary>The test on distances to the nearest training point already measured: the samples' against held-out points'.</summary>
    private static Result Compare(double[] generated, double[] heldOut)
    {
        var sorted = heldOut.Order().ToArray();
        var threshold = sorted[(int)Math.Floor(0.01 * (sorted.Length - 1))];
        return new(MannWhitneyZ(generated, heldOut), generated.Count(d => d < threshold) / (double)generated.Length);
    }

    /// <summary>Each row's Euclidean distance to its nearest row of <paramref name="to"/>. The nearest is found in float32
    /// as the least ‖t‖² − 2 q·t (one matrix product; ‖q‖² is the same for every t), chunks of <paramref name="to"/> against
    /// chunks of queries, each chunk and each block of scores at most <paramref name="cells"/> numbers (128 MiB by
    /// default, however large the images); its distance is then recomputed in float64 from the two rows, so that an exact
    /// copy is at distance 0.</summary>
    public static double[] NearestDistances(Tensor from, Tensor to, long cells = 1L << 25)
    {
        if (from.dim() != 2 || to.dim() != 2 || from.shape[1] != to.shape[1] || to.shape[0] < 1)
            throw new ArgumentException("nearest distances take [m, d] queries and [n, d] references of one dimension, n ≥ 1");
        var (m, n, d) = (from.shape[0], to.shape[0], Math.Max(1, from.shape[1]));
        var columns = Math.Clamp(Math.Min(cells / 256, cells / d), 1, n);
        var rows = Math.Clamp(Math.Min(cells / columns, cells / d), 1, Math.Max(1, m));
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var best = torch.full(m, float.PositiveInfinity, float32);
        var index = torch.zeros(m, int64);
        for (long c0 = 0; c0 < n; c0 += columns)
        {
            using var chunkScope = torch.NewDisposeScope();
            var references = to.narrow(0, c0, Math.Min(columns, n - c0)).to(float32, CPU);
            var squaredNorms = references.pow(2).sum(1);
            var transposed = references.t();
            for (long r0 = 0; r0 < m; r0 += rows)
            {
                using var rowScope = torch.NewDisposeScope();
                var count = Math.Min(rows, m - r0);
                var queries = from.narrow(0, r0, count).to(float32, CPU);
                var (score, at) = torch.addmm(squaredNorms, queries, transposed, beta: 1, alpha: -2).min(1);
                var (bestHere, indexHere) = (best.narrow(0, r0, count), index.narrow(0, r0, count));
                var nearer = score < bestHere;
                bestHere.copy_(torch.where(nearer, score, bestHere));
                indexHere.copy_(torch.where(nearer, at + c0, indexHere));
            }
        }
        var distances = new double[m];
        for (long r0 = 0; r0 < m; r0 += rows)
        {
            using var rowScope = torch.NewDisposeScope();
            var count = Math.Min(rows, m - r0);
            var nearest = to.index_select(0, index.narrow(0, r0, count).to(to.device)).to(float64, CPU);
            (from.narrow(0, r0, count).to(float64, CPU) - nearest).norm(1).data<double>().CopyTo(distances, (int)r0);
        }
        return distances;
    }

    /// <summary>The Mann–Whitney z-score of <paramref name="a"/> against <paramref name="b"/>: above 0 when the a are the
    /// larger. U from the rank sum of a in the pooled values (ties at their mean rank), the variance corrected for ties.</summary>
    public static double MannWhitneyZ(double[] a, double[] b)
    {
        if (a.Length == 0 || b.Length == 0) throw new ArgumentException("the Mann–Whitney test needs values on both sides");
        var pooled = a.Select(v => (Value: v, FromA: true)).Concat(b.Select(v => (Value: v, FromA: false))).OrderBy(p => p.Value).ToArray();
        double total = pooled.Length, rankSumA = 0, ties = 0;
        for (var start = 0; start < pooled.Length;)
        {
            var end = start;
            while (end + 1 < pooled.Length && pooled[end + 1].Value == pooled[start].Value) end++;
            double count = end - start + 1, meanRank = (start + end) / 2.0 + 1;
            for (var i = start; i <= end; i++)
                if (pooled[i].FromA) rankSumA += meanRank;
            ties += count * count * count - count;
            start = end + 1;
        }
        double m = a.Length, k = b.Length;
        var u = rankSumA - m * (m + 1) / 2;
        var variance = m * k / 12 * (total + 1 - ties / (total * (total - 1)));
        return variance > 0 ? (u - m * k / 2) / Math.Sqrt(variance) : 0;
    }
}
