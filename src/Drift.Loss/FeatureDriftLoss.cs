using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Loss;

/// <param name="Loss">Scalar: Σ over feature spaces of the per-dimension drift loss, averaged over groups.</param>
/// <param name="ScaleRms">[F, S] raw field RMS per feature space and scale, averaged over groups.</param>
/// <param name="VelocityRms">RMS of the combined field, averaged over feature spaces.</param>
public sealed record FeatureDriftResult(Tensor Loss, Tensor ScaleRms, Tensor VelocityRms);

/// <summary>
/// The drift loss for images, computed in one or more feature spaces and separately per group (class),
/// all groups at once. In each space and group the features are divided by a detached scale so that the
/// mean distance between generated and data features is √D; the field's scales are then relative (a
/// temperature τ acts as τ·√D), so one setting serves every space and dataset. Each space's loss is the
/// drift loss divided by D, so spaces of different size weigh alike.
/// </summary>
public static class FeatureDriftLoss
{
    /// <param name="field">Builds the field for a scale multiplier (√D of the space).</param>
    /// <param name="spaces">Differentiable maps of images [n, C, H, W] to features [n, D] (see <see cref="ImageFeatures"/>).</param>
    /// <param name="groups">G: the image tensors hold G equal blocks of rows, block g for group g.</param>
    /// <param name="generated">[G·B, C, H, W] generated images, with gradient.</param>
    /// <param name="data">[G·P, C, H, W] data images (positives).</param>
    /// <param name="unconditional">[G·U, C, H, W] data of any class, mixed into each group's negatives
    /// with weight <paramref name="gammas"/>[g] (classifier-free guidance); null: none.</param>
    public static FeatureDriftResult Compute(Func<double, IDriftField> field, IReadOnlyList<Func<Tensor, Tensor>> spaces, int groups,
        Tensor generated, Tensor data, double eta, Tensor? unconditional = null, double[]? gammas = null)
    {
        if (spaces.Count == 0 || groups < 1) throw new ArgumentException("need at least one feature space and one group");
        if (generated.shape[0] % groups != 0 || data.shape[0] % groups != 0 || (unconditional is not null && unconditional.shape[0] % groups != 0))
            throw new ArgumentException($"image counts ({generated.shape[0]}, {data.shape[0]}) are not multiples of the {groups} groups");
        if (unconditional is not null && gammas?.Length != groups)
            throw new ArgumentException("unconditional negatives need one guidance weight per group");
        var loss = torch.zeros(1, device: generated.device).squeeze();
        var velocityRms = torch.zeros_like(loss);
        var scaleRms = new List<Tensor>();
        foreach (var space in spaces)
        {
            var x = Features(space, generated, groups);
            var dim = x.shape[2];
            Tensor y, scale;
            GuidanceNegatives? guidance = null;
            using (torch.no_grad())
            {
                y = Features(space, data, groups);
                scale = FieldMath.SquaredDistances(x.detach(), y).sqrt_().mean([-2, -1], keepdim: true).div_(Math.Sqrt(dim)).clamp_min_(1e-12);
                if (unconditional is not null)
                    guidance = new GuidanceNegatives(Features(space, unconditional, groups) / scale, gammas!);
            }
            var drift = DriftLoss.Compute(field(Math.Sqrt(dim)), x / scale, y / scale, eta, guidance: guidance);
            loss = loss + drift.Loss / dim;
            velocityRms = velocityRms + drift.VelocityRms / spaces.Count;
            scaleRms.Add(drift.ScaleRms);
        }
        return new FeatureDriftResult(loss, torch.stack(scaleRms), velocityRms);
    }

    private static Tensor Features(Func<Tensor, Tensor> space, Tensor images, int groups) =>
        space(images).view(groups, images.shape[0] / groups, -1);
}
