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

    public ConservativeField(IEnumerable<double> bandwidths, SelfTerm selfTerm = SelfTerm.Exclude, bool normalizeScales = false)
    {
        this.bandwidths = FieldMath.CheckScales(bandwidths, "bandwidth");
        SelfTerm = selfTerm;
        NormalizeScales = normalizeScales;
    }

    public IReadOnlyList<double> Scales => bandwidths;
    public SelfTerm SelfTerm { get; }
    public bool NormalizeScales { get; }

    public FieldOutput Compute(Tensor x, Tensor positives, Tensor? negatives = null)
    {
        FieldMath.CheckShapes(x, positives, negatives);
        using var noGrad = torch.no_grad();
        x = x.detach();
        var neg = negatives?.detach() ?? x;
        var pos = positives.detach();

        var sqPos = FieldMath.SquaredDistances(x, pos);
        var sqNeg = FieldMath.SquaredDistances(x, neg);
        if (negatives is null)
            FieldMath.SetSelfPairs(sqNeg, SelfTerm == SelfTerm.Exclude ? double.PositiveInfinity : 0.0);

        Tensor? velocity = null;
        var rms = new List<Tensor>(bandwidths.Length);
        foreach (var h in bandwidths)
        {
            var c = -0.5 / (h * h);
            var towardsData = torch.softmax(sqPos * c, 1).mm(pos);
            var towardsModel = torch.softmax(sqNeg * c, 1).mm(neg);
            var v = (towardsData - towardsModel).div_(h * h);
            var r = FieldMath.Rms(v);
            rms.Add(r);
            velocity = FieldMath.Accumulate(velocity, v, r, NormalizeScales);
        }
        return new FieldOutput(velocity!, torch.stack(rms));
    }
}
