using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Loss;

/// <summary>
/// The KDE-gradient field V = ∇log ν_h(x) − ∇log μ_h(x) of Gaussian-smoothed data (ν) and model (μ)
/// densities. For one bandwidth h this is (1/h²)(softmax-weighted mean of positives − softmax-weighted
/// mean of negatives), with weights softmax_j(−‖x − y_j‖²/2h²): the gradient of a scalar, so curl-free.
/// Several bandwidths add up (each optionally scaled to unit RMS, which keeps each term a gradient).
/// </summary>
public sealed class ConservativeField : IRowwiseField
{
    private readonly double[] bandwidths;

    /// <param name="chunking">Null: <see cref="FieldChunking.For"/> the device (one chunk for small batches).</param>
    public ConservativeField(IEnumerable<double> bandwidths, SelfTerm selfTerm = SelfTerm.Exclude, bool normalizeScales = false,
        FieldChunking? chunking = null)
    {
        this.bandwidths = FieldMath.CheckScales(bandwidths, "bandwidth");
        chunking?.Validate();
        SelfTerm = selfTerm;
        NormalizeScales = normalizeScales;
        Chunking = chunking;
    }

    public IReadOnlyList<double> Scales => bandwidths;
    public SelfTerm SelfTerm { get; }
    public bool NormalizeScales { get; }
    public FieldChunking? Chunking { get; }

    public IDriftField Scaled(double multiplier) =>
        multiplier == 1 ? this : new ConservativeField(bandwidths.Select(h => h * multiplier), SelfTerm, NormalizeScales, Chunking);

    public FieldOutput Compute(Tensor x, Tensor positives, Tensor? negatives = null, GuidanceNegatives? guidance = null)
    {
        using var noGrad = torch.no_grad();
        (x, var pos, var generated) = FieldMath.Detached(x, positives, negatives, guidance);
        if (FieldMath.OneGroupAtATime(Chunking, x, pos, negatives, guidance))
            return FieldMath.PerGroup(this, x, pos, negatives?.detach(), guidance);
        (x, pos, generated, guidance) = FieldMath.Centred(x, pos, generated, guidance);
        var excludeSelf = negatives is null && SelfTerm == SelfTerm.Exclude;
        var (neg, logWeights) = FieldMath.WithGuidance(generated, guidance, excludeSelf ? generated.shape[^2] - 1 : generated.shape[^2]);
        return Field(x, pos, neg, logWeights, excludeSelf ? 0 : null, null);
    }

    public FieldOutput ComputeRows(Tensor rows, Tensor positives, Tensor batch, IBatchShard shard)
    {
        using var noGrad = torch.no_grad();
        (rows, var pos, var neg) = FieldMath.Detached(rows, positives, batch);
        (rows, pos, neg, _) = FieldMath.Centred(rows, pos, neg, null);
        // Each row's own pair sits at its global index in the batch.
        return Field(rows, pos, neg, null, SelfTerm == SelfTerm.Exclude ? shard.FirstRow(rows.shape[^2]) : null, shard);
    }

    /// <summary>The field at the rows of x (centred, detached), dense for groups, in row chunks otherwise.</summary>
    /// <param name="excludedFrom">Leave out each row's own pair in <paramref name="neg"/>, row i at column i + this; null: keep it.</param>
    /// <param name="shard">When x is one process's share of the batch: each scale's RMS is reduced over the processes.</param>
    private FieldOutput Field(Tensor x, Tensor pos, Tensor neg, Tensor? logWeights, long? excludedFrom, IBatchShard? shard)
    {
        if (x.dim() == 3)
            return FieldMath.Combine(Drift(KernelMeans(x, pos, bandwidths, null, null), KernelMeans(x, neg, bandwidths, logWeights, excludedFrom)),
                NormalizeScales, shard);

        var chunks = Chunking ?? FieldChunking.For(pos.shape[0] + neg.shape[0], x.device_type, x.ElementSize);
        var b = x.shape[0];
        var perScale = bandwidths.Select(_ => torch.empty_like(x)).ToArray();
        for (long r0 = 0; r0 < b; r0 += chunks.Rows)
        {
            using var scope = torch.NewDisposeScope();
            var rows = x.narrow(0, r0, Math.Min(chunks.Rows, b - r0));
            var drift = Drift(StreamingKernelMeans(rows, pos, chunks.Columns, null, null),
                StreamingKernelMeans(rows, neg, chunks.Columns, logWeights, excludedFrom + r0));
            for (var s = 0; s < bandwidths.Length; s++)
                perScale[s].narrow(0, r0, rows.shape[0]).copy_(drift[s]);
        }
        return FieldMath.Combine(perScale, NormalizeScales, shard);
    }

