using Drift.Train;
using Drift.Train.Training;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using Drift.Train.RunFolders;
using Drift.Train.Training.Points;
using static TorchSharp.torch;

namespace Drift.Tests;

/// <summary>A run that stops being finite stops at once with one line, and no NaN reaches a checkpoint;
/// a checkpoint whose weights are not finite is refused with one line wherever it is loaded.</summary>
public class DivergenceTests : IDisposable
{
    private readonly string scratch = Directory.CreateTempSubdirectory("drift-diverge-").FullName;

    public void Dispose() => Directory.Delete(scratch, recursive: true);

    private string NewDir() => Path.Combine(scratch, Guid.NewGuid().ToString("N"));

    [Fact]
    public void ADivergingPointsRunStopsWithOneLineAndKeepsAFiniteCheckpoint()
    {
        var dir = NewDir();
        // Adam moves each weight by about the learning rate per step: 1e30 overflows the next forward pass.
        var (code, _, err) = CliTests.Run("train", "--data", "moons", "--lr", "1e30", "--steps", "20", "--checkpoint-every", "1",
            "--batch", "64", "--width", "32", "--depth", "2", "--eval-every", "1000", "--eval-samples", "100", "--out", dir);
        Assert.Equal(2, code);
        var line = Assert.Single(err.Trim().Split('\n'));
        Assert.StartsWith("drift: error: training diverged", line);
        var saved = Checkpoint.Load(dir);
        Assert.True(saved.Step < 20, $"the run went on to step {saved.Step}");
        using (var model = PointComponents.Generator(saved.Config<TrainConfig>(), 2))
            saved.LoadWeights(model); // throws on non-finite weights
        // Weights that grew too large to give finite points are refused with one line when sampled.
        (code, _, err) = CliTests.Run("sample", "--checkpoint", dir, "--n", "50", "--out", Path.Combine(dir, "s.csv"));
        Assert.True(code == 0 || (code == 2 && Assert.Single(err.Trim().Split('\n')).Contains("non-finite samples")), err);
    }

    [Fact]
    public void NonFiniteLossOrGradientNamesTheStepAndTheKeptCheckpoint()
    {
        var finite = torch.tensor(1f);
        DivergenceGuard.Check(4, finite, finite, finite, 3);
        var e = Assert.Throws<UserError>(() => DivergenceGuard.Check(4, finite, finite, torch.tensor(float.NaN), 3));
        Assert.Contains("diverged at step 5", e.Message);
        Assert.Contains("checkpoint of step 3 is kept", e.Message);
        e = Assert.Throws<UserError>(() => DivergenceGuard.Check(0, torch.tensor(float.PositiveInfinity), finite, finite, null));
        Assert.Contains("no checkpoint was written", e.Message);
        // A loss of 0 is a stalled run where the field is not zero, and where it is, nothing is wrong.
        var zero = torch.tensor(0f);
        e = Assert.Throws<UserError>(() => DivergenceGuard.Check(6, zero, finite, zero, 5));
        Assert.StartsWith("training stalled at step 7: the loss is 0 while the field's RMS is 1,", e.Message);
        Assert.Contains("checkpoint of step 5 is kept", e.Message);
        DivergenceGuard.Check(6, zero, zero, zero, 5);
    }

