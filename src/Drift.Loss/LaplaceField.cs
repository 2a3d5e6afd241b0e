using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Loss;

/// <summary>
/// The displacement field of the original drifting paper. Kernel exp(−‖x − y‖/τ) against negatives and
/// positives together; each kernel entry is normalised by the geometric mean of its row and column sums
/// (softmax over both axes), then cross-weighted: W+ = A+·ΣA−, W− = A−·ΣA+, V = W+·y+ − W−·y−. It is not
/// a gradient field. Computed in the log domain, so small τ does not underflow to 0/0.
///
/// Three variants: a Gaussian kernel exp(−‖x − y‖²/(2τ²)); the normalisation by rows alone, each side on its own
/// (V = softmax-weighted mean of y+ − that of y−); and both axes without the cross weights, each side's entries A
/// divided by their own row sum, so that every sample gets the same attraction and repulsion mass and only the column
/// normalisation tells this field from the one by rows alone. With the first two, the field is
/// τ²·(∇log ν_τ − ∇log μ_τ): the drifting field is then the score difference of the two kernel density estimates, the
/// conservative field times τ² (LaplaceFieldTests checks the identity). The normalisation by rows alone, with the
/// Laplace kernel, is also the image runs' default (FieldKind.ImageRowsOnly: it covered Fashion-MNIST better); what its
/// recall owed was the cross weights' absence (docs/quality.md).
///
/// Every variant splits its rows across processes: a row needs the batch only through its own sums and, over both
/// axes, the columns' log-sum-exps, which each process computes over its rows and the processes combine.
/// </summary>
public sealed class LaplaceField : IRowwiseField
{
    private readonly double[] temperatures;

    /// <param name="chunking">Null: dense for small batches, chunked rows past <see cref="FieldChunking.DenseLimit"/>.
    /// Only its row size matters (each row needs its whole row of logits); a chunk of all rows is the dense pass.</param>
    /// <param name="gaussian">See <see cref="Gaussian"/>.</param>
    /// <param name="rowsOnly">See <see cref="RowsOnly"/>.</param>
    /// <param name="crossWeights">See <see cref="CrossWeights"/>.</param>
    public LaplaceField(IEnumerable<double> temperatures, bool normalizeScales = true, FieldChunking? chunking = null,
        bool gaussian = false, bool rowsOnly = false, bool crossWeights = true)
    {
        if (rowsOnly && !crossWeights)
            throw new ArgumentException("over rows only the laplace field has no cross weights to leave out", nameof(crossWeights));
        this.temperatures = FieldMath.CheckScales(temperatures, "temperature");
        chunking?.Validate();
        NormalizeScales = normalizeScales;
        Chunking = chunking;
        Gaussian = gaussian;
        RowsOnly = rowsOnly;
        CrossWeights = crossWeights;
    }

    public IReadOnlyList<double> Scales => temperatures;
    public bool NormalizeScales { get; }
    public FieldChunking? Chunking { get; }
    /// <summary>The kernel exp(−‖x − y‖²/(2τ²)) instead of exp(−‖x − y‖/τ).</summary>
    public bool Gaussian { get; }
    /// <summary>Each side's kernel row normalised on its own, no column normalisation and no cross weights.</summary>
    public bool RowsOnly { get; }
    /// <summary>Over both axes: W+ = A+·ΣA−, W− = A−·ΣA+ (the paper's). Without: W± = A±/ΣA±, each side normalised over its
    /// own row after the column normalisation.</summary>
    public bool CrossWeights { get; }

    public IDriftField Scaled(double multiplier) =>
        multiplier == 1 ? this : new LaplaceField(temperatures.Select(t => t * multiplier), NormalizeScales, Chunking, Gaussian, RowsOnly, CrossWeights);

    /// <summary>The kernel's log: −d/τ, or −d²/(2τ²) for the Gaussian, from the distances <see cref="Distances"/> returns.</summary>
    private Tensor Logits(Tensor distance, double tau) => distance * (Gaussian ? -0.5 / (tau * tau) : -1.0 / tau);

