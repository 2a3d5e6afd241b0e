using Drift.Data;
using Drift.Data.Images;
using Drift.Train.Training;
using Drift.Train.Training.Images;
using TorchSharp;
using Drift.Train.Training.Points;
using static TorchSharp.torch;

namespace Drift.Train.Bench;

/// <summary>A timed training step: its median wall time, the generator's size and forward cost, and the median
/// of each phase (<see cref="StepPhases"/>), timed in separate steps so that the phases' device syncs do not slow
/// the whole step's figure.</summary>
public sealed record StepProfile(double Ms, long Parameters, double GeneratorFlops, IReadOnlyList<(string Phase, double Ms)> Phases);

/// <summary>Whole training steps, timed through the trainers' own <see cref="TrainingLoop.TakeStep"/>: the step
/// that training runs, not a copy of it.</summary>
public static class StepBench
{
    /// <summary>The 2-D default (checkerboard, MLP 256×3, conservative, 4 bandwidths) at this batch size.</summary>
    public static StepProfile Points(int batch, Device device, int repeats)
    {
        var config = new TrainConfig { Batch = batch }.Resolved();
        var data = PointData.Load(config.Data, config.EvalSamples, config.Standardize);
        using var trainer = new PointsTrainer(config, data, data.Scale, device, outDir: "");
        return Profile(trainer.Loop, trainer.Parameters, trainer.GeneratorFlops, device, repeats);
    }

    /// <summary>An image step of <paramref name="config"/> (28×28 grey, 10 classes) on random images: the step's cost
    /// does not depend on what the pixels show.</summary>
    public static StepProfile Image(ImageConfig config, Device device, int repeats)
    {
        const int perClass = 256;
        using var g = new Generator(1);
        var labels = Enumerable.Range(0, 10 * perClass).Select(i => (long)(i % 10)).ToArray();
        using var data = ImageData.InMemory("random", new ImageSet(torch.randint(0, 256, new long[] { labels.Length, 1, 28, 28 }, dtype: ScalarType.Byte, generator: g), labels),
            new ImageSet(torch.randint(0, 256, new long[] { 10, 1, 28, 28 }, dtype: ScalarType.Byte, generator: g), labels[..10]));
        using var trainer = new ImageTrainer(config with { ImageSize = 28, Channels = 1, Classes = 10 }, data, device, outDir: "");
        return Profile(trainer.Loop, trainer.Parameters, trainer.GeneratorFlops, device, repeats);
    }

    private static StepProfile Profile(TrainingLoop loop, long parameters, double flops, Device device, int repeats)
    {
        var ms = Timing.MedianMs(() => loop.TakeStep().Loss, device, repeats);
        var phases = loop.Phases = new StepPhases(device);
        Timing.MedianMs(() => loop.TakeStep().Loss, device, repeats);
        loop.Phases = null;
        return new StepProfile(ms, parameters, flops, phases.Medians());
    }
}
