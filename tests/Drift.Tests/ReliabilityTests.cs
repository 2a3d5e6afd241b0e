using System.Diagnostics;
using Drift.Train;
using Drift.Train.Cli;
using Drift.Train.Output;
using Drift.Train.Training;

namespace Drift.Tests;

/// <summary>
/// Real drift processes killed (SIGKILL), interrupted (SIGINT, SIGTERM) and raced at random moments, over and
/// over, in one run folder; then resumed to the end. Whatever happened, every checkpoint on disk loads and the
/// finished run is the uninterrupted run: the same metrics.csv in every column but wall time, the same weights.
/// <c>DRIFT_RELIABILITY_CYCLES</c> sets the number of cycles (default 8; README's figures are from a longer run).
/// Run alone with <c>dotnet test Drift.sln -c Release --filter Category=Reliability</c>.
/// </summary>
[Trait("Category", "Reliability")]
public class ReliabilityTests
{
    private static readonly string DriftDll = typeof(UserError).Assembly.Location;

    private static int Cycles => int.TryParse(Environment.GetEnvironmentVariable("DRIFT_RELIABILITY_CYCLES"), out var n) ? n : 8;

    private static Process Start(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(DriftDll);
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["CI"] = "1";
        var p = Process.Start(start)!;
        p.StandardOutput.ReadToEndAsync();
        return p;
    }

    private static void Signal(Process p, string signal)
    {
        using var kill = Process.Start("kill", $"-{signal} {p.Id}")!;
        kill.WaitForExit();
    }

    [Fact]
    public void RunsKilledInterruptedAndRacedAtRandomMomentsFinishAsTheUninterruptedRun()
    {
        var seed = Tensors.Seed();
        var random = new Random(seed);
        var root = Directory.CreateTempSubdirectory("drift-reliability-").FullName;
        string[] config = ["--data", "moons", "--batch", "64", "--width", "32", "--depth", "2", "--steps", "150", "--log-every", "5",
            "--eval-every", "50", "--checkpoint-every", "10", "--eval-samples", "200", "--seed", seed.ToString()];
        var whole = Path.Combine(root, "whole");
        var (code, _, err) = CliTests.Run(["train", .. config, "--out", whole]);
        Assert.True(code == 0, err);

        var dir = Path.Combine(root, "stopped");
        string[] Continue() => RunFolder.HoldsRun(dir) ? ["train", "--resume", dir, "--steps", "150"] : ["train", .. config, "--out", dir];
        var log = new List<string>();
        for (var cycle = 0; cycle < Cycles && !(Checkpoint.Exists(dir) && Checkpoint.Load(dir).Step == 150); cycle++)
        {
            var p = Start(Continue());
            if (random.Next(3) == 0)
            {
                // A second writer at the same moment: one of the two gets the folder, the other a one-line error.
                var rival = Start(Continue());
                Assert.True(Task.WhenAny(p.WaitForExitAsync(), rival.WaitForExitAsync()).Wait(TimeSpan.FromSeconds(30)),
                    $"seed {seed}: neither of two writers stopped");
                var (loser, winner) = p.HasExited ? (p, rival) : (rival, p);
                var message = loser.StandardError.ReadToEnd();
                Assert.True(loser.ExitCode == 0 || loser.ExitCode == 2 && message.Contains("is in use by process"), $"seed {seed}: exit {loser.ExitCode}: {message}");
                log.Add(loser.ExitCode == 2 ? "race: second writer refused" : "race: the first finished the run");
                p = winner;
            }
            Thread.Sleep(random.Next(200, 3500));
            var signal = new[] { "KILL", "KILL", "INT", "TERM" }[random.Next(4)];
            if (!p.HasExited) Signal(p, signal);
            Assert.True(p.WaitForExit(60_000), $"seed {seed}: drift did not stop within a minute of SIG{signal}");
            var error = p.StandardError.ReadToEnd();
            // 0: finished first; 130: the signal was handled (checkpoint saved); 130/137/143: killed by the signal before
            // its handler was in place; 2: started after a rival had finished the run.
            Assert.True(p.ExitCode is 0 or 130 or 137 or 143 || p.ExitCode == 2 && error.Contains("already at step 150"),
                $"seed {seed}: SIG{signal} gave exit {p.ExitCode}: {error}");
            log.Add($"SIG{signal} -> exit {p.ExitCode}, checkpoint at step {(Checkpoint.Exists(dir) ? Checkpoint.Load(dir).Step : 0)}");
        }
        if (!(Checkpoint.Exists(dir) && Checkpoint.Load(dir).Step == 150))
        {
            (code, _, err) = CliTests.Run(Continue());
            Assert.True(code == 0, $"seed {seed}: {err}\n{string.Join("\n", log)}");
        }

        Assert.True(Metrics(whole).SequenceEqual(Metrics(dir)), $"seed {seed}: metrics differ after\n{string.Join("\n", log)}");
        var (a, b) = (Checkpoint.Load(whole), Checkpoint.Load(dir));
        Assert.Equal(Evaluation.Generate(a, 200, 7), Evaluation.Generate(b, 200, 7));
        Assert.Empty(Directory.GetFiles(dir, "*.tmp*", SearchOption.AllDirectories));
        Console.WriteLine($"reliability: {log.Count} events, resumed exactly ({string.Join("; ", log)})");
        Directory.Delete(root, recursive: true);
    }

    /// <summary>Every metric column but wall time.</summary>
    private static string[] Metrics(string dir) => File.ReadAllLines(Path.Combine(dir, RunFiles.Metrics))
        .Select(l => l.Split(',')).Select(c => string.Join(',', c.Take(1).Concat(c.Skip(2)))).ToArray();
}