    /// <summary>Pairwise distances, squared for the Gaussian kernel.</summary>
    private Tensor Distances(Tensor x, Tensor targets)
    {
        var squared = FieldMath.SquaredDistances(x, targets);
        return Gaussian ? squared : squared.sqrt_();
    }

    public FieldOutput Compute(Tensor x, Tensor positives, Tensor? negatives = null, GuidanceNegatives? guidance = null)
    {
        using var noGrad = torch.no_grad();
        (x, var pos, var generated) = FieldMath.Detached(x, positives, negatives, guidance);
        if (FieldMath.OneGroupAtATime(Chunking, x, pos, negatives, guidance))
            return FieldMath.PerGroup(this, x, pos, negatives?.detach(), guidance);
        (x, pos, generated, guidance) = FieldMath.Centred(x, pos, generated, guidance);
        var (neg, negWeights) = FieldMath.WithGuidance(generated, guidance, negatives is null ? generated.shape[^2] - 1 : generated.shape[^2]);

        // Negatives first, so that the self pairs (when the negatives are x) lie on the diagonal.
        var targets = torch.cat([neg, pos], -2);
        var logWeights = negWeights is null ? null
            : torch.cat([negWeights, torch.zeros([.. negWeights.shape[..^1], pos.shape[^2]], dtype: x.dtype, device: x.device)], -1);
        return Field(x, pos, neg, targets, logWeights, negatives is null ? 0 : null, null);
    }

    /// <summary>This process's rows against the gathered batch, each row's own pair at its global index, each scale's RMS
    /// and (over both axes) the columns' log-sum-exps reduced across the processes (<see cref="IRowwiseField"/>).</summary>
    public FieldOutput ComputeRows(Tensor rows, Tensor positives, Tensor batch, IBatchShard shard)
    {
        using var noGrad = torch.no_grad();
        (rows, var pos, var neg) = FieldMath.Detached(rows, positives, batch);
        (rows, pos, neg, _) = FieldMath.Centred(rows, pos, neg, null);
        return Field(rows, pos, neg, torch.cat([neg, pos], -2), null, shard.FirstRow(rows.shape[^2]), shard);
    }

    /// <summary>The field at the rows of x (centred, detached) against targets = [negatives, positives], dense or in
    /// row chunks.</summary>
    /// <param name="selfFrom">Leave out each row's own pair, row i at column i + this; null: the negatives are not x.</param>
    /// <param name="shard">When x is one process's share of the batch: each scale's RMS and the column log-sum-exps are
    /// reduced over the processes.</param>
    private FieldOutput Field(Tensor x, Tensor pos, Tensor neg, Tensor targets, Tensor? logWeights, long? selfFrom, IBatchShard? shard)
    {
        if (FieldMath.ChunkingFor(Chunking, x, targets.shape[^2]) is { } chunks && chunks.Rows < x.shape[0])
            return ComputeChunked(x, pos, neg, targets, logWeights, selfFrom, chunks.Rows, shard);
        var distance = Distances(x, targets);
        if (selfFrom is { } offset)
            FieldMath.SetSelfPairs(distance, double.PositiveInfinity, offset);

        return FieldMath.Combine(temperatures.Select(tau =>
        {
            var logits = Logits(distance, tau);
            return Weighted(logits, RowsOnly ? null : ColumnLse(torch.logsumexp(logits, -2, keepdim: true), shard), pos, neg, logWeights);
        }).ToArray(), NormalizeScales, shard);
    }

