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
            // The −x of each score cancels: V = (mean-shift towards data − mean-shift towards model)/h².
            var v = (KernelMean(sqPos, pos, h) - KernelMean(sqNeg, neg, h)).div_(h * h);
            var r = FieldMath.Rms(v);
            rms.Add(r);
            velocity = FieldMath.Accumulate(velocity, v, r, NormalizeScales);
        }
        return new FieldOutput(velocity!, torch.stack(rms));
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

    /// <summary>Σ_j softmax_j(−‖x − y_j‖²/2h²) y_j for each row, from the squared distances.</summary>
    private static Tensor KernelMean(Tensor squaredDistances, Tensor points, double h) =>
        torch.softmax(squaredDistances * (-0.5 / (h * h)), 1).mm(points);
}