    /// <summary>A learning rate that throws the samples far past the data without overflowing: every x + ηV rounds back
    /// to x, the loss reads 0 and nothing can move again. The run stops saying so, before its first checkpoint; so does one
    /// whose --eta is too small to move anything.</summary>
    [Fact]
    public void ARunWhoseDriftRoundsAwayStopsWithOneLine()
    {
        var dir = NewDir();
        // The default generator (256×3): its first Adam steps of 50 throw the samples out of reach (a 32×2 one recovers).
        var (code, _, err) = CliTests.Run("train", "--data", "rings", "--lr", "50", "--steps", "200", "--checkpoint-every", "100",
            "--eval-every", "1000", "--eval-samples", "100", "--seed", $"{Tensors.Seed()}", "--out", dir);
        Assert.Equal(2, code);
        var line = Assert.Single(err.Trim().Split('\n'));
        Assert.Matches("^drift: error: training stalled at step [0-9]+: the loss is 0 while the field's RMS is .*; no checkpoint was written$", line);
        Assert.False(File.Exists(Path.Combine(dir, RunFiles.Checkpoint)));
        // A drift size too small to register anywhere near the data stalls at once. (At 1e-12 it does so within a few steps
        // for most seeds, not all: while some samples lie near 0 float32 keeps some of the drift, and Adam's steps, scaled
        // by the gradient's own size, go on.)
        (code, _, err) = CliTests.Run("train", "--data", "rings", "--eta", "1e-30", "--steps", "20", "--eval-samples", "100", "--seed", $"{Tensors.Seed()}", "--out", NewDir());
        Assert.Equal(2, code);
        Assert.StartsWith("drift: error: training stalled at step 1: the loss is 0", Assert.Single(err.Trim().Split('\n')));
    }

    [Fact]
    public void GradientNormIsTheNormOfAllGradients()
    {
        var (g, seed) = Tensors.Fresh();
        var a = new TorchSharp.Modules.Parameter(torch.randn([3, 4], generator: g));
        var b = new TorchSharp.Modules.Parameter(torch.randn([5], generator: g));
        (a.square().sum() * 2 + b.sum() * 3).backward();
        var expected = Math.Sqrt(a.detach().mul(4).square().sum().item<float>() + 5 * 9);
        var actual = DivergenceGuard.GradientNorm([a, b]).item<float>();
        Assert.True(Math.Abs(actual - expected) < 1e-5 * expected, $"seed {seed}: {actual} vs {expected}");
    }

    [Fact]
    public void SampleAndEvalRefuseACheckpointWithNaNWeights()
    {
        var dir = NewDir();
        var config = new TrainConfig { Data = "moons", Steps = 5, Batch = 64, Width = 32, Depth = 2, NoiseDim = 4, EvalSamples = 100, Seed = Tensors.Seed() };
        PointsTrainer.Run(config, dir, null, NullLogger.Instance, _ => { }, CancellationToken.None);
        using (var model = PointComponents.Generator(config.Resolved(), 2))
            PoisonWeights(dir, model);

        foreach (var args in new[] { new[] { "sample", "--checkpoint", dir, "--out", Path.Combine(dir, "s.csv") }, ["eval", "--checkpoint", dir] })
        {
            var (code, _, err) = CliTests.Run(args);
            Assert.Equal(2, code);
            Assert.Contains("non-finite weights", Assert.Single(err.Trim().Split('\n')));
        }
    }

    /// <summary>Overwrites one float of the checkpoint's last weight matrix with NaN in place, as a diverged
    /// writer would; <paramref name="model"/> is a model of the run's shape, <paramref name="index"/>
    /// which saved module to poison (1: an image run's EMA copy, which sampling uses).</summary>
    internal static void PoisonWeights(string dir, nn.Module model, int index = 0)
    {
        Checkpoint.Load(dir).LoadWeights(model, index);
        var last = model.parameters().Last(p => p.dim() == 2);
        var bytes = last.detach().contiguous().data<float>().ToArray().SelectMany(BitConverter.GetBytes).ToArray();
        var path = Path.Combine(dir, RunFiles.Checkpoint);
        var file = File.ReadAllBytes(path);
        var at = file.AsSpan().IndexOf(bytes);
        Assert.True(at >= 0, "the weights' bytes were not found in the checkpoint");
        BitConverter.GetBytes(float.NaN).CopyTo(file, at);
        // Sealed again, as the writer would have: the checksum (last 32 bytes) matches, so only the NaN check can catch it.
        System.Security.Cryptography.SHA256.HashData(file.AsSpan(0, file.Length - 32)).CopyTo(file, file.Length - 32);
        File.WriteAllBytes(path, file);
    }
}
