using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Loss;

/// <summary>Pieces both fields share.</summary>
internal static class FieldMath
{
    /// <summary>‖x_i − y_j‖² [B,N] (or [G,B,N] for groups). With few coordinates, from the differences themselves:
    /// the expansion ‖x‖² + ‖y‖² − 2x·y loses a near pair to cancellation in float32 (a pair 0.0009 apart came out
    /// 0.0029 apart, which the Laplace kernel exp(−‖x − y‖/τ) at τ = 0.05 feels), and in two or three dimensions such
    /// pairs are common. In high dimension the expansion's matrix product is what makes the distances affordable;
    /// there it is clamped at zero against the same cancellation.</summary>
    public static Tensor SquaredDistances(Tensor x, Tensor y)
    {
        if (x.shape[^1] <= FewColumns)
            return torch.cdist(x, y, compute_mode: compute_mode.donot_use_mm_for_euclid_dist).square();
        var xx = x.pow(2).sum(-1, keepdim: true);
        var yy = y.pow(2).sum(-1).unsqueeze(-2);
        return (x.dim() == 2 ? torch.addmm(xx + yy, x, y.t(), beta: 1, alpha: -2) : x.bmm(y.transpose(1, 2)).mul_(-2).add_(xx + yy))
            .clamp_min_(0);
    }

    /// <summary>Sets the pairs of each generated point with itself, when the negatives are the generated
    /// batch placed first: entries (i, i + rowOffset), rowOffset being the global index of row 0 minus
    /// that of column 0 in a chunk.</summary>
    public static Tensor SetSelfPairs(Tensor pairwise, double value, long rowOffset = 0)
    {
        pairwise.diagonal(rowOffset, -2, -1).fill_(value);
        return pairwise;
    }

    /// <summary>weights [B, N] · y [N, d] (or batched, [.., B, N] · [.., N, d]): a field's kernel-weighted sums.</summary>
    /// <remarks>For points (d ≤ <see cref="FewColumns"/>, unbatched) one matrix–vector product per column: MKL's GEMM
    /// takes a slow path for so few columns, 1.45 ms against 0.40 at [1024, 2048] · [2048, 2] on this machine's 2 cores
    /// (docs/bench.md, "What an iteration costs, and the cap as a dial").</remarks>
    public static Tensor WeightedSum(Tensor weights, Tensor y)
    {
        if (weights.dim() != 2 || y.dim() != 2 || y.shape[1] > FewColumns) return weights.matmul(y);
        var columns = y.t().contiguous();
        return torch.stack(Enumerable.Range(0, (int)y.shape[1]).Select(k => weights.mv(columns[k])).ToArray(), 1);
    }

    private const int FewColumns = 3;

    /// <summary>sqrt(mean(v²)) over all entries.</summary>
    public static Tensor Rms(Tensor v) => v.pow(2).mean().sqrt();

    /// <summary>Sums the scales' fields, each first scaled to unit RMS if asked (per group), and keeps each
    /// one's raw RMS (averaged over groups).</summary>
    /// <param name="shard">When the rows are one process's share of the batch: the RMS is the whole batch's. Null or
    /// <see cref="WholeBatch"/>: the rows are the batch.</param>
    public static FieldOutput Combine(IReadOnlyList<Tensor> perScale, bool normalize, IBatchShard? shard = null)
    {
        var rms = perScale.Select(v => shard is null or { Count: 1 } ? v.pow(2).mean([-2, -1], keepdim: true).sqrt()
            : shard.SumOver(v.pow(2).sum([-2, -1], keepdim: true)).div(v.shape[^2] * v.shape[^1] * (double)shard.Count).sqrt()).ToArray();
        var velocity = torch.zeros_like(perScale[0]);
        for (var s = 0; s < perScale.Count; s++)
            velocity.add_(normalize ? perScale[s] / (rms[s] + 1e-12) : perScale[s]);
        return new FieldOutput(velocity, torch.stack(rms.Select(r => r.mean()).ToArray()));
    }

    /// <summary>Checks the shapes and returns x, positives and negatives (x itself when null) cut off from
    /// any autograd graph: a field is a fixed target, never differentiated through.</summary>
    public static (Tensor X, Tensor Positives, Tensor Negatives) Detached(Tensor x, Tensor positives, Tensor? negatives,
        GuidanceNegatives? guidance = null)
    {
        CheckShapes(x, positives, negatives);
        if (guidance is not null && (guidance.Samples.dim() != x.dim() || guidance.Samples.shape[^1] != x.shape[^1] || guidance.Samples.shape[^2] < 1
                || (x.dim() == 3 && guidance.Samples.shape[0] != x.shape[0])))
            throw new ArgumentException("guidance negatives must be a non-empty [U, d] (or [G, U, d]) tensor shaped like the samples");
        if (guidance is not null && guidance.Gammas.Length != 1 && (x.dim() != 3 || guidance.Gammas.Length != x.shape[0]))
            throw new ArgumentException($"{guidance.Gammas.Length} guidance weights for {(x.dim() == 3 ? x.shape[0] : 1)} group(s)");
        var detached = x.detach();
        return (detached, positives.detach(), negatives?.detach() ?? detached);
    }

