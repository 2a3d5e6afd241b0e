using Drift.Data;
using Drift.Data.Images;
using Drift.Train.Training;
using Drift.Train.Training.Images;
using TorchSharp;
using Drift.Train.Training.Points;
using static TorchSharp.torch;

namespace Drift.Train.Bench;

/// <summary>A timed training step: its median wall time, the samples it generates, the generator's size and forward
/// cost, the encoder's forward cost over the generated images (0 without an encoder space), and the median of each
/// phase (<see cref="StepPhases"/>), timed in separate steps so that the phases' device syncs do not slow the whole
/// step's figure.</summary>
public sealed record StepProfile(double Ms, long Generated, long Parameters, double GeneratorFlops, double EncoderFlops, IReadOnlyList<(string Phase, double Ms)> Phases);

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
        return Profile(trainer.Loop, batch, trainer.Parameters, trainer.GeneratorFlops, 0, device, repeats);
    }

    /// <summary>An image step of <paramref name="config"/> on random images of its size, channels and classes (28×28
    /// grey and 10 where it leaves them unset), 256 a class: the step's cost does not depend on what the pixels show.</summary>
    public static StepProfile Image(ImageConfig config, Device device, int repeats)
    {
        const int perClass = 256;
        config = config with
        {
            ImageSize = config.ImageSize > 0 ? config.ImageSize : 28,
            Channels = config.Channels > 0 ? config.Channels : 1,
            Classes = config.Classes > 0 ? config.Classes : 10,
        };
        using var g = new Generator(1);
        var labels = Enumerable.Range(0, config.Classes * perClass).Select(i => (long)(i % config.Classes)).ToArray();
        ImageSet Random(int n) => new(torch.randint(0, 256, new long[] { n, config.Channels, config.ImageSize, config.ImageSize }, dtype: ScalarType.Byte, generator: g), labels[..n]);
        using var data = ImageData.InMemory("random", Random(labels.Length), Random(config.Classes));
        using var trainer = new ImageTrainer(config, data, device, outDir: "");
        return Profile(trainer.Loop, trainer.Groups * trainer.PerGroup, trainer.Parameters, trainer.GeneratorFlops, trainer.EncoderFlops, device, repeats);
    }

    private static StepProfile Profile(TrainingLoop loop, long generated, long parameters, double flops, double encoderFlops, Device device, int repeats)
    {
        var ms = Timing.MedianMs(() => loop.TakeStep().Loss, device, repeats);
        var phases = loop.Phases = new StepPhases(device);
        Timing.MedianMs(() => loop.TakeStep().Loss, device, repeats);
        loop.Phases = null;
        return new StepProfile(ms, generated, parameters, flops, encoderFlops, phases.Medians());
    }
}
