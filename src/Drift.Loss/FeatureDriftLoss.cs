using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Loss;

/// <param name="Loss">Scalar: Σ over feature spaces of the per-dimension drift loss, averaged over groups.</param>
/// <param name="ScaleRms">[F, S] raw field RMS per feature space and scale, averaged over groups.</param>
/// <param name="VelocityRms">RMS of the combined field, averaged over feature spaces and groups.</param>
public sealed record FeatureDriftResult(Tensor Loss, Tensor ScaleRms, Tensor VelocityRms);

/// <summary>One group's images: generated (with gradient), data, and optionally unconditional data mixed
/// into the negatives with weight <paramref name="Gamma"/> (classifier-free guidance).</summary>
public sealed record DriftGroup(Tensor Generated, Tensor Data, Tensor? Unconditional = null, double Gamma = 0);

/// <summary>
/// The drift loss for images, computed in one or more feature spaces and separately per group (class).
/// In each space the features are divided by a detached scale so that the mean distance between
/// generated and data features is √D; the field's scales are then relative (a temperature τ acts as
/// τ·√D), so one setting serves every space and dataset. Each space's loss is the drift loss divided by
/// D, so spaces of different size weigh alike.
/// </summary>
public static class FeatureDriftLoss
{
    /// <param name="field">Builds the field for a scale multiplier (√D of the space).</param>
    public static FeatureDriftResult Compute(Func<double, IDriftField> field, IReadOnlyList<string> spaces,
        IReadOnlyList<DriftGroup> groups, double eta)
    {
        if (spaces.Count == 0 || groups.Count == 0) throw new ArgumentException("need at least one feature space and one group");
        var loss = torch.zeros(1, device: groups[0].Generated.device).squeeze();
        var velocityRms = torch.zeros_like(loss);
        var scaleRms = new List<Tensor>();
        foreach (var space in spaces)
        {
            var spaceRms = new List<Tensor>();
            foreach (var group in groups)
            {
                var x = ImageFeatures.Apply(space, group.Generated);
                Tensor y, scale;
                GuidanceNegatives? guidance = null;
                using (torch.no_grad())
                {
                    y = ImageFeatures.Apply(space, group.Data);
                    scale = MeanDistance(x.detach(), y).div_(Math.Sqrt(x.shape[1])).clamp_min_(1e-12);
                    if (group.Unconditional is { } u && group.Gamma > 0)
                        guidance = new GuidanceNegatives(ImageFeatures.Apply(space, u) / scale, group.Gamma);
                }
                var dim = x.shape[1];
                var drift = DriftLoss.Compute(field(Math.Sqrt(dim)), x / scale, y / scale, eta, guidance: guidance);
                loss = loss + drift.Loss / (dim * groups.Count);
                velocityRms = velocityRms + drift.VelocityRms / (groups.Count * spaces.Count);
                spaceRms.Add(drift.ScaleRms);
            }
            scaleRms.Add(torch.stack(spaceRms).mean([0]));
        }
        return new FeatureDriftResult(loss, torch.stack(scaleRms), velocityRms);
    }

    /// <summary>Mean Euclidean distance over all pairs (x_i, y_j).</summary>
    public static Tensor MeanDistance(Tensor x, Tensor y) => FieldMath.SquaredDistances(x, y).sqrt_().mean();
}