    /// <summary>Per bandwidth: the −x of each score cancels, so V = (mean-shift towards data − mean-shift towards model)/h².</summary>
    private Tensor[] Drift(Tensor[] towardsData, Tensor[] towardsModel) =>
        bandwidths.Select((h, s) => towardsData[s].sub_(towardsModel[s]).div_(h * h)).ToArray();

    /// <summary>For each bandwidth, Σ_j softmax_j(−‖x − y_j‖²/2h² + log w_j) y_j over all of y, visiting y in
    /// column chunks with an online softmax (running max, sum and weighted sum) when it has more.</summary>
    /// <param name="excludedDiagonal">When y is the generated batch and each sample's pair with itself is left
    /// out: the global index of rows[0], so that each row's own column can be found.</param>
    /// <param name="logWeights">[1, N] log-weight of each column of y, or null for equal weights.</param>
    private Tensor[] StreamingKernelMeans(Tensor rows, Tensor y, int columnChunk, Tensor? logWeights, long? excludedDiagonal)
    {
        var c = rows.shape[0];
        var n = y.shape[0];
        if (n <= columnChunk) return KernelMeans(rows, y, bandwidths, logWeights, excludedDiagonal);
        var max = bandwidths.Select(_ => torch.full(c, double.NegativeInfinity, dtype: rows.dtype, device: rows.device)).ToArray();
        var sum = bandwidths.Select(_ => torch.zeros(c, dtype: rows.dtype, device: rows.device)).ToArray();
        var acc = bandwidths.Select(_ => torch.zeros_like(rows)).ToArray();
        for (long k0 = 0; k0 < n; k0 += columnChunk)
        {
            using var scope = torch.NewDisposeScope();
            var cols = y.narrow(0, k0, Math.Min(columnChunk, n - k0));
            var inner = torch.addmm(cols.pow(2).sum(1).mul_(-0.5).unsqueeze(0), rows, cols.t(), 1, 1);
            if (excludedDiagonal is { } offset)
                FieldMath.SetSelfPairs(inner, double.NegativeInfinity, offset - k0);
            for (var s = 0; s < bandwidths.Length; s++)
            {
                var logits = inner / (bandwidths[s] * bandwidths[s]);
                if (logWeights is not null) logits.add_(logWeights.narrow(1, k0, cols.shape[0]));
                var newMax = torch.maximum(max[s], logits.max(1).values);
                // A row whose columns so far were all masked has max −∞: shift by 0 instead, so that
                // its weights come out 0 rather than exp(−∞ + ∞).
                var shift = torch.where(torch.isinf(newMax), torch.zeros_like(newMax), newMax);
                var keep = torch.exp(max[s] - shift);
                var w = torch.exp(logits - shift.unsqueeze(1));
                Replace(ref sum[s], sum[s] * keep + w.sum(1));
                Replace(ref acc[s], acc[s] * keep.unsqueeze(1) + FieldMath.WeightedSum(w, cols));
                Replace(ref max[s], newMax);
            }
        }
        return acc.Select((a, s) => a / sum[s].unsqueeze(1)).ToArray();
    }

