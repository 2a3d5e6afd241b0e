using System.Diagnostics;
using Drift.Train;
using Drift.Train.RunFolders;
using Drift.Train.Training.Points;

namespace Drift.Tests;

/// <summary>
/// Real drift processes killed (SIGKILL), interrupted (SIGINT, SIGTERM) and raced at random moments, over and
/// over, in one run folder; then resumed to the end. Whatever happened, every checkpoint on disk loads and the
/// finished run is the uninterrupted run: the same metrics.csv in every column but wall time, the same weights.
/// <c>DRIFT_RELIABILITY_CYCLES</c> sets the number of cycles (default 8; README's figures are from a longer run).
/// Run alone with <c>dotnet test Drift.sln -c Release --filter Category=Reliability</c>.
/// </summary>
[Collection(RealProcesses.Name)]
[Trait("Category", "Reliability")]
public class KillTests
{
    private static int Cycles => int.TryParse(Environment.GetEnvironmentVariable("DRIFT_RELIABILITY_CYCLES"), out var n) ? n : 8;

    private static Process Start(params string[] args)
    {
        var p = DriftProcess.Start(args);
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

        var log = new List<string>();
        var rounds = 0;
        for (var cycle = 0; cycle < Cycles; rounds++)
        {
            // One round: a run folder stopped again and again until it reaches its last step, then compared.
            var dir = Path.Combine(root, $"stopped-{rounds}");
            string[] Continue() => RunFolder.HoldsRun(dir) ? ["train", "--resume", dir, "--steps", "150"] : ["train", .. config, "--out", dir];
            bool Finished() => Checkpoint.Exists(dir) && Checkpoint.Load(dir).Step == 150;
            for (; cycle < Cycles && !Finished(); cycle++)
                log.Add(StopOnce(Start(Continue()), () => Start(Continue()), random, seed, dir));
            if (!Finished())
            {
                (code, _, err) = CliTests.Run(Continue());
                Assert.True(code == 0, $"seed {seed}: {err}\n{string.Join("\n", log)}");
            }
            Assert.True(Metrics(whole).SequenceEqual(Metrics(dir)), $"seed {seed}: metrics differ after\n{string.Join("\n", log)}");
            Assert.Equal(PointEvaluation.Generate(Checkpoint.Load(whole), 200, 7), PointEvaluation.Generate(Checkpoint.Load(dir), 200, 7));
            Assert.Empty(Directory.GetFiles(dir, "*.drift-partial*", SearchOption.AllDirectories));
        }
        var counts = log.SelectMany(l => l.Split("; ")).GroupBy(e => e.Split(" ->")[0]).Select(g => $"{g.Key} {g.Count()}");
        Console.WriteLine($"reliability (seed {seed}): {rounds} run(s) finished exactly as the uninterrupted run after {string.Join(", ", counts)}");
        Directory.Delete(root, recursive: true);
    }

    /// <summary>Starts a writer (sometimes with a rival at the same moment), then stops it with a random signal at a
    /// random moment; checks the exit codes and that the checkpoint on disk loads. Returns what happened.</summary>
    private static string StopOnce(Process p, Func<Process> rivalStart, Random random, int seed, string dir)
    {
        var events = new List<string>();
        if (random.Next(3) == 0)
        {
            // A second writer at the same moment: one of the two gets the folder, the other a one-line error.
            var rival = rivalStart();
            Assert.True(Task.WhenAny(p.WaitForExitAsync(), rival.WaitForExitAsync()).Wait(TimeSpan.FromSeconds(30)),
                $"seed {seed}: neither of two writers stopped");
            var (loser, winner) = p.HasExited ? (p, rival) : (rival, p);
            var message = loser.StandardError.ReadToEnd();
            Assert.True(loser.ExitCode == 0 || loser.ExitCode == 2 && message.Contains("is in use by process"), $"seed {seed}: exit {loser.ExitCode}: {message}");
            events.Add(loser.ExitCode == 2 ? "race -> second writer refused" : "race -> first finished the run");
            p = winner;
        }
        Thread.Sleep(random.Next(100, 2500));
        var signal = new[] { "KILL", "KILL", "INT", "TERM" }[random.Next(4)];
        if (!p.HasExited) Signal(p, signal);
        Assert.True(p.WaitForExit(60_000), $"seed {seed}: drift did not stop within a minute of SIG{signal}");
        var error = p.StandardError.ReadToEnd();
        // 0: finished first; 130: the signal was handled (checkpoint saved); 130/137/143: killed by the signal before
        // its handler was in place; 2: started after a rival had finished the run.
        Assert.True(p.ExitCode is 0 or 130 or 137 or 143 || p.ExitCode == 2 && error.Contains("already at step 150"),
            $"seed {seed}: SIG{signal} gave exit {p.ExitCode}: {error}");
        if (Checkpoint.Exists(dir)) Checkpoint.Load(dir);
        events.Add($"SIG{signal} -> exit {p.ExitCode}");
        return string.Join("; ", events);
    }

    /// <summary>Every metric column but wall time.</summary>
    private static string[] Metrics(string dir) => File.ReadAllLines(Path.Combine(dir, RunFiles.Metrics))
        .Select(l => l.Split(',')).Select(c => string.Join(',', c.Take(1).Concat(c.Skip(2)))).ToArray();
}
