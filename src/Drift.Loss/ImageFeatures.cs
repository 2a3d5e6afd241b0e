using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Loss;

/// <summary>
/// The spaces an image field is computed in, all differentiable maps of the image [B, C, H, W] to
/// [B, D]: <c>pixels</c>; <c>meanK</c>, the K×K patch means (average pooling); <c>stdK</c>, the K×K patch
/// standard deviations. Patch statistics at several scales are the input features of the original
/// drifting paper; coarse means let the field see shapes that pixel distances blur out.
/// </summary>
public static class ImageFeatures
{
    /// <summary>The named space as a map, for <see cref="FeatureDriftLoss"/>.</summary>
    public static Func<Tensor, Tensor> Map(string space)
    {
        Check(space, 0);
        return images => Apply(space, images);
    }

    public static Tensor Apply(string space, Tensor images)
    {
        var b = images.shape[0];
        if (space == "pixels") return images.reshape(b, -1);
        var (kind, k) = Parse(space);
        var mean = nn.functional.avg_pool2d(images, k, k);
        if (kind == "mean") return mean.reshape(b, -1);
        var meanSq = nn.functional.avg_pool2d(images.pow(2), k, k);
        // The small floor keeps the gradient of sqrt finite on flat patches.
        return (meanSq - mean.pow(2)).clamp_min(0).add(1e-4).sqrt().reshape(b, -1);
    }

    /// <summary>Throws an <see cref="ArgumentException"/> naming a space that is unknown or does not tile the
    /// image (size 0: not checked).</summary>
    public static void Check(string space, int imageSize)
    {
        if (space == "pixels") return;
        var (_, k) = Parse(space);
        if (imageSize > 0 && imageSize % k != 0) throw new ArgumentException($"feature {space}: {k}×{k} patches do not tile {imageSize}-pixel images");
    }

    /// <summary>Whether <paramref name="space"/> is a patch statistic, meanK or stdK (K ≥ 2).</summary>
    public static bool IsPatchStatistic(string space) => TryParse(space) is not null;

    private static (string Kind, int K) Parse(string space) =>
        TryParse(space) ?? throw new ArgumentException($"unknown feature space '{space}': use pixels, meanK or stdK (K ≥ 2, e.g. mean2, std4)");

    private static (string Kind, int K)? TryParse(string space)
    {
        foreach (var kind in new[] { "mean", "std" })
            if (space.StartsWith(kind, StringComparison.Ordinal) && int.TryParse(space.AsSpan(kind.Length), out var k) && k >= 2)
                return (kind, k);
        return null;
    }
}
