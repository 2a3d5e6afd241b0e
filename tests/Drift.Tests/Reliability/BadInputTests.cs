using System.Security.Cryptography;
using Drift.Data.Images;

namespace Drift.Tests;

/// <summary>
/// Every line of bad-inputs.txt, run as a real drift process in a folder of fixtures (bad CSVs, a file where a
/// folder belongs, IDX labels past the classes, a finished run): exit code 2, one line <c>drift: error: ...</c>,
/// no stack trace, and every file and folder there as it was, byte for byte, with nothing added.
/// </summary>
[Collection(RealProcesses.Name)]
[Trait("Category", "Reliability")]
public class BadInputTests
{
    private static (int Code, string Err) Run(string dir, string[] args)
    {
        var (code, stdout, stderr) = DriftProcess.Run(args, dir);
        return (code, stderr + (stdout.Contains("   at ") ? stdout : ""));
    }

    [Fact]
    public void EveryBadInputIsOneLineExitTwoAndChangesNothing()
    {
        var dir = Fixtures();
        var inputs = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Reliability", "bad-inputs.txt"))
            .Where(l => l.Length > 0 && !l.StartsWith('#')).ToArray();
        var failures = new List<string>();
        foreach (var line in inputs)
        {
            var before = Snapshot(dir);
            var (code, err) = Run(dir, line.Split(' ').Select(a => a == "\"\"" ? "" : a).ToArray());
            var lines = err.Trim().Split('\n');
            if (code != 2 || lines.Length != 1 || !lines[0].StartsWith("drift: error: ") || err.Contains("   at "))
                failures.Add($"{line}: exit {code}: {err.Trim()}");
            else if (!before.SequenceEqual(Snapshot(dir)))
                failures.Add($"{line}: changed the folder: {string.Join(", ", Snapshot(dir).Except(before).Concat(before.Except(Snapshot(dir))))}");
        }
        Console.WriteLine($"bad inputs: {inputs.Length - failures.Count} of {inputs.Length} answered with one line and exit 2, nothing changed");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Directory.Delete(dir, recursive: true);
    }

    private static string Fixtures()
    {
        var dir = Directory.CreateTempSubdirectory("drift-bad-inputs-").FullName;
        File.WriteAllText(Path.Combine(dir, "hdr.csv"), "x,y\n");
        File.WriteAllText(Path.Combine(dir, "ragged.csv"), "1,2\n3\n");
        File.WriteAllText(Path.Combine(dir, "empty.csv"), "");
        File.WriteAllBytes(Path.Combine(dir, "bin.csv"), [0, 1, 2, 0xff, 0xfe]);
        File.WriteAllLines(Path.Combine(dir, "same.csv"), Enumerable.Repeat("1.5,2", 50));
        File.WriteAllLines(Path.Combine(dir, "huge.csv"), Enumerable.Range(0, 50).Select(i => $"{i}e30,{i}"));
        File.WriteAllText(Path.Combine(dir, "afile"), "a file, not a folder");
        Directory.CreateDirectory(Path.Combine(dir, "emptydir"));
        var sparse = Directory.CreateDirectory(Path.Combine(dir, "sparse")).FullName;
        foreach (var (split, n) in new[] { ("train", 30), ("t10k", 10) })
        {
            var labels = Enumerable.Range(0, n).Select(i => (byte)(i % 10)).ToArray();
            labels[^1] = 200;
            IdxFile.Write(Path.Combine(sparse, $"{split}-images-idx3-ubyte"), [n, 8, 8], new byte[n * 64]);
            IdxFile.Write(Path.Combine(sparse, $"{split}-labels-idx1-ubyte"), [n], labels);
        }
        var (code, err) = Run(dir, ["train", "--data", "moons", "--steps", "3", "--batch", "32", "--width", "16", "--eval-samples", "100", "--out", "good"]);
        Assert.True(code == 0, err);
        return dir;
    }

    /// <summary>Every file and folder below <paramref name="dir"/>, files with a hash of their bytes.</summary>
    private static string[] Snapshot(string dir) => Directory.GetFileSystemEntries(dir, "*", SearchOption.AllDirectories).Order()
        .Select(f => Path.GetRelativePath(dir, f) + (File.Exists(f) ? " " + Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))) : "/")).ToArray();
}
