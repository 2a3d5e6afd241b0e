using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Loss;

/// <param name="Loss">Scalar mean over the batch of ‖x − stopgrad(x + ηV)‖², which equals η²·mean‖V‖².</param>
/// <param name="ScaleRms">[S] raw field RMS per scale (see <see cref="FieldOutput"/>); [F, S] from <see cref="FeatureDriftLoss"/>.</param>
/// <param name="VelocityRms">RMS of the combined V that the generator is pushed along.</param>
public sealed record DriftLossResult(Tensor Loss, Tensor ScaleRms, Tensor VelocityRms);

/// <summary>
/// The drift loss: regress x onto its own drifted copy x + ηV, held fixed. Its gradient with respect to x
/// is −2ηV/B, so a gradient step moves each sample along the field.
/// </summary>
public static class DriftLoss
{
    public static DriftLossResult Compute(IDriftField field, Tensor x, Tensor positives, double eta, Tensor? negatives = null,
        GuidanceNegatives? guidance = null)
    {
        if (!(eta > 0) || double.IsInfinity(eta)) throw new ArgumentException($"eta must be positive and finite, got {eta}");
        var f = field.Compute(x, positives, negatives, guidance);
        Tensor target;
        using (torch.no_grad())
            target = x.detach() + eta * f.Velocity;
        var loss = (x - target).pow(2).sum(-1).mean();
        return new DriftLossResult(loss, f.ScaleRms, FieldMath.Rms(f.Velocity));
    }
}
