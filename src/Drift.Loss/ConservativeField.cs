using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Loss;

/// <summary>
/// The KDE-gradient field V = ∇log ν_h(x) − ∇log μ_h(x) of Gaussian-smoothed data (ν) and model (μ)
/// densities. For one bandwidth h this is (1/h²)(softmax-weighted mean of positives − softmax-weighted
/// mean of negatives), with weights softmax_j(−‖x − y_j‖²/2h²): the gradient of a scalar, so curl-free.
/// Several bandwidths add up (each optionally scaled to unit RMS, which keeps each term a gradient).
/// </summary>
public sealed class ConservativeField : IDriftField
{
    private readonly double[] bandwidths;

    /// <param name="chunking">Null: dense for small batches, chunked past <see cref="FieldChunking.DenseLimit"/>.</param>
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

    public FieldOutput Compute(Tensor x, Tensor positives, Tensor? negatives = null, GuidanceNegatives? guidance = null)
    {
        using var noGrad = torch.no_grad();
        (x, var pos, var generated) = FieldMath.Detached(x, positives, negatives, guidance);
        if (FieldMath.OneGroupAtATime(Chunking, x, pos, negatives, guidance))
            return FieldMath.PerGroup(this, x, pos, negatives?.detach(), guidance);
        var (neg, logWeights) = FieldMath.WithGuidance(generated, guidance,
            negatives is null && SelfTerm == SelfTerm.Exclude ? generated.shape[^2] - 1 : generated.shape[^2]);
        if (FieldMath.ChunkingFor(Chunking, x, pos.shape[^2] + neg.shape[^2]) is { } chunks)
            return ComputeChunked(x, pos, neg, logWeights, negatives is null, chunks);

        var sqPos = FieldMath.SquaredDistances(x, pos);
        var sqNeg = FieldMath.SquaredDistances(x, neg);
        if (negatives is null)
            FieldMath.SetSelfPairs(sqNeg, SelfTerm == SelfTerm.Exclude ? double.PositiveInfinity : 0.0);

        // The −x of each score cancels: V = (mean-shift towards data − mean-shift towards model)/h².
        return FieldMath.Combine(bandwidths.Select(h => (KernelMean(sqPos, pos, h) - KernelMean(sqNeg, neg, h, logWeights)).div_(h * h)).ToArray(),
            NormalizeScales);
    }

    /// <summary>
    /// The same field with bounded memory. The row softmax ignores ‖x‖², so the logits are
    /// (x·y − ‖y‖²/2)/h²: one GEMM with the bias folded in, shared by all bandwidths. A side whose columns
    /// exceed one column chunk streams them through an online softmax (running max, sum and weighted sum).
    /// </summary>
    private FieldOutput ComputeChunked(Tensor x, Tensor pos, Tensor neg, Tensor? logWeights, bool selfPairs, FieldChunking chunks)
    {
        var b = x.shape[0];
        var perScale = bandwidths.Select(_ => torch.empty_like(x)).ToArray();
        for (long r0 = 0; r0 < b; r0 += chunks.Rows)
        {
            using var scope = torch.NewDisposeScope();
            var rows = x.narrow(0, r0, Math.Min(chunks.Rows, b - r0));
            var towardsData = StreamingKernelMeans(rows, pos, chunks.Columns, null, null);
            var towardsModel = StreamingKernelMeans(rows, neg, chunks.Columns, logWeights, selfPairs ? r0 : null);
            for (var s = 0; s < bandwidths.Length; s++)
                perScale[s].narrow(0, r0, rows.shape[0]).copy_((towardsData[s] - towardsModel[s]) / (bandwidths[s] * bandwidths[s]));
        }
        return FieldMath.Combine(perScale, NormalizeScales);
    }

