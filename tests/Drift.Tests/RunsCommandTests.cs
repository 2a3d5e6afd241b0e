using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Drift.Train.RunFolders;

namespace Drift.Tests;

/// <summary><c>drift runs</c> against what each folder holds, read here on its own: the checkpoint's step and the last
/// value in metrics.csv's headline column, for runs of both kinds at any depth, one running, then stopped by Ctrl+C,
/// and one whose checkpoint is damaged; a user's folder is not a run. Listing writes nothing.</summary>
[Collection(RealProcesses.Name)]
public class RunsCommandTests
{
    /// <summary>Each listed row's cells by column name, keyed by the run's folder.</summary>
    private static Dictionary<string, Dictionary<string, string>> List(params string[] folders)
    {
        var (code, output, err) = DriftProcess.Run(["runs", .. folders]);
        Assert.True(code == 0, err);
        var lines = output.Trim().Split('\n').Select(l => Regex.Split(l.Trim(), @"\s{2,}")).ToArray();
        Assert.Equal(["run", "kind", "data", "field", "step", "time", "state", "last metric"], lines[0]);
        return lines.Skip(1).ToDictionary(l => l[0], l => lines[0].Zip(l).ToDictionary(p => p.First, p => p.Second));
    }

    /// <summary>"NAME VALUE at step STEP" of the last row with a value in the column after the rms columns.</summary>
    private static string LastMetric(string dir)
    {
        var rows = File.ReadAllLines(Path.Combine(dir, RunFiles.Metrics)).Select(l => l.Split(',')).ToArray();
        var column = Enumerable.Range(4, rows[0].Length - 4).First(c => !rows[0][c].StartsWith("rms_"));
        var last = rows.Skip(1).Last(r => r[column].Length > 0);
        return $"{rows[0][column]} {double.Parse(last[column], CultureInfo.InvariantCulture):g4} at step {last[0]}";
    }

    /// <summary>The checkpoint's training time to the second, as the listing says it (these runs take under a minute).</summary>
    private static string Trained(string dir) => $"{Math.Round(Checkpoint.Load(dir).ElapsedSeconds):0} s";

    /// <summary>Every file and folder below <paramref name="dir"/> but those of <paramref name="running"/>, files with a hash.</summary>
    private static string[] Snapshot(string dir, string running) => Directory.GetFileSystemEntries(dir, "*", SearchOption.AllDirectories).Order()
        .Where(f => !f.StartsWith(running, StringComparison.Ordinal)).Select(f => f + (File.Exists(f) ? " " + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f))) : "/")).ToArray();

    [Fact]
    public async Task EachRunIsListedWithItsStepStateAndLastMetric()
    {
        var root = Directory.CreateTempSubdirectory("drift-runs-").FullName;
        var random = new Random(Tensors.Seed());
        var steps = random.Next(3, 9).ToString();
        var points = Path.Combine(root, "a", "points");
        var (code, _, err) = DriftProcess.Run(["train", "--data", "moons", "--steps", steps, "--batch", "32", "--width", "16", "--eval-every", "2",
            "--eval-samples", "100", "--out", points]);
        Assert.True(code == 0, err);
        var images = Path.Combine(root, "b", "deeper", "images");
        (code, _, err) = DriftProcess.Run(["train-images", "--data", TinyImages.Write(Path.Combine(root, "tiny")), "--steps", "2", "--class-batch", "2",
            "--class-positives", "4", "--width", "4", "--noise-dim", "4", "--features", "pixels", "--field", "laplace", "--out", images]);
        Assert.True(code == 0, err);
        var damaged = Path.Combine(root, "damaged");
        Directory.CreateDirectory(damaged);
        foreach (var file in Directory.GetFiles(points)) File.Copy(file, Path.Combine(damaged, Path.GetFileName(file)));
        var bytes = File.ReadAllBytes(Path.Combine(damaged, RunFiles.Checkpoint));
        bytes[bytes.Length / 2] ^= 0xff;
        File.WriteAllBytes(Path.Combine(damaged, RunFiles.Checkpoint), bytes);
        Directory.CreateDirectory(Path.Combine(root, "user"));
        File.WriteAllText(Path.Combine(root, "user", "notes.txt"), "the user's own");

        var listed = List(root);
        Assert.Equal([points, images, damaged], listed.Keys);
        Assert.Equal(["points", "moons", "conservative", $"{steps}/{steps}", Trained(points), "finished", LastMetric(points)],
            listed[points].Values.Skip(1));
        Assert.Equal(["images", Path.Combine(root, "tiny"), "laplace", "2/2", Trained(images), "finished", "-"], listed[images].Values.Skip(1));
        Assert.StartsWith("unreadable: ", listed[damaged]["state"]);
        Assert.Equal([images], List(images).Keys);

        var live = Path.Combine(root, "live");
        using var p = DriftProcess.Start(["train", "--steps", "1000000", "--batch", "64", "--width", "16", "--depth", "1", "--eval-every", "5",
            "--eval-samples", "100", "--checkpoint-every", "10", "--out", live]);
        var stderr = p.StandardError.ReadToEndAsync();
        _ = p.StandardOutput.ReadToEndAsync();
        try
        {
            var waited = Stopwatch.StartNew();
            while (!Checkpoint.Exists(live) && waited.Elapsed < TimeSpan.FromSeconds(60) && !p.HasExited)
                Thread.Sleep(100);
            if (p.HasExited) Assert.Fail($"drift exited before its first checkpoint: {await stderr}");
            var before = Snapshot(root, live);
            Assert.Equal($"running (process {p.Id})", List(root)[live]["state"]);
            using (var kill = Process.Start("kill", $"-INT {p.Id}")!)
                kill.WaitForExit();
            Assert.True(p.WaitForExit(120_000), "drift did not stop within two minutes of SIGINT");
            Assert.Equal(130, p.ExitCode);
            Assert.Equal(before, Snapshot(root, live));
        }
        finally
        {
            if (!p.HasExited) p.Kill();
        }
        var stopped = List(root)[live];
        Assert.Equal([$"{Checkpoint.Load(live).Step}/1000000", "stopped", LastMetric(live)], [stopped["step"], stopped["state"], stopped["last metric"]]);
        Directory.Delete(root, recursive: true);
    }
}