    /// <summary>Swaps a running statistic for its update, freeing the old one now rather than at the end
    /// of the row chunk, so memory stays bounded by one column chunk.</summary>
    private static void Replace(ref Tensor running, Tensor update)
    {
        running.Dispose();
        running = update.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// For each bandwidth, Σ_j softmax_j(−‖x − y_j‖²/2h² + log w_j) y_j for every row x of <paramref name="rows"/>
    /// [c, d] (or [G, c, d] against [G, n, d]). The row softmax ignores ‖x‖², so the logits are
    /// (x·y − ‖y‖²/2)/h²: one GEMM with the bias folded into addmm and the first 1/h² into the rows; each later
    /// bandwidth rescales them in place, so the c×n matrices are one logits buffer plus one softmax output.
    /// </summary>
    private static Tensor[] KernelMeans(Tensor rows, Tensor y, double[] bandwidths, Tensor? logWeights, long? excludedDiagonal)
    {
        var inv = 1 / (bandwidths[0] * bandwidths[0]);
        var bias = y.pow(2).sum(-1).mul_(-0.5 * inv).unsqueeze(-2);
        // Groups add the bias after bmm: TorchSharp 0.107's baddbmm passes its arguments to libtorch in another order.
        var logits = rows.dim() == 2 ? torch.addmm(bias, rows.mul(inv), y.t(), 1, 1) : rows.mul(inv).bmm(y.transpose(1, 2)).add_(bias);
        if (excludedDiagonal is { } offset)
            FieldMath.SetSelfPairs(logits, double.NegativeInfinity, offset);
        var means = new Tensor[bandwidths.Length];
        for (var s = 0; s < bandwidths.Length; s++)
        {
            if (s > 0) logits.mul_(bandwidths[s - 1] * bandwidths[s - 1] / (bandwidths[s] * bandwidths[s]));
            means[s] = FieldMath.WeightedSum(torch.softmax(logWeights is null ? logits : logits + logWeights, -1), y);
        }
        return means;
    }

    /// <summary>
    /// The straightforward conservative field the optimised paths are measured against: per bandwidth two
    /// cdist, two softmax and two matmul over the whole batch, self pairs masked, each scale at unit RMS.
    /// </summary>
    public static Tensor Plain(Tensor x, Tensor pos, double[] bandwidths)
    {
        using var noGrad = torch.no_grad();
        var sqPos = torch.cdist(x, pos).pow_(2);
        var sqNeg = torch.cdist(x, x).pow_(2);
        sqNeg.diagonal().fill_(double.PositiveInfinity);
        var v = torch.zeros_like(x);
        foreach (var h in bandwidths)
        {
            var scale = (torch.softmax(sqPos * (-0.5 / (h * h)), 1).mm(pos) - torch.softmax(sqNeg * (-0.5 / (h * h)), 1).mm(x)) / (h * h);
            v.add_(scale / scale.pow(2).mean().sqrt());
        }
        return v;
    }

    /// <summary>
    /// ∇log of the Gaussian KDE of <paramref name="points"/> at each row of x: (kernel-weighted mean − x)/h².
    /// With <paramref name="self"/> set, <paramref name="points"/> must be x itself and each point's own
    /// kernel is counted or left out as it says. Rows of x go in chunks of <see cref="FieldChunking.For"/>.
    /// </summary>
    public static Tensor KdeScore(Tensor x, Tensor points, double h, SelfTerm? self = null)
    {
        using var noGrad = torch.no_grad();
        var centre = points.mean([0], keepdim: true);
        var xc = x - centre;
        var pc = points - centre;
        var rows = FieldChunking.For(points.shape[0], x.device_type, x.ElementSize).Rows;
        var score = torch.empty_like(xc);
        for (long r0 = 0; r0 < xc.shape[0]; r0 += rows)
        {
            using var scope = torch.NewDisposeScope();
            var chunk = xc.narrow(0, r0, Math.Min(rows, xc.shape[0] - r0));
            var mean = KernelMeans(chunk, pc, [h], null, self == SelfTerm.Exclude ? r0 : null)[0];
            score.narrow(0, r0, chunk.shape[0]).copy_(mean.sub_(chunk).div_(h * h));
        }
        return score;
    }
}
