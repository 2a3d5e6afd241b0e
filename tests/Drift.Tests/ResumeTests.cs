using Drift.Loss;
using Drift.Train;
using Microsoft.Extensions.Logging.Abstractions;
using Drift.Train.RunFolders;
using Drift.Train.Training.Points;

namespace Drift.Tests;

/// <summary>A run that stops and resumes must end exactly where the uninterrupted run ends.</summary>
[Collection(SeededWeights.Name)]
public class ResumeTests : IDisposable
{
    private readonly string scratch = Directory.CreateTempSubdirectory("drift-resume-").FullName;

    public void Dispose() => Directory.Delete(scratch, recursive: true);

    private static TrainConfig Small(string field) => new()
    {
        Data = "moons", Field = FieldKind.Named(field), Steps = 30, Batch = 64, Width = 32, Depth = 2, NoiseDim = 4,
        LogEvery = 5, EvalEvery = 10, EvalSamples = 200, CheckpointEvery = 7, Seed = Tensors.Seed(),
    };

    private string NewDir() => Path.Combine(scratch, Guid.NewGuid().ToString("N"));

    /// <summary>Every metric column but wall time.</summary>
    private static string[] Metrics(string dir) => File.ReadAllLines(Path.Combine(dir, RunFiles.Metrics))
        .Select(l => l.Split(',')).Select(c => string.Join(',', c.Take(1).Concat(c.Skip(2)))).ToArray();

    [Fact]
    public void GracefulInterruptionThenResumeReproducesTheUninterruptedRun()
    {
        var config = Small("laplace");
        var whole = NewDir();
        var full = PointsTrainer.Run(config, whole, null, NullLogger.Instance, _ => { }, CancellationToken.None);

        var split = NewDir();
        using var stop = new CancellationTokenSource();
        var first = PointsTrainer.Run(config, split, null, NullLogger.Instance, r => { if (r.Step == 17) stop.Cancel(); }, stop.Token);
        Assert.True(first.Interrupted);
        Assert.Equal(17, Checkpoint.Load(split).Step);
        var second = PointsTrainer.Run(config, split, Checkpoint.Load(split), NullLogger.Instance, _ => { }, CancellationToken.None);

        Assert.Equal(Metrics(whole), Metrics(split));
        Assert.Equal(full.Energy, second.Energy);
        Assert.Equal(30, second.Step);
    }

    [Fact]
    public void CrashThenResumeFromTheLastCheckpointReproducesTheUninterruptedRun()
    {
        var config = Small("conservative");
        var whole = NewDir();
        PointsTrainer.Run(config, whole, null, NullLogger.Instance, _ => { }, CancellationToken.None);

        var split = CrashedAtStep17(config);
        Assert.Equal(14, Checkpoint.Load(split).Step);
        Assert.Contains(Metrics(split), row => row.StartsWith("15,"));
        PointsTrainer.Run(config, split, Checkpoint.Load(split), NullLogger.Instance, _ => { }, CancellationToken.None);

        Assert.Equal(Metrics(whole), Metrics(split));
    }

    [Fact]
    public void ARunWritesItsConfigCheckpointMetricsAndPlots()
    {
        var config = Small("conservative") with { Steps = 10 };
        var dir = NewDir();
        var result = PointsTrainer.Run(config, dir, null, NullLogger.Instance, _ => { }, CancellationToken.None);
        foreach (var file in new[] { RunFiles.Checkpoint, RunFiles.Config, RunFiles.Metrics, RunFiles.SamplesPlot, RunFiles.CurvesPlot })
            Assert.True(new FileInfo(Path.Combine(dir, file)).Length > 0, $"{file} missing or empty");
        Assert.Equal(config.Resolved().ToJson(), ConfigJson.Load<TrainConfig>(Path.Combine(dir, RunFiles.Config)).ToJson());
        Assert.True(double.IsFinite(result.Energy) && result.Energy >= 0);
        Assert.True(result.Floor > 0);
        Assert.Empty(Directory.GetFiles(dir, "*.drift-partial*"));
    }

    [Fact]
    public void CorruptOrTruncatedCheckpointIsAUserError()
    {
        var dir = NewDir();
        PointsTrainer.Run(Small("laplace") with { Steps = 5 }, dir, null, NullLogger.Instance, _ => { }, CancellationToken.None);
        var path = Path.Combine(dir, RunFiles.Checkpoint);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        Assert.Contains("is damaged", Assert.Throws<UserError>(() => Checkpoint.Load(dir)).Message);
        File.WriteAllBytes(path, "not a checkpoint at all"u8.ToArray());
        Assert.Contains("corrupt or incomplete", Assert.Throws<UserError>(() => Checkpoint.Load(dir)).Message);
        Assert.Contains("no checkpoint", Assert.Throws<UserError>(() => Checkpoint.Load(scratch)).Message);
    }

    [Fact]
    public void ARowTornByACrashIsDroppedOnResume()
    {
        var config = Small("conservative");
        var whole = NewDir();
        PointsTrainer.Run(config, whole, null, NullLogger.Instance, _ => { }, CancellationToken.None);

        var split = CrashedAtStep17(config);
        var metrics = Path.Combine(split, RunFiles.Metrics);
        File.AppendAllText(metrics, "16,0.5,1.2");
        PointsTrainer.Run(config, split, Checkpoint.Load(split), NullLogger.Instance, _ => { }, CancellationToken.None);

        Assert.Equal(Metrics(whole), Metrics(split));
    }

    [Fact]
    public void AResumeRefusedForAMalformedRowLeavesTheFolderAsItWas()
    {
        var config = Small("laplace") with { Steps = 10 };
        var dir = NewDir();
        PointsTrainer.Run(config, dir, null, NullLogger.Instance, _ => { }, CancellationToken.None);
        var metrics = Path.Combine(dir, RunFiles.Metrics);
        var lines = File.ReadAllLines(metrics);
        lines[2] = "not,a,row";
        File.WriteAllLines(metrics, lines);
        var before = Snapshot(dir);

        var e = Assert.Throws<UserError>(() => PointsTrainer.Run(config with { Steps = 20 }, dir, Checkpoint.Load(dir), NullLogger.Instance, _ => { },
            CancellationToken.None));
        Assert.Contains("does not match the header", e.Message);
        Assert.Equal(before, Snapshot(dir));
    }

    /// <summary>A run that dies at step 17 without saving: its checkpoint is from step 14, metrics.csv has rows past it.</summary>
    private string CrashedAtStep17(TrainConfig config)
    {
        var dir = NewDir();
        Assert.Throws<InvalidOperationException>(() => PointsTrainer.Run(config, dir, null, NullLogger.Instance,
            r => { if (r.Step == 17) throw new InvalidOperationException("crash"); }, CancellationToken.None));
        return dir;
    }

    /// <summary>Every file below the folder with a hash of its bytes.</summary>
    private static string[] Snapshot(string dir) => Directory.GetFiles(dir, "*", SearchOption.AllDirectories).Order()
        .Select(f => $"{Path.GetRelativePath(dir, f)} {Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f)))}").ToArray();
}
