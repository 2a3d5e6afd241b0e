using TorchSharp;
using Drift.Train.RunFolders;
using static TorchSharp.torch;

namespace Drift.Train.Training.Images;

/// <summary>Draws images from an image run's checkpoint: EMA weights unless asked otherwise.</summary>
public static class ImageSampling
{
    /// <param name="classLabel">Every image of this class; null: classes in turn (a conditional generator) or none.</param>
    /// <param name="noiseScale">The noise's scale (<see cref="SamplingNoise"/>): 1 samples the distribution the generator trained on.</param>
    /// <returns>Float images [n, C, H, W] in [−1, 1] on the CPU, and the class each was drawn for (−1: none).</returns>
    public static (Tensor Images, long[] Labels) Generate(Checkpoint checkpoint, int n, int? classLabel, double guidance, long seed,
        Device device, bool useEma = true, double noiseScale = 1, int batch = 1000)
    {
        var config = checkpoint.Config<ImageConfig>();
        if (classLabel is { } c && (!config.Conditional || c < 0 || c >= config.Classes))
            throw new UserError(config.Conditional ? $"--class {c}: the run has classes 0 to {config.Classes - 1}"
                : "--class: this run's generator is unconditional");
        if (!(guidance >= 1) || double.IsInfinity(guidance)) throw new UserError($"--guidance must be at least 1, got {guidance}");
        // Past the scales it trained at, the generator's guidance input was never fitted: its images there mean nothing.
        if (guidance > config.GuidanceMax)
            throw new UserError(config.GuidanceMax > 1 ? $"--guidance {guidance:g}: this run trained at scales from 1 to {config.GuidanceMax:g} (--guidance-max)"
                : $"--guidance {guidance:g}: this run trained without guidance (--guidance-max 1), so its only scale is 1");
        using var model = ImageComponents.Generator(config);
        checkpoint.LoadWeights(model, useEma ? 1 : 0);
        model.to(device);
        model.eval();

        var labels = Enumerable.Range(0, n).Select(i => config.Conditional ? classLabel ?? (long)(i % config.Classes) : -1L).ToArray();
        using var rng = new Generator((ulong)seed);
        var parts = new List<Tensor>();
        for (var start = 0; start < n; start += batch)
        {
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            var count = Math.Min(batch, n - start);
            var noise = SamplingNoise.Draw(count, config.NoiseDim, rng, noiseScale).to(device);
            var inputLabels = torch.tensor(labels[start..(start + count)].Select(l => l < 0 ? config.GeneratorClasses : l).ToArray()).to(device);
            var images = model.forward(noise, inputLabels, torch.full(count, guidance, device: device));
            parts.Add(images.cpu().MoveToOuterDisposeScope());
        }
        var all = torch.cat(parts, 0);
        foreach (var p in parts) p.Dispose();
        NonFiniteGuard.CheckSamples(all, checkpoint.FilePath);
        return (all, labels);
    }
}
