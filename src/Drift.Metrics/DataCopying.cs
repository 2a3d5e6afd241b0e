using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Metrics;

/// <summary>
/// Whether generated samples copy the training data. First the data-copying test of Meehan, Chaudhuri and Dasgupta
/// (2020), in its global form (without their cells): each generated sample's distance to its nearest training point is
/// set against the same distance for held-out points, which the model never saw:
///
///     U = #{(i, j): g_i > q_j} + #{(i, j): g_i = q_j} / 2,   Z = (U − m k / 2) / sd(U)
///
/// the Mann–Whitney statistic of the m generated distances g against the k held-out ones q, as a z-score (the
/// variance corrected for ties). Z is about 0 (±2) when samples sit as far from the training points as unseen data
/// does, far below 0 when they sit nearer, and above 0 when farther (a model that has not yet matched the data).
/// Nearer is not only copies: a blurred image (a mean of a class's images) or a point drawn to the data's middle is
/// near many training points at once, and scores far below 0 too (measured on Fashion-MNIST: means of 5 or 20 training
/// images of a class, z −6.0 and −9.6 in pixels; docs/quality/copies_or_blur.py).
///
/// So the same test is also run on the ratio of each one's nearest to its second-nearest training distance,
/// r = d₁/d₂ (the memorisation criterion of Yoon et al. 2023 and Gu et al. 2023, there thresholded at 1/3): a copy is
/// much nearer one training point than any other (r near 0), a blurred sample about equally near several (r near 1),
/// so blurred images score above 0 (the same ones: +5.9 and +6.0), and it still finds copies under noise that puts them
/// farther from the data than unseen images (z of distances +9.2, of ratios −25). A generator collapsed to nearly one
/// point is another matter: its samples share nearly one ratio, and the ratio's z swings with where that point falls
/// (docs/quality.md, "Copies or blur?").
/// Near copies are the samples whose ratio is at most the held-out points' 1 % quantile (where held-out images duplicate
/// training images, that is 0, the ratio of a copy). Distances to held-out data cannot see copying: a generator that
/// returned its training images would score a held-out FD, precision and recall as good as the data's own.
/// </summary>
public static class DataCopying
{
    /// <param name="Z">The Mann–Whitney z-score of the generated samples' nearest-training distances against the held-out points'.</param>
    /// <param name="RatioZ">The same of their nearest over second-nearest training distances.</param>
    /// <param name="NearShare">The share of generated samples whose ratio is at most the held-out points' 1 % quantile
    /// (about 0.01 for samples as new as unseen data).</param>
    public sealed record Result(double Z, double RatioZ, double NearShare);

    /// <summary>The samples judged against the first half of the held-out points, and the second half judged the same way:
    /// the floor, what samples as new as unseen data score (both z about 0, a hundredth near).</summary>
    /// <param name="train">At least two training points [n, d] (any dtype; converted a chunk at a time).</param>
    /// <param name="heldOut">At least two points of the data the model did not train on [k, d].</param>
    /// <param name="generated">The samples [m, d], of the held-out points' dtype.</param>
    public static (Result Generated, Result Floor) Compute(Tensor train, Tensor heldOut, Tensor generated)
    {
        if (heldOut.shape[0] < 2) throw new ArgumentException("the data-copying test needs two held-out points or more");
        if (train.shape[0] < 2) throw new ArgumentException("the data-copying test needs two training points or more");
        var (m, half) = ((int)generated.shape[0], (int)heldOut.shape[0] / 2);
        using var queries = torch.cat([generated.cpu(), heldOut.cpu()]);
        var (nearest, second) = NearestTwo(queries, train);
        // A point at two training points (duplicates in the data) copies them: 0/0 reads as 0.
        var ratios = nearest.Zip(second, (d1, d2) => d2 > 0 ? d1 / d2 : 0).ToArray();
        Result Judge(Range queried) => Compare(nearest[queried], ratios[queried], nearest[m..(m + half)], ratios[m..(m + half)]);
        return (Judge(..m), Judge((m + half)..));
    }

