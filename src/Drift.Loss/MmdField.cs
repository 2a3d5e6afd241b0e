using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Loss;

/// <summary>
/// The MMD gradient flow's field, where the Wasserstein-gradient-flow reading of drifting starts: the gradient of
/// the MMD witness function of the Gaussian kernel k(x, y) = exp(−‖x − y‖²/2h²),
///
///   V(x) = ∇ₓ[ (1/M) Σⱼ k(x, yⱼ) − (1/N) Σᵢ k(x, xᵢ) ] = (1/h²)[ (1/M) Σⱼ k(x, yⱼ)(yⱼ − x) − (1/N) Σᵢ k(x, xᵢ)(xᵢ − x) ],
///
/// the conservative field without its softmax normalisation (kernel sums instead of kernel-weighted means), so a
/// point far from every sample feels almost nothing. A point's own kernel has zero gradient at itself, so the self
/// term only sets N: N − 1 when excluded. Each scale's kernels are computed relative to their largest entry (per
/// group), so that narrow kernels in high dimension do not underflow before unit-RMS normalisation divides the
/// factor out again; it returns in the raw scale RMS and, without normalisation, in the field. Dense only.
/// </summary>
public sealed class MmdField : IRowwiseField
{
    private readonly double[] bandwidths;

    public MmdField(IEnumerable<double> bandwidths, SelfTerm selfTerm = SelfTerm.Exclude, bool normalizeScales = false)
    {
        this.bandwidths = FieldMath.CheckScales(bandwidths, "bandwidth");
        SelfTerm = selfTerm;
        NormalizeScales = normalizeScales;
    }

    public IReadOnlyList<double> Scales => bandwidths;
    public SelfTerm SelfTerm { get; }
    public bool NormalizeScales { get; }

    public IDriftField Scaled(double multiplier) =>
        multiplier == 1 ? this : new MmdField(bandwidths.Select(h => h * multiplier), SelfTerm, NormalizeScales);

    public FieldOutput Compute(Tensor x, Tensor positives, Tensor? negatives = null, GuidanceNegatives? guidance = null)
    {
        if (guidance is not null) throw new ArgumentException("the mmd field takes no guidance negatives");
        using var noGrad = torch.no_grad();
        (x, var pos, var neg) = FieldMath.Detached(x, positives, negatives);
        (x, pos, neg, _) = FieldMath.Centred(x, pos, neg, null);
        return Field(x, pos, neg, negatives is null && SelfTerm == SelfTerm.Exclude ? 0 : null, WholeBatch.Instance);
    }

    public FieldOutput ComputeRows(Tensor rows, Tensor positives, Tensor batch, IBatchShard shard)
    {
        using var noGrad = torch.no_grad();
        (rows, var pos, var neg) = FieldMath.Detached(rows, positives, batch);
        (rows, pos, neg, _) = FieldMath.Centred(rows, pos, neg, null);
        return Field(rows, pos, neg, SelfTerm == SelfTerm.Exclude ? shard.FirstRow(rows.shape[^2]) : null, shard);
    }

    /// <param name="x">The rows computed: the whole batch, or one process's share of it (then <paramref name="shard"/>
    /// reduces the kernel shift and the RMS over the processes).</param>
    /// <param name="excludedFrom">Leave out each row's own pair in <paramref name="neg"/>, row i at column i + this; null: keep it.</param>
    private FieldOutput Field(Tensor x, Tensor pos, Tensor neg, long? excludedFrom, IBatchShard shard)
    {
        var toData = FieldMath.SquaredDistances(x, pos);
        var toModel = FieldMath.SquaredDistances(x, neg);
        if (excludedFrom is { } offset) FieldMath.SetSelfPairs(toModel, double.PositiveInfinity, offset);
        var modelCount = excludedFrom is null ? neg.shape[^2] : neg.shape[^2] - 1;
        var entries = x.shape[^2] * x.shape[^1] * (double)shard.Count;
        var rms = new Tensor[bandwidths.Length];
        var velocity = torch.zeros_like(x);
        for (var s = 0; s < bandwidths.Length; s++)
        {
            var h2 = bandwidths[s] * bandwidths[s];
            var dataLogits = toData * (-0.5 / h2);
            var modelLogits = toModel * (-0.5 / h2);
            // log of the largest kernel entry, per group (over every process's rows): every kernel is computed relative to it.
            var shift = shard.MaxOver(torch.maximum(dataLogits.amax([-2, -1], keepdim: true), modelLogits.amax([-2, -1], keepdim: true)));
            var field = Towards(dataLogits.sub_(shift).exp_(), pos, x).div_(pos.shape[^2])
                .sub_(Towards(modelLogits.sub_(shift).exp_(), neg, x).div_(modelCount)).div_(h2);
            var relativeRms = shard.SumOver(field.pow(2).sum([-2, -1], keepdim: true)).div(entries).sqrt();
            var factor = shift.exp();
            rms[s] = (relativeRms * factor).mean();
            velocity.add_(NormalizeScales ? field / (relativeRms + 1e-12) : field * factor);
        }
        return new FieldOutput(velocity, torch.stack(rms));
    }

    /// <summary>Σⱼ kᵢⱼ (yⱼ − xᵢ) for each row i: kernel-weighted sum of y minus the kernel mass times x.</summary>
    private static Tensor Towards(Tensor kernel, Tensor y, Tensor x) => FieldMath.WeightedSum(kernel, y).sub_(kernel.sum(-1, keepdim: true) * x);
}
