using Drift.Loss;
using Microsoft.Extensions.Logging.Abstractions;
using Drift.Train.RunFolders;
using Drift.Train.Training.Points;
using static Drift.Tests.Tensors;

namespace Drift.Tests;

/// <summary>The Sinkhorn field's iteration counts: what a plan took, counted against an independent count of the same
/// plans, and the columns a training run logs from them.</summary>
public class SinkhornCountTests
{
    [Fact]
    public void PlansAreCountedAsTheyConvergeOrHitTheCap()
    {
        var (g, seed) = Fresh();
        var x = Randn(g, 60, 2);
        var pos = Randn(g, 70, 2) + 0.3;
        var state = new SinkhornState();
        // A wide bandwidth converges within the cap; a narrow one with a cap of 20 cannot, for the plan to the data (each
        // scale has two plans; the batch's plan to itself takes the symmetric updates, which converge within a few).
        new SinkhornField([3.0, 0.02], iterations: 20, state: state).Compute(x, pos);
        var counts = state.TakeCounts(2);
        Assert.True(counts[0] is > 0 and < 20, $"seed {seed}: the wide plan took {counts[0]} iterations");
        Assert.Equal(20, counts[1]);
        Assert.Equal(1, counts[2]);
        Assert.Equal([0.0, 0.0, 0.0], state.TakeCounts(2));

        // A plan that needs several blocks: capped at what it reports, it converges; one block (10 iterations) less, not.
        var needed = new SinkhornState();
        new SinkhornField([0.5], iterations: 1000, state: needed).Compute(x, pos);
        var iterations = (int)needed.TakeCounts(1)[0];
        Assert.True(iterations > 10, $"seed {seed}: {iterations} iterations");
        foreach (var (cap, unconverged) in new[] { (iterations, 0.0), (iterations - 10, 1.0) })
        {
            var again = new SinkhornState();
            new SinkhornField([0.5], iterations: cap, state: again).Compute(x, pos);
            var left = again.TakeCounts(1)[1];
            Assert.True(unconverged > 0 ? left > 0 : left == 0, $"seed {seed}: capped at {cap} of the {iterations} iterations counted, {left} unconverged");
        }
    }

    [Fact]
    public void ASinkhornRunLogsItsIterationsPerScale()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"drift-sinkhorn-counts-{Guid.NewGuid():N}");
        var config = new TrainConfig { Data = "moons", Field = FieldKind.Sinkhorn, Steps = 6, Batch = 64, Width = 16, Depth = 1, LogEvery = 2, EvalEvery = 100,
            EvalSamples = 100, Bandwidths = [0.5, 2.0], Seed = Seed() };
        PointsTrainer.Run(config, dir, null, NullLogger.Instance, _ => { }, CancellationToken.None);
        var lines = File.ReadAllLines(Path.Combine(dir, RunFiles.Metrics));
        Assert.EndsWith(",sinkhorn_iterations_0.5,sinkhorn_iterations_2,sinkhorn_unconverged", lines[0]);
        foreach (var row in lines.Skip(1))
        {
            var counts = row.Split(',')[^3..].Select(double.Parse).ToArray();
            Assert.True(counts[0] is >= 10 and <= SinkhornField.DefaultIterations && counts[1] is >= 10 and <= SinkhornField.DefaultIterations, row);
        }
        // The cap is the run's to set (--sinkhorn-iterations); config.json keeps it, and leaves it out when not set.
        Assert.DoesNotContain("sinkhornIterations", File.ReadAllText(Path.Combine(dir, RunFiles.Config)));
        var capped = dir + "-capped";
        PointsTrainer.Run(config with { SinkhornIterations = 5, Bandwidths = [0.05, 2.0] }, capped, null, NullLogger.Instance, _ => { }, CancellationToken.None);
        Assert.Contains("\"sinkhornIterations\": 5", File.ReadAllText(Path.Combine(capped, RunFiles.Config)));
        foreach (var row in File.ReadAllLines(Path.Combine(capped, RunFiles.Metrics)).Skip(1))
        {
            var counts = row.Split(',')[^3..].Select(double.Parse).ToArray();
            // The narrow plan to the data cannot converge in 5 iterations, and never takes more.
            Assert.True(counts[0] == 5 && counts[1] <= 5 && counts[2] >= 2, row);
        }
        Directory.Delete(capped, recursive: true);

        // A run of another field logs no such columns.
        var other = dir + "-conservative";
        PointsTrainer.Run(config with { Field = FieldKind.Conservative }, other, null, NullLogger.Instance, _ => { }, CancellationToken.None);
        Assert.DoesNotContain("sinkhorn", File.ReadLines(Path.Combine(other, RunFiles.Metrics)).First());
        Directory.Delete(dir, recursive: true);
        Directory.Delete(other, recursive: true);
    }
}
