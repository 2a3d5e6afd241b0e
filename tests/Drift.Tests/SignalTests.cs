using System.Diagnostics;
using System.Text.RegularExpressions;
using Drift.Train.Output;
using Drift.Train.Training;

namespace Drift.Tests;

/// <summary>Ctrl+C and a polite kill, sent as real signals to a real drift process: the run saves a checkpoint
/// at the step it reached, says how to continue, and exits 130.</summary>
[Collection(RealProcesses.Name)]
public class SignalTests
{
    [Theory]
    [InlineData("INT")]
    [InlineData("TERM")]
    public void ASignalledRunSavesTheStepItReached(string signal)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"drift-signal-{Guid.NewGuid():N}");
        var metrics = Path.Combine(dir, RunFiles.Metrics);
        using var p = DriftProcess.Start(["train", "--steps", "1000000", "--batch", "64", "--width", "16", "--depth", "1", "--log-every", "1",
            "--eval-every", "1000000", "--checkpoint-every", "1000000", "--out", dir]);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        try
        {
            var waited = Stopwatch.StartNew();
            while (!(File.Exists(metrics) && File.ReadLines(metrics).Take(30).Count() > 20) && waited.Elapsed < TimeSpan.FromSeconds(60) && !p.HasExited)
                Thread.Sleep(100);
            if (p.HasExited) Assert.Fail($"drift exited before the signal: {stderr.Result}");
            using (var kill = Process.Start("kill", $"-{signal} {p.Id}")!)
                kill.WaitForExit();
            if (!p.WaitForExit(120_000))
            {
                p.Kill();
                p.WaitForExit();
                Assert.Fail($"drift did not stop within two minutes of SIG{signal}; it said:\n{stdout.Result}{stderr.Result}");
            }
        }
        finally
        {
            if (!p.HasExited) p.Kill();
        }

        var output = stdout.Result + stderr.Result;
        Assert.Equal(130, p.ExitCode);
        var said = Regex.Match(output, @"interrupted at step (\d+); checkpoint saved, continue with: drift train --resume ");
        Assert.True(said.Success, output);
        var step = long.Parse(said.Groups[1].Value);
        Assert.Equal(step, Checkpoint.Load(dir).Step);
        Assert.Equal(step.ToString(), File.ReadLines(metrics).Last().Split(',')[0]);
        Directory.Delete(dir, recursive: true);
    }
}
