using Drift.Loss;
using Drift.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Train.Training.Images;

/// <summary>Builds the field, the generator and the optimizer an image config names.</summary>
public static class ImageComponents
{
    /// <param name="multiplier">√D of the feature space: the config's scales are relative to it.</param>
    public static IDriftField Field(ImageConfig c, double multiplier) => c.Field switch
    {
        "conservative" => new ConservativeField(c.Bandwidths.Select(h => h * multiplier),
            c.SelfTerm == "include" ? SelfTerm.Include : SelfTerm.Exclude, c.NormalizeScales),
        "laplace" => new LaplaceField(c.Temperatures.Select(t => t * multiplier), c.NormalizeScales),
        _ => throw new UserError($"unknown field '{c.Field}'"),
    };

    /// <summary>The generator of a config whose image shape and classes are set (by the trainer, from the data).</summary>
    public static ConvGenerator Generator(ImageConfig c)
    {
        try
        {
            return new ConvGenerator(c.NoiseDim, c.ImageSize, c.Channels, c.Conditional ? c.Classes : 0, c.Width);
        }
        catch (ArgumentException e)
        {
            throw new UserError(e.Message);
        }
    }

    /// <summary>The config's feature spaces as maps; <c>encoder</c> runs the frozen encoder, differentiably in its input.</summary>
    public static IReadOnlyList<Func<Tensor, Tensor>> FeatureMaps(ImageConfig c, Classifier? encoder) =>
        c.Features.Select(f => f == ImageConfig.EncoderSpace
            ? encoder is null ? throw new UserError("--features encoder needs --encoder DIR") : (Func<Tensor, Tensor>)encoder.Features
            : ImageFeatures.Map(f)).ToArray();

    /// <summary>The frozen encoder of <c>--encoder DIR</c>, checked against the run's image shape.</summary>
    public static Classifier? Encoder(ImageConfig c, Device device)
    {
        if (c.Encoder is null || !c.Features.Contains(ImageConfig.EncoderSpace)) return null;
        var (info, model) = ClassifierFile.Load(c.Encoder);
        if ((info.ImageSize, info.Channels) != (c.ImageSize, c.Channels))
        {
            model.Dispose();
            throw new UserError($"--encoder {c.Encoder} takes {info.Channels}×{info.ImageSize}² images, the run makes {c.Channels}×{c.ImageSize}²");
        }
        foreach (var p in model.parameters()) p.requires_grad_(false);
        model.to(device);
        return model;
    }

    public static TorchSharp.Modules.AdamW Optimizer(ImageConfig c, ConvGenerator model) =>
        torch.optim.AdamW(model.parameters(), c.Lr, beta1: 0.9, beta2: 0.99, weight_decay: c.WeightDecay);

    /// <summary>Linear warm-up to --lr, then cosine decay to zero at the last step (or constant).</summary>
    public static double LearningRate(ImageConfig c, long step)
    {
        if (step < c.Warmup) return c.Lr * (step + 1) / c.Warmup;
        if (c.LrSchedule == "constant") return c.Lr;
        var progress = (double)(step - c.Warmup) / Math.Max(1, c.Steps - c.Warmup);
        return c.Lr * 0.5 * (1 + Math.Cos(Math.PI * Math.Min(1, progress)));
    }

    /// <summary>Moves each EMA weight a step towards the trained one. Early on the decay is lowered to
    /// (1 + step)/(10 + step), so the average is not dominated by the random initial weights.</summary>
    public static void UpdateEma(ConvGenerator ema, ConvGenerator model, double decay, long step)
    {
        using var noGrad = torch.no_grad();
        var d = Math.Min(decay, (1.0 + step) / (10.0 + step));
        foreach (var (e, p) in ema.parameters().Zip(model.parameters()))
            e.mul_(d).add_(p.detach(), alpha: 1 - d);
    }
}
