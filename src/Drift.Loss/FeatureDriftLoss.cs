using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Loss;

/// <summary>
/// The drift loss for images, computed in one or more feature spaces and separately per group (class),
/// all groups at once. In each space and group the features are divided by a detached scale so that the
/// mean distance between generated and data features is √D; the field's scales are then relative (a
/// temperature τ acts as τ·√D), so one setting serves every space and dataset. Each space's loss is the
/// drift loss divided by D, so spaces of different size weigh alike.
/// </summary>
public static class FeatureDriftLoss
{
    /// <param name="field">The field with relative scales; each space uses it scaled by its √D.</param>
    /// <param name="spaces">The feature spaces (<see cref="FeatureSpace"/>; their maps, <see cref="ImageFeatures"/>).</param>
    /// <param name="groups">G: the image tensors hold G equal blocks of rows, block g for group g.</param>
    /// <param name="generated">[G·B, C, H, W] generated images, with gradient.</param>
    /// <param name="data">[G·P, C, H, W] data images (positives), with their rows where drawn from a space's table.</param>
    /// <param name="unconditional">[G·U, C, H, W] data images of any class, mixed into each group's negatives
    /// with weight <paramref name="gammas"/>[g] (classifier-free guidance); null: none.</param>
    /// <param name="shard">Where <paramref name="generated"/> sits in each group's batch when processes share the
    /// step (its rows of every group); null: it is the whole batch. Feature scales and fields see the whole batch.</param>
    /// <returns>The loss summed over feature spaces (each the per-dimension drift loss, averaged over groups), the
    /// raw field RMS per space and scale [F, S], and the RMS of the combined field averaged over spaces.</returns>
    public static DriftLossResult Compute(IDriftField field, IReadOnlyList<FeatureSpace> spaces, int groups,
        Tensor generated, DataImages data, double eta, DataImages? unconditional = null, double[]? gammas = null, IBatchShard? shard = null) =>
        Compute(field, spaces, groups, FeatureSpace.MapAll(spaces, generated), data, eta, unconditional, gammas, shard);

    /// <summary>As above, from the generated images' features already mapped (<see cref="FeatureSpace.MapAll"/>, one
    /// [G·B, D] tensor a space, with gradient), so that a caller can time the mapping apart from the field.</summary>
    public static DriftLossResult Compute(IDriftField field, IReadOnlyList<FeatureSpace> spaces, int groups,
        IReadOnlyList<Tensor> generatedFeatures, DataImages data, double eta, DataImages? unconditional = null, double[]? gammas = null, IBatchShard? shard = null)
    {
        shard ??= WholeBatch.Instance;
        if (spaces.Count == 0 || groups < 1) throw new ArgumentException("need at least one feature space and one group");
        if (generatedFeatures.Count != spaces.Count) throw new ArgumentException($"{generatedFeatures.Count} feature maps for {spaces.Count} spaces");
        var generatedCount = generatedFeatures[0].shape[0];
        if (generatedCount % groups != 0 || data.Images.shape[0] % groups != 0 || (unconditional is not null && unconditional.Images.shape[0] % groups != 0))
            throw new ArgumentException($"image counts ({generatedCount}, {data.Images.shape[0]}) are not multiples of the {groups} groups");
        if (unconditional is not null && gammas?.Length != groups)
            throw new ArgumentException("unconditional negatives need one guidance weight per group");
        var loss = torch.zeros(1, device: generatedFeatures[0].device).squeeze();
        var velocityRms = torch.zeros_like(loss);
        var scaleRms = new List<Tensor>();
        foreach (var (space, features) in spaces.Zip(generatedFeatures))
        {
            var x = Grouped(features, groups);
            var batch = shard.Gather(x);
            var dim = x.shape[2];
            Tensor y, scale;
            GuidanceNegatives? guidance = null;
            using (torch.no_grad())
            {
                y = Grouped(space.OfData(data), groups);
                scale = FieldMath.SquaredDistances(batch.detach(), y).sqrt_().mean([-2, -1], keepdim: true).div_(Math.Sqrt(dim)).clamp_min_(1e-12);
                if (unconditional is not null)
                    guidance = new GuidanceNegatives(Grouped(space.OfData(unconditional), groups) / scale, gammas!);
            }
            var scaled = x / scale;
            var drift = DriftLoss.Compute(field.Scaled(Math.Sqrt(dim)), scaled, ReferenceEquals(batch, x) ? scaled : batch / scale, y / scale, eta,
                null, guidance, shard);
            loss = loss + drift.Loss / dim;
            velocityRms = velocityRms + drift.VelocityRms / spaces.Count;
            scaleRms.Add(drift.ScaleRms);
        }
        return new DriftLossResult(loss, torch.stack(scaleRms), velocityRms);
    }

    private static Tensor Grouped(Tensor features, int groups) => features.view(groups, features.shape[0] / groups, -1);
}
