using Drift.Loss;
using Drift.Train.Training;
using Drift.Train.Training.Images;
using Drift.Train.Training.Points;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;

namespace Drift.Tests;

/// <summary>A long run must not grow: whatever a step, an evaluation, a grid or a checkpoint makes is gone by the same
/// point of a later step. Read at steps 13, 33, 53, ... (never a log, evaluation, grid or checkpoint step, so each
/// reading sees the same kind of step), after a full collection, so that only tensors something still holds count.</summary>
[Collection(ProcessTensorCount.Name)]
public sealed class TensorCountTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("drift-tensor-count-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    private readonly List<long> counts = [];

    private void Read(StepReport report)
    {
        if (report.Step % 20 != 13) return;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        // The step's own tensors are still in its dispose scope here (the reading is taken inside the step): they go
        // when the step ends and are left out; what remains is what something outside the step holds.
        var s = DisposeScopeManager.Statistics.TensorStatistics;
        var scoped = s.CreatedInScopeCount + s.AttachedToScopeCount - s.DetachedFromScopeCount - s.DisposedInScopeCount;
        counts.Add(torch.Tensor.TotalCount - scoped);
    }

    /// <summary>The first reading may hold what the first steps set up for good (optimizer moments, warm starts).</summary>
    private void AssertFlat(string run)
    {
        Assert.True(counts.Count >= 5, $"{counts.Count} readings");
        Assert.True(counts.Skip(1).All(c => c == counts[1]), $"{run}: live tensors at steps 13, 33, ...: {string.Join(", ", counts)}");
    }

    [Theory]
    [InlineData("conservative")]
    [InlineData("laplace")]
    [InlineData("sinkhorn")]
    [InlineData("mmd")]
    public void APointsRunHoldsAFixedNumberOfTensors(string field)
    {
        var config = new TrainConfig
        {
            Data = "moons", Field = FieldKind.Named(field), Steps = 120, Batch = 64, Width = 32, Depth = 2, NoiseDim = 4,
            LogEvery = 2, EvalEvery = 20, EvalSamples = 200, CheckpointEvery = 20, Seed = Tensors.Seed(),
        };
        PointsTrainer.Run(config, Path.Combine(root, field), null, NullLogger.Instance, Read, CancellationToken.None);
        AssertFlat($"{field}, seed {config.Seed}");
    }

    /// <summary>Guidance negatives, the FD probe, grids and checkpoints included.</summary>
    [Fact]
    public void AnImageRunHoldsAFixedNumberOfTensors()
    {
        var data = TinyImages.Write(Path.Combine(root, "tiny"));
        var classifier = Path.Combine(root, "classifier");
        var (code, _, err) = CliTests.Run("classifier", "--data", data, "--epochs", "1", "--batch", "16", "--out", classifier);
        Assert.True(code == 0, err);
        var config = new ImageConfig
        {
            Data = data, Field = FieldKind.Laplace, Steps = 120, ClassBatch = 6, ClassPositives = 10, Width = 4, NoiseDim = 4,
            Features = ["pixels", "mean2"], GuidanceMax = 2, UnconditionalNegatives = 4, Warmup = 3, LogEvery = 2,
            Classifier = classifier, EvalEvery = 20, EvalSamples = 10, GridEvery = 20, CheckpointEvery = 20, Seed = Tensors.Seed(),
        };
        ImageTrainer.Run(config, Path.Combine(root, "images"), null, NullLogger.Instance, Read, CancellationToken.None);
        AssertFlat($"image run, seed {config.Seed}");
    }
}