    /// <summary>For each bandwidth, Σ_j softmax_j(−‖x − y_j‖²/2h²) y_j over all of y, visiting y in chunks.</summary>
    /// <param name="selfRowOffset">When y is the generated batch: the global index of rows[0], so each row's own
    /// column can be found (and left out when the self term is excluded).</param>
    /// <param name="logWeights">[1, N] log-weight of each column of y, or null for equal weights.</param>
    private Tensor[] StreamingKernelMeans(Tensor rows, Tensor y, int columnChunk, Tensor? logWeights, long? selfRowOffset)
    {
        var c = rows.shape[0];
        var n = y.shape[0];
        if (n <= columnChunk) return KernelMeansAtOnce(rows, y, logWeights, selfRowOffset);
        var max = bandwidths.Select(_ => torch.full(c, double.NegativeInfinity, dtype: rows.dtype, device: rows.device)).ToArray();
        var sum = bandwidths.Select(_ => torch.zeros(c, dtype: rows.dtype, device: rows.device)).ToArray();
        var acc = bandwidths.Select(_ => torch.zeros_like(rows)).ToArray();
        for (long k0 = 0; k0 < n; k0 += columnChunk)
        {
            using var scope = torch.NewDisposeScope();
            var cols = y.narrow(0, k0, Math.Min(columnChunk, n - k0));
            var inner = torch.addmm(cols.pow(2).sum(1).mul_(-0.5).unsqueeze(0), rows, cols.t(), 1, 1);
            if (selfRowOffset is { } offset && SelfTerm == SelfTerm.Exclude)
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
                Replace(ref acc[s], acc[s] * keep.unsqueeze(1) + w.mm(cols));
                Replace(ref max[s], newMax);
            }
        }
        return acc.Select((a, s) => a / sum[s].unsqueeze(1)).ToArray();
    }

    /// <summary>
    /// <see cref="StreamingKernelMeans"/> for columns that fit at once: the GEMM yields the first bandwidth's
    /// logits directly (the bias folded into addmm, the scale into the rows), and each later bandwidth rescales them in place, so
    /// the B×N matrices are one logits buffer plus one softmax output.
    /// </summary>
    private Tensor[] KernelMeansAtOnce(Tensor rows, Tensor y, Tensor? logWeights, long? selfRowOffset)
    {
        var inv = 1 / (bandwidths[0] * bandwidths[0]);
        var logits = torch.addmm(y.pow(2).sum(1).mul_(-0.5 * inv).unsqueeze(0), rows.mul(inv), y.t(), 1, 1);
        if (selfRowOffset is { } offset && SelfTerm == SelfTerm.Exclude)
            FieldMath.SetSelfPairs(logits, double.NegativeInfinity, offset);
        var means = new Tensor[bandwidths.Length];
        for (var s = 0; s < bandwidths.Length; s++)
        {
            if (s > 0) logits.mul_(bandwidths[s - 1] * bandwidths[s - 1] / (bandwidths[s] * bandwidths[s]));
            means[s] = torch.softmax(logWeights is null ? logits : logits + logWeights, 1).mm(y);
        }
        return means;
    }

    /// <summary>Swaps a running statistic for its update, freeing the old one now rather than at the end
    /// of the row chunk, so memory stays bounded by one column chunk.</summary>
    private static void Replace(ref Tensor running, Tensor update)
    {
        running.Dispose();
        running = update.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// ∇log of the Gaussian KDE of <paramref name="points"/> at each row of x: (kernel-weighted mean − x)/h².
    /// With <paramref name="self"/> set, <paramref name="points"/> must be x itself and each point's own
    /// kernel is counted or left out as it says.
    /// </summary>
    public static Tensor KdeScore(Tensor x, Tensor points, double h, SelfTerm? self = null)
    {
        using var noGrad = torch.no_grad();
        var sq = FieldMath.SquaredDistances(x, points);
        if (self is { } s)
            FieldMath.SetSelfPairs(sq, s == SelfTerm.Exclude ? double.PositiveInfinity : 0.0);
        return (KernelMean(sq, points, h) - x).div_(h * h);
    }

    /// <summary>Σ_j softmax_j(−‖x − y_j‖²/2h² + log w_j) y_j for each row (of each group), from the squared distances.</summary>
    private static Tensor KernelMean(Tensor squaredDistances, Tensor points, double h, Tensor? logWeights = null)
    {
        var logits = squaredDistances * (-0.5 / (h * h));
        if (logWeights is not null) logits.add_(logWeights);
        return torch.softmax(logits, -1).matmul(points);
    }
}
