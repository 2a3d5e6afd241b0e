using TorchSharp;
using Drift.Models;
using Drift.Train.RunFolders;
using static TorchSharp.torch;

namespace Drift.Train.Training.Images;

/// <summary>Draws images from an image run's checkpoint: EMA weights unless asked otherwise.</summary>
public static class ImageSampling
{
    /// <param name="classLabel">Every image of this class; null: classes in turn (a conditional generator) or none.</param>
    /// <param name="noiseScale">The noise's scale (<see cref="SamplingNoise"/>): 1 samples the distribution the generator trained on.</param>
    /// <param name="drawn">Told the images made so far after each batch.</param>
    /// <returns>Float images [n, C, H, W] in [−1, 1] on the CPU, and the class each was drawn for (−1: none).</returns>
    public static (Tensor Images, long[] Labels) Generate(Checkpoint checkpoint, int n, int? classLabel, double guidance, long seed,
        Device device, bool useEma = true, double noiseScale = 1, Action<long>? drawn = null)
    {
        var config = checkpoint.Config<ImageConfig>();
        var labels = Enumerable.Range(0, n).Select(i => config.Conditional ? classLabel ?? (long)(i % config.Classes) : -1L).ToArray();
        using var rng = new Generator((ulong)seed);
        return Forward(checkpoint, labels, classLabel, guidance, device, useEma, count => SamplingNoise.Draw(count, config.NoiseDim, rng, noiseScale), drawn);
    }

    /// <summary>
    /// Walks through the noise: <paramref name="rows"/> rows of <paramref name="steps"/> images, each row from one noise
    /// a to another b along the great circle between them (spherical interpolation,
    ///
    ///     z(t) = sin((1 − t) θ) / sin θ · a + sin(t θ) / sin θ · b,   cos θ = a·b / (|a| |b|),   t = 0, 1/(steps − 1), …, 1,
    ///
    /// which keeps a walk at the norm typical of Gaussian noise, where a straight line would cut through the low-norm
    /// middle the generator never saw). The a of all rows are drawn from the seed first, then the b. A row's images are of
    /// one class (<paramref name="classLabel"/>, or classes in turn by row), so a smooth row is a smooth generator.
    /// </summary>
    public static (Tensor Images, long[] Labels) Interpolate(Checkpoint checkpoint, int rows, int steps, int? classLabel, double guidance, long seed,
        Device device, bool useEma = true, double noiseScale = 1, Action<long>? drawn = null)
    {
        var config = checkpoint.Config<ImageConfig>();
        if (steps < 2) throw new UserError($"--interpolate needs at least 2 images a row, got {steps}");
        var labels = Enumerable.Range(0, rows * steps).Select(i => config.Conditional ? classLabel ?? (long)(i / steps % config.Classes) : -1L).ToArray();
        using var rng = new Generator((ulong)seed);
        using var ends = SamplingNoise.Draw(2 * rows, config.NoiseDim, rng, noiseScale).to(float64);
        using var walk = Slerp(ends.narrow(0, 0, rows), ends.narrow(0, rows, rows), steps).to(float32);
        return Forward(checkpoint, labels, classLabel, guidance, device, useEma, Rows(walk), drawn);
    }

    /// <summary>[rows·steps, dim]: row r walks from a[r] to b[r] in <paramref name="steps"/> spherical steps (float64;
    /// where a and b point the same way, the straight line, the limit of the formula).</summary>
    private static Tensor Slerp(Tensor a, Tensor b, int steps)
    {
        using var scope = torch.NewDisposeScope();
        var cos = ((a * b).sum(1) / (a.norm(1) * b.norm(1))).clamp(-1, 1);
        var theta = cos.acos().unsqueeze(1).unsqueeze(1);
        var t = torch.linspace(0, 1, steps, dtype: float64).view(1, steps, 1);
        var sin = theta.sin();
        var straight = sin < 1e-12;
        var wa = torch.where(straight, 1 - t, ((1 - t) * theta).sin() / sin);
        var wb = torch.where(straight, t, (t * theta).sin() / sin);
        return (wa * a.unsqueeze(1) + wb * b.unsqueeze(1)).reshape(-1, a.shape[1]).MoveToOuterDisposeScope();
    }

    /// <summary>The checkpoint's generator on the noise <paramref name="noise"/> hands out, for the given labels (−1: none),
    /// checked before a single image is made.</summary>
    private static (Tensor Images, long[] Labels) Forward(Checkpoint checkpoint, long[] labels, int? classLabel, double guidance, Device device,
        bool useEma, Func<int, Tensor> noise, Action<long>? drawn)
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
        var images = Draw(model, labels, guidance, device, noise, drawn);
        DivergenceGuard.CheckSamples(images, checkpoint.FilePath);
        return (images, labels);
    }

    /// <summary>A generator's images [n, C, H, W] on the CPU for <paramref name="labels"/> (−1: none) and the noise
    /// <paramref name="noise"/>(count) hands out in order, a batch of <see cref="HeapBatch"/>'s size at a time,
    /// <paramref name="drawn"/> told the images made after each.</summary>
    public static Tensor Draw(ConvGenerator model, long[] labels, double guidance, Device device, Func<int, Tensor> noise, Action<long>? drawn = null)
    {
        var n = labels.Length;
        var batch = HeapBatch.Images(model.LargestMap(), device);
        // Every batch's images go straight into one tensor made for all of them. Kept batch by batch instead (then
        // concatenated: every image twice), each batch's images sat among its freed activations, which later batches did
        // not reuse: 60,000 images of a width-8 generator peaked at 4.1 GB and took 36 s, now 1.5 GB and 15 s (width 64,
        // 20,000 images: 4.2 GB, now 3.3 GB).
        Tensor? all = null;
        for (var start = 0; start < n; start += batch)
        {
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            var count = Math.Min(batch, n - start);
            var input = noise(count).to(device);
            var inputLabels = torch.tensor(labels[start..(start + count)].Select(l => l < 0 ? model.Classes : l).ToArray()).to(device);
            var images = model.forward(input, inputLabels, torch.full(count, guidance, device: device));
            all ??= torch.empty([n, .. images.shape[1..]], images.dtype).MoveToOuterDisposeScope();
            all.narrow(0, start, count).copy_(images);
            drawn?.Invoke(start + count);
        }
        return all!;
    }

    /// <summary>Hands out <paramref name="noise"/>'s rows in order, as many as asked each call.</summary>
    public static Func<int, Tensor> Rows(Tensor noise)
    {
        var next = 0L;
        return count =>
        {
            var part = noise.narrow(0, next, count);
            next += count;
            return part;
        };
    }
}