    /// <summary>Moves all points by the positives' mean (per group). Distances stay, but logits built from inner
    /// products then no longer cancel terms of size ‖y‖², which in float32 lose every digit for data far from
    /// the origin.</summary>
    public static (Tensor X, Tensor Positives, Tensor Negatives, GuidanceNegatives? Guidance) Centred(Tensor x, Tensor positives,
        Tensor negatives, GuidanceNegatives? guidance)
    {
        var centre = positives.mean([-2], keepdim: true);
        var xc = x - centre;
        return (xc, positives - centre, ReferenceEquals(negatives, x) ? xc : negatives - centre,
            guidance is null ? null : guidance with { Samples = guidance.Samples.detach() - centre });
    }

    /// <summary>The negatives with the guidance samples appended, and their log-weights [1, q + U]
    /// (null without guidance: every negative weighs the same).</summary>
    /// <param name="modelCount">How many of the negatives count (one fewer than the batch when each
    /// sample's pair with itself is left out).</param>
    public static (Tensor All, Tensor? LogWeights) WithGuidance(Tensor neg, GuidanceNegatives? guidance, long modelCount) =>
        guidance is null || guidance.Gammas.All(g => g == 0) ? (neg, null)
            : (torch.cat([neg, guidance.Samples.detach()], -2), guidance.LogWeights(neg.shape[^2], modelCount, neg.dtype, neg.device));

    private static void CheckShapes(Tensor x, Tensor positives, Tensor? negatives)
    {
        if (x.dim() is not (2 or 3) || positives.dim() != x.dim() || (negatives is not null && negatives.dim() != x.dim()))
            throw new ArgumentException("fields take 2-D tensors [n, d], or 3-D [G, n, d] for G groups, all alike");
        if (x.dim() == 3 && (positives.shape[0] != x.shape[0] || (negatives is not null && negatives.shape[0] != x.shape[0])))
            throw new ArgumentException($"group count mismatch: x has {x.shape[0]} groups, positives {positives.shape[0]}");
        if (negatives is null && x.shape[^2] < 2)
            throw new ArgumentException("a field whose negatives are the generated batch needs at least 2 generated samples");
        if (positives.shape[^1] != x.shape[^1] || (negatives is not null && negatives.shape[^1] != x.shape[^1]))
            throw new ArgumentException($"dimension mismatch: x has d={x.shape[^1]}, positives d={positives.shape[^1]}"
                + (negatives is null ? "" : $", negatives d={negatives.shape[^1]}"));
    }

    /// <summary>The chunking of a 2-D call: the configured one, else dense for small batches (groups always
    /// run dense: those too large for that go one at a time, see <see cref="OneGroupAtATime"/>).</summary>
    public static FieldChunking? ChunkingFor(FieldChunking? configured, Tensor x, long columns) =>
        x.dim() == 3 ? null : configured ?? FieldChunking.Auto(x.shape[0], columns, x.device_type, x.ElementSize);

    /// <summary>Whether groups must go one at a time, each on the 2-D path that can chunk: when chunking is
    /// asked for, or when all groups' kernels together pass <see cref="FieldChunking.DenseLimit"/>.</summary>
    public static bool OneGroupAtATime(FieldChunking? configured, Tensor x, Tensor positives, Tensor? negatives, GuidanceNegatives? guidance) =>
        x.dim() == 3 && (configured is not null
            || x.shape[0] * x.shape[1] * (positives.shape[1] + (negatives ?? x).shape[1] + (guidance?.Samples.shape[1] ?? 0)) > FieldChunking.DenseLimit(x.device_type, x.ElementSize));

    public static FieldOutput PerGroup(IDriftField field, Tensor x, Tensor positives, Tensor? negatives, GuidanceNegatives? guidance)
    {
        var outputs = Enumerable.Range(0, (int)x.shape[0]).Select(k => field.Compute(x[k], positives[k], negatives?[k], guidance is null ? null
            : new GuidanceNegatives(guidance.Samples[k], guidance.Gammas.Length == 1 ? guidance.Gammas[0] : guidance.Gammas[k]))).ToArray();
        return new FieldOutput(torch.stack(outputs.Select(o => o.Velocity).ToArray()), torch.stack(outputs.Select(o => o.ScaleRms).ToArray()).mean([0]));
    }

    public static double[] CheckScales(IEnumerable<double> scales, string what)
    {
        var s = scales.ToArray();
        if (s.Length == 0) throw new ArgumentException($"at least one {what} is needed");
        foreach (var v in s)
            if (!(v > 0) || double.IsInfinity(v)) throw new ArgumentException($"{what} must be positive and finite, got {v}");
        return s;
    }
}
