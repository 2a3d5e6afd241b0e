using Drift.Data.Images;
using Drift.Loss;
using Drift.Models;
using Drift.Train.RunFolders;
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
            return new ConvGenerator(c.NoiseDim, c.ImageSize, c.Channels, c.GeneratorClasses, c.Width, c.GridBlocks);
        }
        catch (ArgumentException e)
        {
            throw new UserError(e.Message);
        }
    }

    /// <summary>The config's feature spaces; <c>encoder</c> and <c>encoder-mapk</c> run the frozen encoder, differentiably
    /// in its input, one pass a step for all of them, and look up its values on the data, computed in one pass over every
    /// image of <paramref name="train"/> (uint8 pixels), each of the run's processes computing its share.</summary>
    public static IReadOnlyList<FeatureSpace> FeatureSpaces(ImageConfig c, Classifier? encoder, Tensor train, IBatchShard processes)
    {
        var encoderSpaces = c.Features.Where(ImageConfig.IsEncoderSpace).Distinct().ToArray();
        FeatureSpace[] tabulated = [];
        if (encoderSpaces.Length > 0)
        {
            if (encoder is null) throw new UserError($"--features {encoderSpaces[0]} needs --encoder DIR");
            var reads = encoderSpaces.Select(f => Readout(encoder, f)).ToArray();
            // Every process holds the whole table: refused here rather than killed by the kernel part-way through it.
            if (c.Device == "cpu")
                MemoryBudget.Check(TableBytes(encoder, reads, train), $"the table of the encoder spaces over the {train.shape[0]} training images",
                    "use fewer encoder spaces (encoder-map1 holds the most)");
            // A training step's generated images (640 by default) go through the encoder in chunks where their maps overfill
            // a heap block, as the generator's do (HeapBatch.Pass); the table's batches fit one.
            var largest = encoder.LargestMap();
            Tensor[] Trunk(Tensor images) =>
                HeapBatch.Pass(images.shape[0], largest, images.device, (start, n) => encoder.MapsAndFeatures(images.narrow(0, start, n)));
            tabulated = FeatureSpace.Tabulated(reads, Trunk, train.shape[0],
                (start, n) => ImageSet.ToUnit(train.narrow(0, start, n)), HeapBatch.Images(largest, train.device, most: 500), processes);
        }
        return c.Features.Select(f => ImageConfig.IsEncoderSpace(f) ? tabulated[Array.IndexOf(encoderSpaces, f)] : FeatureSpace.Of(ImageFeatures.Map(f))).ToArray();
    }

    /// <summary>The bytes of the tables of <paramref name="reads"/> over every image of <paramref name="train"/>: their
    /// widths, read from the encoder's pass over one image, in float32.</summary>
    public static double TableBytes(Classifier encoder, IReadOnlyList<Func<Tensor[], Tensor>> reads, Tensor train)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var outputs = encoder.MapsAndFeatures(ImageSet.ToUnit(train.narrow(0, 0, 1)));
        return 4.0 * train.shape[0] * reads.Sum(read => read(outputs).shape[1]);
    }

    /// <summary>A space's features read from the encoder's <see cref="Classifier.MapsAndFeatures"/>.</summary>
    public static Func<Tensor[], Tensor> Readout(Classifier encoder, string space)
    {
        var (k, statistic) = ImageConfig.EncoderMap(space);
        if (k > encoder.MapCount) throw new UserError($"--features {space}: the encoder has {encoder.MapCount} maps");
        if (k == 0) return outputs => outputs[^1];
        if (statistic is null) return outputs => outputs[k - 1].flatten(1);
        // Both architectures halve the grid at each max-pool.
        var side = encoder.ImageSize >> k;
        try { ImageFeatures.Check(statistic, side); }
        catch (ArgumentException) { throw new UserError($"--features {space}: its patches do not tile map {k}, a {side}×{side} grid"); }
        return outputs => ImageFeatures.Apply(statistic, outputs[k - 1]);
    }

    /// <summary>The frozen encoder of <c>--encoder DIR</c>, checked against the run's image shape.</summary>
    public static Classifier? Encoder(ImageConfig c, Device device)
    {
        if (c.Encoder is null || !c.Features.Any(ImageConfig.IsEncoderSpace)) return null;
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
