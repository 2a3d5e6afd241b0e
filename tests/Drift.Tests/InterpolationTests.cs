using Drift.Train.RunFolders;
using Drift.Train.Training.Images;
using Microsoft.Extensions.Logging.Abstractions;
using StbImageSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Tests;

/// <summary><c>drift sample --interpolate</c>: walks through the noise of a tiny image run.</summary>
[Collection(SeededWeights.Name)]
public sealed class InterpolationTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("drift-interpolation-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    /// <summary>Each row is the generator on the great circle from one drawn noise to another, the points computed here
    /// from the spherical interpolation's formula in float64, a row's images all of its class.</summary>
    [Fact]
    public void AWalkIsTheGeneratorAlongTheGreatCircle()
    {
        var seed = Tensors.Seed();
        var random = new Random(seed);
        var config = new ImageConfig
        {
            Data = TinyImages.Write(Path.Combine(root, "tiny"), seed), Steps = 3, ClassBatch = 6, ClassPositives = 10, Width = 4, NoiseDim = 4,
            Features = ["pixels"], Warmup = 1, Seed = seed,
        };
        var run = Path.Combine(root, "run");
        ImageTrainer.Run(config, run, null, NullLogger.Instance, _ => { }, CancellationToken.None);
        var checkpoint = Checkpoint.Load(run);
        var (rows, steps, scale) = (random.Next(2, 5), random.Next(2, 7), 0.7 + 0.6 * random.NextDouble());
        var (images, labels) = ImageSampling.Interpolate(checkpoint, rows, steps, null, 1.0, seed, CPU, noiseScale: scale);

        using var rng = new Generator((ulong)seed);
        using var drawn = torch.randn([2 * rows, config.NoiseDim], generator: rng).mul_(scale);
        var noise = Reference.Slerp(Tensors.ToArray(drawn.to(float64)), rows, steps);
        var expectedLabels = Enumerable.Range(0, rows * steps).Select(i => (long)(i / steps % 2)).ToArray();
        Assert.Equal(expectedLabels, labels);
        using var model = ImageComponents.Generator(checkpoint.Config<ImageConfig>());
        checkpoint.LoadWeights(model, 1);
        model.eval();
        using var noGrad = torch.no_grad();
        using var expected = model.forward(torch.tensor(noise, [rows * steps, config.NoiseDim]), torch.tensor(expectedLabels), torch.ones(rows * steps));
        var worst = (images - expected).abs().max().item<float>();
        Assert.True(worst <= 1e-5, $"seed {seed}: {rows} walks of {steps}: {worst:g3} from the generator on the formula's noise");
        images.Dispose();

        // Through drift sample: a grid of one walk a row.
        var png = Path.Combine(root, "walk.png");
        var (code, stdout, err) = CliTests.Run("sample", "--checkpoint", run, "--interpolate", $"{steps}", "--n", $"{rows * steps + 1}", "--out", png);
        Assert.True(code == 0, err);
        Assert.Contains($"wrote {rows} walks of {steps} images", stdout);
        var grid = ImageResult.FromMemory(File.ReadAllBytes(png));
        Assert.Equal((steps * (8 + 2) + 2, rows * (8 + 2) + 2), (grid.Width, grid.Height));
    }
}
