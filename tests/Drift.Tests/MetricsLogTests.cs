using Drift.Train;
using Drift.Train.Output;

namespace Drift.Tests;

public class MetricsLogTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("drift-metrics-").FullName;

    public void Dispose() => Directory.Delete(dir, true);

    [Fact]
    public void AResumeKeepsTheRowsUpToItsCheckpointAndEveryMetric()
    {
        var path = Path.Combine(dir, "metrics.csv");
        var log = new MetricsLog(path, ["a"], 0, ["fd", "recall"]);
        log.Append(new LoggedStep(10, 1.5, 0.25, 0.5, [0.75], null));
        log.Append(new LoggedStep(20, 3, 0.125, 0.25, [0.5], [12.5, 0.375]));
        log.Append(new LoggedStep(30, 4.5, 0.0625, 0.125, [0.25], [11, 0.5]));

        var resumed = new MetricsLog(path, ["a"], 20, ["fd", "recall"]);
        Assert.Equal([10L, 20L], resumed.Rows.Select(r => r.Step));
        Assert.Null(resumed.Rows[0].Evaluated);
        Assert.Equal([12.5, 0.375], resumed.Rows[1].Evaluated!);
        Assert.Equal(["step,wall_s,loss,velocity_rms,rms_a,fd,recall", "10,1.5,0.25,0.5,0.75,,", "20,3,0.125,0.25,0.5,12.5,0.375"],
            File.ReadAllLines(path));
    }

    [Fact]
    public void AFileFromBeforeTheRecallColumnResumesWithRecallEmpty()
    {
        var path = Path.Combine(dir, "metrics.csv");
        File.WriteAllText(path, "step,wall_s,loss,velocity_rms,rms_a,fd\n10,1.5,0.25,0.5,0.75,\n20,3,0.125,0.25,0.5,12.5\n30,4.5,0.0625,0.125,0.25,11\n");
        var resumed = new MetricsLog(path, ["a"], 20, ["fd", "recall"]);
        Assert.Equal(12.5, resumed.Rows[1].Metric);
        Assert.True(double.IsNaN(resumed.Rows[1].Evaluated![1]));
        Assert.Equal("step,wall_s,loss,velocity_rms,rms_a,fd,recall", File.ReadLines(path).First());
        resumed.Append(new LoggedStep(30, 4.5, 0.0625, 0.125, [0.25], [11, 0.5]));
        Assert.Equal("30,4.5,0.0625,0.125,0.25,11,0.5", File.ReadLines(path).Last());
    }

    [Fact]
    public void AFileWithOtherColumnsIsRefusedAndKept()
    {
        var path = Path.Combine(dir, "metrics.csv");
        const string other = "step,wall_s,loss,velocity_rms,rms_b,fd\n10,1.5,0.25,0.5,0.75,3\n";
        File.WriteAllText(path, other);
        var error = Assert.Throws<UserError>(() => new MetricsLog(path, ["a"], 10, ["fd", "recall"]));
        Assert.Contains("is not this run's", error.Message);
        Assert.Equal(other, File.ReadAllText(path));
    }

    [Fact]
    public void DiagnosticColumnsComeLastAndAFileWithoutThemResumesWithThemEmpty()
    {
        var path = Path.Combine(dir, "metrics.csv");
        var log = new MetricsLog(path, ["a"], 0, ["energy"], ["iters_a", "unconverged"]);
        log.Append(new LoggedStep(10, 1.5, 0.25, 0.5, [0.75], null, [40, 0]));
        log.Append(new LoggedStep(20, 3, 0.125, 0.25, [0.5], [0.01], [100, 2]));
        Assert.Equal(["step,wall_s,loss,velocity_rms,rms_a,energy,iters_a,unconverged", "10,1.5,0.25,0.5,0.75,,40,0", "20,3,0.125,0.25,0.5,0.01,100,2"],
            File.ReadAllLines(path));
        var resumed = new MetricsLog(path, ["a"], 20, ["energy"], ["iters_a", "unconverged"]);
        Assert.Equal([100.0, 2.0], resumed.Rows[1].Diagnostics!);
        Assert.Equal(0.01, resumed.Rows[1].Metric);

        // A sinkhorn run from before the counts were logged.
        File.WriteAllText(path, "step,wall_s,loss,velocity_rms,rms_a,energy\n10,1.5,0.25,0.5,0.75,\n20,3,0.125,0.25,0.5,0.01\n");
        var older = new MetricsLog(path, ["a"], 20, ["energy"], ["iters_a", "unconverged"]);
        Assert.Null(older.Rows[1].Diagnostics);
        Assert.Equal("20,3,0.125,0.25,0.5,0.01,,", File.ReadLines(path).Last());
    }
}