    /// <summary>
    /// The same field in row chunks and two passes: the column normalisation needs each column's
    /// log-sum-exp over all rows, so a first pass accumulates those, and a second recomputes each chunk's
    /// distances and finishes its rows. Memory grows with chunk×N, never B×N.
    /// </summary>
    private FieldOutput ComputeChunked(Tensor x, Tensor pos, Tensor neg, Tensor targets, Tensor? logWeights, long? selfFrom, int rowChunk,
        IBatchShard? shard)
    {
        var b = x.shape[0];
        Tensor ChunkDistances(long r0, long count)
        {
            var d = Distances(x.narrow(0, r0, count), targets);
            if (selfFrom is { } offset) FieldMath.SetSelfPairs(d, double.PositiveInfinity, offset + r0);
            return d;
        }

        var columnLse = temperatures.Select(_ => RowsOnly ? null
            : torch.full([1, targets.shape[0]], double.NegativeInfinity, dtype: x.dtype, device: x.device)).ToArray();
        for (long r0 = 0; r0 < b && !RowsOnly; r0 += rowChunk)
        {
            using var scope = torch.NewDisposeScope();
            var distance = ChunkDistances(r0, Math.Min(rowChunk, b - r0));
            for (var t = 0; t < temperatures.Length; t++)
                columnLse[t]!.copy_(torch.logaddexp(columnLse[t]!, torch.logsumexp(Logits(distance, temperatures[t]), 0, keepdim: true)));
        }
        columnLse = [.. columnLse.Select(lse => lse is null ? null : ColumnLse(lse, shard))];

        var perScale = temperatures.Select(_ => torch.empty_like(x)).ToArray();
        for (long r0 = 0; r0 < b; r0 += rowChunk)
        {
            using var scope = torch.NewDisposeScope();
            var count = Math.Min(rowChunk, b - r0);
            var distance = ChunkDistances(r0, count);
            for (var t = 0; t < temperatures.Length; t++)
                perScale[t].narrow(0, r0, count).copy_(Weighted(Logits(distance, temperatures[t]), columnLse[t], pos, neg, logWeights));
        }

        return FieldMath.Combine(perScale, NormalizeScales, shard);
    }

    /// <summary>The columns' log-sum-exps over the whole batch's rows, from those over this process's rows: log Σ_k exp(l_k)
    /// over the processes, shifted by the largest l_k so that no sum overflows (a column −∞ everywhere stays −∞).</summary>
    private static Tensor ColumnLse(Tensor local, IBatchShard? shard)
    {
        if (shard is null || shard.Count == 1) return local;
        var max = shard.MaxOver(local);
        var shift = torch.where(max.isfinite(), max, torch.zeros_like(max));
        return shard.SumOver((local - shift).exp_()).log_().add_(shift);
    }

    /// <summary>V rows from logits [rows, Q+P] or [G, rows, Q+P] (negatives first) and the columns' log-sum-exp over all rows:
    /// A = exp(logits − (row LSE + column LSE)/2), W+ = A+·ΣA−, W− = A−·ΣA+, V = W+·y+ − W−·y−. Without column
    /// sums (rows only): V = softmax(logits+)·y+ − softmax(logits−)·y−. Without cross weights, A±/ΣA±: the row LSE
    /// cancels within a side, so each side is the softmax of logits − column LSE/2.</summary>
    /// <param name="logWeights">[1, Q+P] column log-weights (guidance), or null. They weight each entry and enter
    /// the row normalisation, not the column one, so weight 0 removes a column exactly.</param>
    private Tensor Weighted(Tensor logits, Tensor? columnLse, Tensor pos, Tensor neg, Tensor? logWeights)
    {
        var q = neg.shape[^2];
        if (logWeights is not null) logits = logits + logWeights;
        if (columnLse is not null && !CrossWeights)
            (logits, columnLse) = (logits - columnLse.mul(0.5), null);  // then each side a row softmax, as over rows only
        if (columnLse is null)
            return FieldMath.WeightedSum(torch.softmax(logits.narrow(-1, q, pos.shape[^2]), -1), pos)
                .sub_(FieldMath.WeightedSum(torch.softmax(logits.narrow(-1, 0, q), -1), neg));
        var a = logits.sub_((torch.logsumexp(logits, -1, keepdim: true) + columnLse).mul_(0.5)).exp_();
        var aNeg = a.narrow(-1, 0, q);
        var aPos = a.narrow(-1, q, pos.shape[^2]);
        // The cross weights are per row, so they scale the products instead of the B×N matrices.
        return FieldMath.WeightedSum(aPos, pos).mul_(aNeg.sum(-1, keepdim: true)).sub_(FieldMath.WeightedSum(aNeg, neg).mul_(aPos.sum(-1, keepdim: true)));
    }
}
