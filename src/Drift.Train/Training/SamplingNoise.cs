using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Train.Training;

/// <summary>
/// The noise a saved generator is sampled from: standard normal, times a scale (1 by default, the distribution it
/// trained on). The scale is the truncation dial of one-step generators: below 1 the samples crowd towards the
/// generator's typical outputs (precision up, recall down), above 1 they spread (recall up, precision down); on
/// Fashion-MNIST it moved both in every feature space measured (docs/quality.md, "The noise scale").
/// </summary>
public static class SamplingNoise
{
    /// <summary>Far past any useful scale (at 1.35 the Fashion-MNIST samples lost 0.11–0.13 of their pixel precision), but bounded.</summary>
    public const double MaxScale = 10;

    public static void Check(double scale)
    {
        if (!(scale > 0 && scale <= MaxScale)) throw new UserError($"--noise-scale must be positive and at most {MaxScale:g3}, got {scale}");
    }

    /// <summary>For titles and reports: nothing at the default scale, else ", noise scale S".</summary>
    public static string Note(double scale) => scale == 1 ? "" : $", noise scale {scale:g3}";

    /// <summary>[count, dim] noise from <paramref name="rng"/>, scaled; a scale of 1 leaves every value as drawn.</summary>
    public static Tensor Draw(long count, int dim, Generator rng, double scale) =>
        torch.randn([count, dim], generator: rng).mul_(scale);
}
