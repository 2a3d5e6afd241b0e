using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Loss;

/// <summary>
/// The stop-gradient ablation: the drift loss with the target not held fixed. Without the stop-gradient,
/// ‖x − (x + ηV(x))‖² is η²‖V(x)‖², and its gradient runs through V: through each sample as a query point
/// and through the generated batch that forms the model KDE (and through the per-scale RMS, when scales are
/// normalised). The gradient is then 2η²·J_Vᵀ V/B instead of the −2ηV/B that moves each sample along the
/// field, so training minimises the field's size by any route, not only by moving samples where the field points.
/// The conservative field only, with the generated batch as its negatives, written with plain differentiable
/// operations and dense B×B kernels (an ablation for toy batches, not chunked like the field itself); tested
/// equal in value to <see cref="ConservativeField"/> and in gradient to finite differences.
/// </summary>
public static class ThroughFieldLoss
{
    public static DriftLossResult Compute(ConservativeField field, Tensor x, Tensor positives, double eta)
    {
        if (!(eta > 0) || double.IsInfinity(eta)) throw new ArgumentException($"eta must be positive and finite, got {eta}");
        if (x.dim() != 2 || positives.dim() != 2 || x.shape[1] != positives.shape[1])
            throw new ArgumentException("the stop-gradient ablation takes samples [B, d] and positives [P, d]");
        // Centred on the positives' mean for float32, as the field itself is: distances do not change.
        var centre = positives.mean([0], keepdim: true).detach();
        var xc = x - centre;
        var yc = positives.detach() - centre;
        var toData = FieldMath.SquaredDistances(xc, yc);
        var toModel = FieldMath.SquaredDistances(xc, xc);
        if (field.SelfTerm == SelfTerm.Exclude)
            toModel = toModel.masked_fill(torch.eye(x.shape[0], dtype: ScalarType.Bool, device: x.device), double.PositiveInfinity);
        var perScale = field.Scales.Select(h =>
            (torch.softmax(toData / (-2 * h * h), 1).matmul(yc) - torch.softmax(toModel / (-2 * h * h), 1).matmul(xc)) / (h * h)).ToArray();
        // The field's own per-scale combination; its RMS is not detached, so the gradient runs through it too.
        var f = FieldMath.Combine(perScale, field.NormalizeScales);
        var loss = f.Velocity.pow(2).sum(-1).mean() * (eta * eta);
        return new DriftLossResult(loss, f.ScaleRms.detach(), FieldMath.Rms(f.Velocity.detach()));
    }
}
