using System.Diagnostics;
using System.Text.RegularExpressions;
using Drift.Train.RunFolders;
using Drift.Train.Training.Points;
using Drift.Train.Cli;

namespace Drift.Tests;

/// <summary>Ctrl+C and a polite kill, sent as real signals to a real drift process: the run saves a checkpoint
/// at the step it reached, says how to continue, and exits 130.</summary>
[Collection(RealProcesses.Name)]
public class SignalTests
{
    [Theory]
    [InlineData("INT")]
    [InlineData("TERM")]
    public async Task ASignalledRunSavesTheStepItReached(string signal)
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
            if (p.HasExited) Assert.Fail($"drift exited before the signal: {(await stderr)}");
            using (var kill = Process.Start("kill", $"-{signal} {p.Id}")!)
                kill.WaitForExit();
            if (!p.WaitForExit(120_000))
            {
                p.Kill();
                p.WaitForExit();
                Assert.Fail($"drift did not stop within two minutes of SIG{signal}; it said:\n{(await stdout)}{(await stderr)}");
            }
        }
        finally
        {
            if (!p.HasExited) p.Kill();
        }

        var output = (await stdout) + (await stderr);
        Assert.Equal(130, p.ExitCode);
        var said = Regex.Match(output, @"interrupted at step (\d+); checkpoint saved, continue with: drift train --resume ");
        Assert.True(said.Success, output);
        var step = long.Parse(said.Groups[1].Value);
        Assert.Equal(step, Checkpoint.Load(dir).Step);
        // The announcement names the step the run stops after, whether the signal came during a step or between two.
        var announced = Regex.Match(output, @"stopping after step (\d+)\b");
        Assert.True(announced.Success, output);
        Assert.Equal(step, long.Parse(announced.Groups[1].Value));
        Assert.Equal(step.ToString(), File.ReadLines(metrics).Last().Split(',')[0]);
        Directory.Delete(dir, recursive: true);
    }

    /// <summary>A step of about 15 s on two cores (batch 32768): the stop is announced at once, with how long the step
    /// still runs, and the checkpoint follows the step. The two SIGTERMs 100 ms apart are what <c>timeout</c> sends
    /// (to the process and to its group): one stop, not an abort.</summary>
    [Fact]
    public void ASignalDuringALongStepIsAnnouncedAndTheStepIsSaved()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"drift-signal-long-{Guid.NewGuid():N}");
        var (p, output) = StartLong(dir);
        try
        {
            WaitForStart(p, dir, output);
            Signal(p, "TERM");
            Thread.Sleep(100);
            Signal(p, "TERM");
            var announced = Stopwatch.StartNew();
            while (!output.ToString().Contains("stopping after step") && announced.Elapsed < TimeSpan.FromSeconds(5)) Thread.Sleep(50);
            Assert.True(output.ToString().Contains("stopping after step"), $"no announcement within 5 s:\n{output}");
            Assert.True(p.WaitForExit(180_000), $"drift did not stop:\n{output}");
            p.WaitForExit();
        }
        finally
        {
            if (!p.HasExited) p.Kill();
        }
        Assert.True(p.ExitCode == 130, $"exit {p.ExitCode}:\n{output}");
        var said = Regex.Match(output.ToString(), @"interrupted at step (\d+); checkpoint saved");
        Assert.True(said.Success, output.ToString());
        Assert.Equal(long.Parse(said.Groups[1].Value), Checkpoint.Load(dir).Step);
        Assert.DoesNotContain("   at ", output.ToString());
        Directory.Delete(dir, recursive: true);
    }

    /// <summary>A second signal, 2 s after the first, stops at once without saving: no checkpoint of the unfinished
    /// step, no temporary file, and the folder still holds its run (its config: a resume starts it from step 0).</summary>
    [Fact]
    public void ASecondSignalStopsAtOnceAndLeavesTheFolderResumable()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"drift-signal-abort-{Guid.NewGuid():N}");
        var (p, output) = StartLong(dir);
        try
        {
            WaitForStart(p, dir, output);
            Signal(p, "INT");
            Thread.Sleep(2500);
            Signal(p, "INT");
            Assert.True(p.WaitForExit(10_000), $"drift did not stop within 10 s of the second signal:\n{output}");
            p.WaitForExit();
        }
        finally
        {
            if (!p.HasExited) p.Kill();
        }
        Assert.True(p.ExitCode == 130, $"exit {p.ExitCode}:\n{output}");
        Assert.Contains("second signal: stopping now without saving", output.ToString());
        Assert.DoesNotContain("   at ", output.ToString());
        Assert.False(Checkpoint.Exists(dir), "the unfinished step was saved");
        Assert.Empty(Directory.GetFiles(dir, "*.drift-partial*", SearchOption.AllDirectories));
        Assert.True(Drift.Train.RunFolders.RunFolder.HoldsRun(dir));
        Assert.Equal(32768, ConfigJson.Load<TrainConfig>(Path.Combine(dir, RunFiles.Config)).Batch);
        Directory.Delete(dir, recursive: true);
    }

    /// <summary>Ctrl+C while <c>drift sample</c> writes its file: the process ends, and its temporary file with it.</summary>
    [Fact]
    public void ASignalledSampleLeavesNoTemporaryFile()
    {
        var dir = Directory.CreateTempSubdirectory("drift-signal-sample-").FullName;
        var (trained, _, err) = DriftProcess.Run(["train", "--steps", "2", "--batch", "32", "--width", "16", "--eval-samples", "100", "--out", Path.Combine(dir, "run")]);
        Assert.True(trained == 0, err);
        Assert.Equal(130, InterruptWhileWriting(["sample", "--checkpoint", Path.Combine(dir, "run"), "--n", "16000000", "--out", Path.Combine(dir, "big.csv")],
            () => Directory.GetFiles(dir, "*.drift-partial*").Length > 0));
        Assert.Empty(Directory.GetFiles(dir, "*.drift-partial*"));
        Assert.False(File.Exists(Path.Combine(dir, "big.csv")) && new FileInfo(Path.Combine(dir, "big.csv")).Length < 1000, "a half-written big.csv");
        Directory.Delete(dir, recursive: true);
    }

    /// <summary>Ctrl+C while <c>drift sample</c> fills a folder of images: the process ends, and the folder it was filling
    /// goes with it; the folder asked for never appears half full.</summary>
    [Fact]
    public void ASignalledSampleIntoAFolderLeavesNoFolder()
    {
        var dir = Directory.CreateTempSubdirectory("drift-signal-folder-").FullName;
        var (trained, _, err) = DriftProcess.Run(["train-images", "--data", TinyImages.Write(Path.Combine(dir, "tiny")), "--steps", "2", "--class-batch", "4",
            "--width", "4", "--features", "pixels", "--eval-every", "100", "--out", Path.Combine(dir, "run")]);
        Assert.True(trained == 0, err);
        var samples = Path.Combine(dir, "samples");
        Assert.Equal(130, InterruptWhileWriting(["sample", "--checkpoint", Path.Combine(dir, "run"), "--n", "131072", "--out", samples],
            () => Directory.GetDirectories(dir, ".samples.*.drift-partial").Length > 0));
        Assert.Equal(["run", "tiny"], Directory.GetFileSystemEntries(dir).Select(Path.GetFileName).Order());
        Directory.Delete(dir, recursive: true);
    }

    /// <summary>Starts drift with <paramref name="args"/>, sends Ctrl+C 0.2 s after <paramref name="writing"/> holds (its
    /// output being written), and returns its exit code once it ended (within 10 s).</summary>
    private static int InterruptWhileWriting(string[] args, Func<bool> writing)
    {
        using var p = DriftProcess.Start(args);
        var output = Capture(p);
        try
        {
            var waited = Stopwatch.StartNew();
            while (!writing() && !p.HasExited && waited.Elapsed < TimeSpan.FromSeconds(120)) Thread.Sleep(20);
            Assert.False(p.HasExited, $"drift {args[0]} ended before its output was being written:\n{output}");
            Thread.Sleep(200);
            Signal(p, "INT");
            Assert.True(p.WaitForExit(10_000), $"drift {args[0]} did not stop within 10 s:\n{output}");
            p.WaitForExit();
        }
        finally
        {
            if (!p.HasExited) p.Kill();
        }
        return p.ExitCode;
    }

    /// <summary>A comparison stopped by Ctrl+C in its second run (its first finished) continues when its command is run
    /// again, in the same folder: the finished run is kept, the stopped one resumes, and the report is the uninterrupted
    /// comparison's in every figure but the wall times. A run of another config there is refused.</summary>
    [Fact]
    public void AStoppedComparisonContinuesWhenRunAgainAndEndsAsTheUninterruptedOne()
    {
        var root = Path.Combine(Path.GetTempPath(), $"drift-signal-compare-{Guid.NewGuid():N}");
        string[] Args(string dir, params string[] more) => ["compare", "--data", "moons", "--fields", "conservative", "--seeds", "2", "--steps", "500",
            "--batch", "32", "--width", "16", "--eval-every", "250", "--eval-samples", "100", "--log-every", "10", .. more, "--out", dir];
        var (stopped, whole) = (Path.Combine(root, "stopped"), Path.Combine(root, "whole"));
        try
        {
            using (var p = DriftProcess.Start(Args(stopped)))
            {
                var output = Capture(p);
                var second = Path.Combine(stopped, "runs", "conservative-seed1", RunFiles.Metrics);
                var waited = Stopwatch.StartNew();
                while (!(File.Exists(second) && File.ReadLines(second).Count() > 3) && !p.HasExited && waited.Elapsed < TimeSpan.FromSeconds(120))
                    Thread.Sleep(20);
                Assert.False(p.HasExited, $"the comparison ended before the signal:\n{output}");
                Signal(p, "INT");
                Assert.True(p.WaitForExit(60_000), $"drift did not stop:\n{output}");
                p.WaitForExit();
                Assert.True(p.ExitCode == 130, $"exit {p.ExitCode}:\n{output}");
                Assert.Contains("run the same command again to continue the comparison", output.ToString());
            }
            Assert.False(File.Exists(Path.Combine(stopped, FolderKind.CompareReport)));
            Assert.Equal(500, Checkpoint.Load(Path.Combine(stopped, "runs", "conservative-seed0")).Step);
            Assert.InRange(Checkpoint.Load(Path.Combine(stopped, "runs", "conservative-seed1")).Step, 20, 499);

            var refused = DriftProcess.Run(Args(stopped, "--lr", "1e-3"));
            Assert.Equal(2, refused.Code);
            Assert.Contains("conservative-seed0 holds a run with a different config (lr)", refused.Err);
            var (code, said, err) = DriftProcess.Run(Args(stopped));
            Assert.True(code == 0, err);
            Assert.Contains("resuming " + Path.Combine(stopped, "runs", "conservative-seed1") + " at step", said);
            (code, _, err) = DriftProcess.Run(Args(whole));
            Assert.True(code == 0, err);
            static string WithoutWallTimes(string dir) => System.Text.RegularExpressions.Regex.Replace(
                File.ReadAllText(Path.Combine(dir, FolderKind.CompareJson)), @"""wallSeconds"": [^,]+,", "");
            Assert.Equal(WithoutWallTimes(whole), WithoutWallTimes(stopped));
            Assert.True(File.Exists(Path.Combine(stopped, FolderKind.CompareSamples)));
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    private static (Process, System.Text.StringBuilder) StartLong(string dir)
    {
        var p = DriftProcess.Start(["train", "--steps", "1000", "--batch", "32768", "--width", "16", "--depth", "1", "--log-every", "1",
            "--eval-every", "1000000", "--checkpoint-every", "1000000", "--out", dir]);
        return (p, Capture(p));
    }

    /// <summary>Both streams, as they come.</summary>
    private static System.Text.StringBuilder Capture(Process p)
    {
        var text = new System.Text.StringBuilder();
        p.OutputDataReceived += (_, e) => { lock (text) text.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { lock (text) text.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return text;
    }

    /// <summary>Waits until the run has written its config (the loop is about to take its first step), then a second more.</summary>
    private static void WaitForStart(Process p, string dir, System.Text.StringBuilder output)
    {
        var waited = Stopwatch.StartNew();
        while (!File.Exists(Path.Combine(dir, RunFiles.Config)) && !p.HasExited && waited.Elapsed < TimeSpan.FromSeconds(60)) Thread.Sleep(50);
        Assert.False(p.HasExited, $"drift exited before the signal:\n{output}");
        Thread.Sleep(1000);
    }

    private static void Signal(Process p, string signal)
    {
        using var kill = Process.Start("kill", $"-{signal} {p.Id}")!;
        kill.WaitForExit();
    }
}