    /// <summary>The test on distances and ratios already measured: the samples' against held-out points'.</summary>
    private static Result Compare(double[] distances, double[] ratios, double[] heldOutDistances, double[] heldOutRatios)
    {
        var sorted = heldOutRatios.Order().ToArray();
        var threshold = sorted[(int)Math.Floor(0.01 * (sorted.Length - 1))];
        return new(MannWhitneyZ(distances, heldOutDistances), MannWhitneyZ(ratios, heldOutRatios), ratios.Count(r => r <= threshold) / (double)ratios.Length);
    }

    /// <summary>Each row's Euclidean distances to its nearest and second-nearest rows of <paramref name="to"/> (at least
    /// two). The two are found in float32 as the least ‖t‖² − 2 q·t (one matrix product; ‖q‖² is the same for every t),
    /// chunks of <paramref name="to"/> against chunks of queries, each chunk and each block of scores at most
    /// <paramref name="cells"/> numbers (128 MiB by default, however large the images); their distances are then
    /// recomputed in float64 from the rows, so that an exact copy is at distance 0.</summary>
    public static (double[] Nearest, double[] Second) NearestTwo(Tensor from, Tensor to, long cells = 1L << 25)
    {
        if (from.dim() != 2 || to.dim() != 2 || from.shape[1] != to.shape[1] || to.shape[0] < 2)
            throw new ArgumentException("nearest distances take [m, d] queries and [n, d] references of one dimension, n ≥ 2");
        var (m, n, d) = (from.shape[0], to.shape[0], Math.Max(1, from.shape[1]));
        var columns = Math.Clamp(Math.Min(cells / 256, cells / d), 2, n);
        var rows = Math.Clamp(Math.Min(cells / columns, cells / d), 1, Math.Max(1, m));
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var best = torch.full([m, 2], float.PositiveInfinity, float32);
        var index = torch.zeros([m, 2], int64);
        for (long c0 = 0; c0 < n; c0 += columns)
        {
            using var chunkScope = torch.NewDisposeScope();
            var references = to.narrow(0, c0, Math.Min(columns, n - c0)).to(float32, CPU);
            var squaredNorms = references.pow(2).sum(1);
            var transposed = references.t();
            var k = (int)Math.Min(2, references.shape[0]);
            for (long r0 = 0; r0 < m; r0 += rows)
            {
                using var rowScope = torch.NewDisposeScope();
                var count = Math.Min(rows, m - r0);
                var queries = from.narrow(0, r0, count).to(float32, CPU);
                var (score, at) = torch.addmm(squaredNorms, queries, transposed, beta: 1, alpha: -2).topk(k, largest: false);
                // The two least of the two kept so far and this chunk's two.
                var (bestHere, indexHere) = (best.narrow(0, r0, count), index.narrow(0, r0, count));
                var (merged, at2) = torch.cat([bestHere, score], 1).topk(2, largest: false);
                var candidates = torch.cat([indexHere, at + c0], 1);
                indexHere.copy_(candidates.gather(1, at2));
                bestHere.copy_(merged);
            }
        }
        var (nearest, second) = (new double[m], new double[m]);
        for (long r0 = 0; r0 < m; r0 += rows)
        {
            using var rowScope = torch.NewDisposeScope();
            var count = Math.Min(rows, m - r0);
            var queries = from.narrow(0, r0, count).to(float64, CPU);
            var at = index.narrow(0, r0, count).to(to.device);
            for (var j = 0; j < 2; j++)
            {
                var reference = to.index_select(0, at.select(1, j)).to(float64, CPU);
                (queries - reference).norm(1).data<double>().CopyTo(j == 0 ? nearest : second, (int)r0);
            }
        }
        // Float32 may have ordered two nearly equal distances the other way round.
        for (var i = 0; i < m; i++)
            if (second[i] < nearest[i]) (nearest[i], second[i]) = (second[i], nearest[i]);
        return (nearest, second);
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
