using Drift.Data.Images;
using Drift.Loss;
using Drift.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Train.Training.Images;

/// <summary>Builds the generator, the feature spaces and the optimizer an image config names.</summary>
public static class ImageComponents
{
    /// <summary>The generator of a config whose image shape and classes are set (by the trainer, from the data).</summary>
    public static ConvGenerator Generator(ImageConfig c)
    {
        try
        {
            return new ConvGenerator(c.NoiseDim, c.ImageSize, c.Channels, c.Conditional ? c.Classes : 0, c.Width, c.GridBlocks);
        }
        catch (ArgumentException e)
        {
            throw new UserError(e.Message);
        }
    }

    /// <summary>The config's feature spaces; <c>encoder</c> runs the frozen encoder, differentiably in its input, and
    /// looks up its features of the data, computed once for every image of <paramref name="train"/> (uint8 pixels),
    /// each of the run's processes computing its share.</summary>
    public static IReadOnlyList<FeatureSpace> FeatureSpaces(ImageConfig c, Classifier? encoder, Tensor train, IBatchShard processes) =>
        c.Features.Select(f => f != ImageConfig.EncoderSpace ? FeatureSpace.Of(ImageFeatures.Map(f))
            : encoder is null ? throw new UserError("--features encoder needs --encoder DIR")
            : FeatureSpace.Tabulated(encoder.Features, train.shape[0], (start, n) => ImageSet.ToUnit(train.narrow(0, start, n)), shard: processes)).ToArray();

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
        torch.optim.AdamW(model.parameters(), c.PeakLr, beta1: 0.9, beta2: 0.99, weight_decay: c.WeightDecay);
}
