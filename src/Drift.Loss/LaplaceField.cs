using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Loss;

/// <summary>
/// The displacement field of the original drifting paper. Kernel exp(−‖x − y‖/τ) against negatives and
/// positives together; each kernel entry is normalised by the geometric mean of its row and column sums
/// (softmax over both axes), then cross-weighted: W+ = A+·ΣA−, W− = A−·ΣA+, V = W+·y+ − W−·y−. It is not
/// a gradient field. Computed in the log domain, so small τ does not underflow to 0/0.
/// </summary>
public sealed class LaplaceField : IDriftField
{
    private readonly double[] temperatures;

    public LaplaceField(IEnumerable<double> temperatures, bool normalizeScales = true)
    {
        this.temperatures = FieldMath.CheckScales(temperatures, "temperature");
        NormalizeScales = normalizeScales;
    }

    public IReadOnlyList<double> Scales => temperatures;
    public bool NormalizeScales { get; }

    public FieldOutput Compute(Tensor x, Tensor positives, Tensor? negatives = null)
    {
        FieldMath.CheckShapes(x, positives, negatives);
        using var noGrad = torch.no_grad();
        x = x.detach();
        var neg = negatives?.detach() ?? x;
        var pos = positives.detach();
        var q = neg.shape[0];

        // Negatives first, so that the self pairs (when the negatives are x) lie on the diagonal.
        var targets = torch.cat([neg, pos], 0);
        var distance = FieldMath.SquaredDistances(x, targets).sqrt_();
        if (negatives is null)
            FieldMath.SetSelfPairs(distance, double.PositiveInfinity);

        Tensor? velocity = null;
        var rms = new List<Tensor>(temperatures.Length);
        foreach (var tau in temperatures)
        {
            var logits = distance * (-1.0 / tau);
            var logNormalizer = torch.logsumexp(logits, 1, keepdim: true) + torch.logsumexp(logits, 0, keepdim: true);
            var a = logits.sub_(logNormalizer.mul_(0.5)).exp_();
            var aNeg = a[.., ..(int)q];
            var aPos = a[.., (int)q..];
            var wPos = aPos * aNeg.sum(1, keepdim: true);
            var wNeg = aNeg * aPos.sum(1, keepdim: true);
            var v = wPos.mm(pos) - wNeg.mm(neg);
            var r = FieldMath.Rms(v);
            rms.Add(r);
            velocity = FieldMath.Accumulate(velocity, v, r, NormalizeScales);
        }
        return new FieldOutput(velocity!, torch.stack(rms));
    }
}
