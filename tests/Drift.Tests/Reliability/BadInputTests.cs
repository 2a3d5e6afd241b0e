using System.Security.Cryptography;
using Drift.Data;
using Drift.Data.Images;
using Drift.Train.Output;
using NumSharp;

namespace Drift.Tests;

/// <summary>
/// Every line of bad-inputs.txt, run as a real drift process in a folder of fixtures (bad CSVs, a file where a
/// folder belongs, IDX labels past the classes, a finished run): exit code 2, one line <c>drift: error: ...</c>,
/// no stack trace, and every file and folder there as it was, byte for byte, with nothing added, but for a run's log.txt,
/// which a refused session of that run may lengthen by its lines and the error that ended it.
/// </summary>
[Collection(RealProcesses.Name)]
[Trait("Category", "Reliability")]
public class BadInputTests
{
    private static (int Code, string Err) Run(string dir, string[] args)
    {
        var (code, stdout, stderr) = DriftProcess.Run(args, dir, TimeSpan.FromMinutes(2));
        return (code, stderr + (stdout.Contains("   at ") ? stdout : ""));
    }

    [Fact]
    public void EveryBadInputIsOneLineExitTwoAndChangesNothing()
    {
        var inputs = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Reliability", "bad-inputs.txt"))
            .Where(l => l.Length > 0 && !l.StartsWith('#')).ToArray();
        // Two workers, each in a folder of fixtures of its own, every other line: a change a line makes is seen in its own
        // folder, and the lines, a drift process each, take about half the time on two cores.
        const int workers = 2;
        var results = Enumerable.Range(0, workers).AsParallel().WithDegreeOfParallelism(workers)
            .Select(w =>
            {
                var dir = Fixtures();
                var before = Snapshot(dir);
                var failures = new List<string>();
                foreach (var line in inputs.Where((_, i) => i % workers == w))
                {
                    if (Check(dir, line, before, out var after) is { } failure) failures.Add(failure);
                    before = after;
                }
                return (dir, failures);
            }).ToArray();
        var failures = results.SelectMany(r => r.failures).Order().ToArray();
        Console.WriteLine($"bad inputs: {inputs.Length - failures.Length} of {inputs.Length} answered with one line and exit 2, nothing changed");
        Assert.True(failures.Length == 0, string.Join("\n", failures));
        foreach (var (dir, _) in results) Directory.Delete(dir, recursive: true);
    }

    /// <summary>What is wrong with the answer to one line run in <paramref name="dir"/>, or null.</summary>
    /// <param name="before">The folder's <see cref="Snapshot"/> before the line (the one after the line before it).</param>
    /// <param name="after">Filled with the folder's snapshot once the line has run.</param>
    private static string? Check(string dir, string line, string[] before, out string[] after)
    {
        var logsBefore = RunLogs(dir, before);
        var (code, err) = Run(dir, line.Split(' ').Select(a => a == "\"\"" ? "" : a).ToArray());
        after = Snapshot(dir);
        var lines = err.Trim().Split('\n');
        if (code != 2 || lines.Length != 1 || !lines[0].StartsWith("drift: error: ") || err.Contains("   at "))
            return $"{line}: exit {code}: {err.Trim()}";
        if (!before.Where(e => !IsRunLog(dir, e)).SequenceEqual(after.Where(e => !IsRunLog(dir, e))))
            return $"{line}: changed the folder: {string.Join(", ", after.Except(before).Concat(before.Except(after)))}";
        return LogChange(logsBefore, RunLogs(dir, after), lines[0]["drift: ".Length..]) is { } change ? $"{line}: {change}" : null;
    }

    private static string Fixtures()
    {
        var dir = Directory.CreateTempSubdirectory("drift-bad-inputs-").FullName;
        File.WriteAllText(Path.Combine(dir, "hdr.csv"), "x,y\n");
        File.WriteAllText(Path.Combine(dir, "ragged.csv"), "1,2\n3\n");
        File.WriteAllText(Path.Combine(dir, "empty.csv"), "");
        File.WriteAllLines(Path.Combine(dir, "pandas.csv"), [",x,y", .. Enumerable.Range(0, 50).Select(i => $"{i},{i * 0.5},{50 - i}")]);
        File.WriteAllLines(Path.Combine(dir, "commas.csv"), ["x;y", .. Enumerable.Range(0, 50).Select(i => $"{i},5;{50 - i},25")]);
        File.WriteAllBytes(Path.Combine(dir, "bin.csv"), [0, 1, 2, 0xff, 0xfe]);
        File.WriteAllLines(Path.Combine(dir, "same.csv"), Enumerable.Repeat("1.5,2", 50));
        File.WriteAllLines(Path.Combine(dir, "huge.csv"), Enumerable.Range(0, 50).Select(i => $"{i}e30,{i}"));
        File.WriteAllText(Path.Combine(dir, "afile"), "a file, not a folder");
        File.WriteAllText(Path.Combine(dir, "afile.npy"), "a text file named .npy");
        File.WriteAllText(Path.Combine(dir, "afile.npz"), "a text file named .npz");
        File.WriteAllLines(Path.Combine(dir, "p3.csv"), Enumerable.Range(0, 50).Select(i => $"{i % 7},{i % 5},{i % 3}"));
        NpyWriter.Write(Path.Combine(dir, "flat.npy"), np.array(new double[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 }));
        NpyWriter.Write(Path.Combine(dir, "nan.npy"), np.array(new double[,] { { 1, 2 }, { 3, double.NaN }, { 5, 6 } }));
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
        TinyImages.WriteFolder(Path.Combine(dir, "named"));
        (code, err) = Run(dir, ["train-images", "--data", "named", "--image-size", "8", "--steps", "2", "--class-batch", "4", "--width", "4",
            "--features", "pixels", "--eval-every", "100", "--out", "imgrun"]);
        Assert.True(code == 0, err);
        NeverClobberFixtures(dir);
        return dir;
    }

    /// <summary>The fixtures of the never-clobber cases: a user's folder, damaged copies of the good run, non-regular
    /// files where Drift reads, configs with nulls and values of the wrong kind, an IDX set of no images, a CSV run
    /// whose data changed since, folders of images that cannot be judged as stored.</summary>
    private static void NeverClobberFixtures(string dir)
    {
        string At(string name) => Path.Combine(dir, name);
        var user = Directory.CreateDirectory(At("userdir")).FullName;
        File.WriteAllText(Path.Combine(user, "notes.txt"), "the user's own");
        File.WriteAllText(Path.Combine(user, ".draft.tmp"), "looks temporary, is the user's");
        File.WriteAllBytes(Path.Combine(user, "samples.png"), [1, 2, 3]);
        Directory.CreateDirectory(Path.Combine(user, "tensorboard"));
        File.WriteAllBytes(Path.Combine(user, "tensorboard", "events.out.tfevents.1.user"), [4, 5, 6]);
        foreach (var copy in new[] { "tampered", "ckdir", "tbfile", "tbbad", "runfifo", "logfifo", "logdir" })
            CopyDir(At("good"), At(copy));
        var metrics = File.ReadAllLines(At("tampered/metrics.csv"));
        metrics[1] = "x" + metrics[1][metrics[1].IndexOf(',')..];
        File.WriteAllLines(At("tampered/metrics.csv"), metrics);
        File.Delete(At("ckdir/checkpoint.bin"));
        Directory.CreateDirectory(At("ckdir/checkpoint.bin"));
        Directory.Delete(At("tbfile/tensorboard"), recursive: true);
        File.WriteAllText(At("tbfile/tensorboard"), "a file where the event folder was");
        var events = Directory.GetFiles(At("tbbad/tensorboard")).Single();
        var bytes = File.ReadAllBytes(events);
        Array.Fill(bytes, (byte)0xff, bytes.Length / 2, 8);
        File.WriteAllBytes(events, bytes);
        File.Delete(At("runfifo/checkpoint.bin"));
        MakeFifo(At("runfifo/checkpoint.bin"));
        File.Delete(At("logfifo/log.txt"));
        MakeFifo(At("logfifo/log.txt"));
        File.Delete(At("logdir/log.txt"));
        Directory.CreateDirectory(At("logdir/log.txt"));
        MakeFifo(At("fifo.csv"));
        MakeFifo(At("fifo.json"));
        var images = Directory.CreateDirectory(At("imgfifo")).FullName;
        foreach (var name in new[] { "a.png", "b.png" })
            File.Copy(At("good/samples.png"), Path.Combine(images, name));
        MakeFifo(Path.Combine(images, "c.png"));
        foreach (var (folder, name, header) in new[] { ("pngbomb", "c.png", ImageHeaders.Png(50000, 50000)), ("jpgbomb", "c.jpg", ImageHeaders.Jpeg(60000, 50000)) })
        {
            var bombs = Directory.CreateDirectory(At(folder)).FullName;
            foreach (var good in new[] { "a.png", "b.png" })
                File.Copy(At("good/samples.png"), Path.Combine(bombs, good));
            File.WriteAllBytes(Path.Combine(bombs, name), header);
        }
        // Folders of images judged as stored: two sizes, a class the data lacks, images at the top and in a class folder,
        // colour where the data is grey.
        var sizes = Directory.CreateDirectory(At("mixedsize")).FullName;
        File.Copy(At("named/left/00.png"), Path.Combine(sizes, "a.png"));
        File.Copy(At("good/samples.png"), Path.Combine(sizes, "b.png"));
        File.Copy(At("named/left/00.png"), Path.Combine(Directory.CreateDirectory(At("otherclass/right")).FullName, "00.png"));
        File.Copy(At("named/left/00.png"), Path.Combine(Directory.CreateDirectory(At("bothlayouts/left")).FullName, "00.png"));
        File.Copy(At("named/left/01.png"), At("bothlayouts/01.png"));
        // A class stored in a format stb_image does not decode: refused by name, not left out of the data.
        foreach (var cls in new[] { "left", "top" }) Directory.CreateDirectory(At($"webpclass/{cls}"));
        foreach (var file in Directory.GetFiles(At("named/left"))) File.Copy(file, At($"webpclass/left/{Path.GetFileName(file)}"));
        File.WriteAllBytes(At("webpclass/top/00.webp"), "RIFF\0\0\0\0WEBPVP8 "u8.ToArray());
        File.Copy(At("good/samples.png"), Path.Combine(Directory.CreateDirectory(At("largeimages")).FullName, "00.png"));
        using (var png = File.Create(Path.Combine(Directory.CreateDirectory(At("colour/left")).FullName, "00.png")))
            new StbImageWriteSharp.ImageWriter().WritePng(Enumerable.Range(0, 8 * 8 * 3).Select(i => (byte)(i * 37)).ToArray(), 8, 8,
                StbImageWriteSharp.ColorComponents.RedGreenBlue, png);
        var (code, err) = Run(dir, ["classifier", "--data", "named", "--image-size", "8", "--epochs", "1", "--batch", "16", "--out", "namedcls"]);
        Assert.True(code == 0, err);
        File.WriteAllText(At("nullcfg.json"), "{\"data\": null}");
        File.WriteAllText(At("wrongkind.json"), "{\"steps\": \"many\"}");
        File.WriteAllText(At("twice.json"), "{\"steps\": 3, \"steps\": 4}");
        File.WriteAllBytes(At("latin1.csv"), System.Text.Encoding.Latin1.GetBytes("température,durée\n" + string.Concat(Enumerable.Range(0, 20).Select(i => $"{i},{i % 7}\n"))));
        File.WriteAllText(At("utf16.csv"), "x,y\n" + string.Concat(Enumerable.Range(0, 20).Select(i => $"{i},{i % 7}\n")), System.Text.Encoding.Unicode);
        var zero = Directory.CreateDirectory(At("zeroidx")).FullName;
        foreach (var split in new[] { "train", "t10k" })
        {
            IdxFile.Write(Path.Combine(zero, $"{split}-images-idx3-ubyte"), [0, 8, 8], []);
            IdxFile.Write(Path.Combine(zero, $"{split}-labels-idx1-ubyte"), [0], []);
        }
        File.WriteAllLines(At("pts.csv"), Enumerable.Range(0, 60).Select(i => $"{i % 7},{i % 5}"));
        (code, err) = Run(dir, ["train", "--data", "pts.csv", "--steps", "3", "--batch", "32", "--width", "16", "--eval-samples", "100", "--out", "csvrun"]);
        Assert.True(code == 0, err);
        File.WriteAllLines(At("pts.csv"), Enumerable.Range(0, 60).Select(i => $"{i % 7},{i % 3}"));

        // Finished outputs and outputs of one kind that another must not join: a comparison, one stopped before its
        // report (its report removed), an export of two formats, a particle run, a rate study; and too few test images.
        string[] compare = ["compare", "--data", "moons", "--fields", "conservative", "--seeds", "1", "--steps", "2", "--batch", "32", "--width", "16", "--eval-samples", "100"];
        foreach (var (command, out_) in new (string[], string)[]
        {
            ([.. compare, "--out", "cmpdone"], "cmpdone"), ([.. compare, "--out", "cmpstopped"], "cmpstopped"),
            (["export", "--checkpoint", "good", "--format", "onnx,safetensors", "--out", "exdone"], "exdone"),
            (["particles", "--n", "32", "--dim", "1", "--time", "0.1", "--out", "prun"], "prun"),
            (["particles", "--sweep-n", "16,32", "--dims", "1", "--seeds", "1", "--time", "0.1", "--out", "pstudy"], "pstudy"),
        })
        {
            (code, err) = Run(dir, command);
            Assert.True(code == 0, $"{out_}: {err}");
        }
        File.Delete(At("cmpstopped/report.md"));
        File.Delete(At("cmpstopped/report.json"));
        foreach (var name in new[] { "left", "top" })
            foreach (var file in Directory.GetFiles(At($"named/{name}")).Order().Take(8))
                File.Copy(file, Path.Combine(Directory.CreateDirectory(At($"fewimgs/{name}")).FullName, Path.GetFileName(file)));
    }

    private static void MakeFifo(string path)
    {
        using var p = System.Diagnostics.Process.Start("mkfifo", path)!;
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
    }

    private static void CopyDir(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    /// <summary>Whether a snapshot entry is a run's log.txt: a refused session of a run that had started (a resume refused
    /// after its checks began) adds its lines and its error there, the one change a bad input may make.</summary>
    private static bool IsRunLog(string dir, string entry) => entry.Split(' ')[0] is var path && Path.GetFileName(path) == "log.txt"
        && FileTypes.Of(Path.Combine(dir, path)) == FileType.Regular
        && File.Exists(Path.Combine(dir, Path.GetDirectoryName(path)!, ".drift-folder"))
        && File.ReadAllText(Path.Combine(dir, Path.GetDirectoryName(path)!, ".drift-folder")).Trim() == "run";

    /// <summary>The text of every run log among <paramref name="snapshot"/>'s entries.</summary>
    private static Dictionary<string, string> RunLogs(string dir, string[] snapshot) => snapshot.Where(e => IsRunLog(dir, e)).Select(e => e.Split(' ')[0])
        .ToDictionary(p => p, p => File.ReadAllText(Path.Combine(dir, p)));

    /// <summary>What is wrong with the run logs' change, or null: each is as it was, or the same with lines after it that
    /// end with the error the command printed.</summary>
    private static string? LogChange(Dictionary<string, string> before, Dictionary<string, string> after, string error)
    {
        foreach (var (path, old) in before)
            if (!after.ContainsKey(path)) return $"removed {path}";
        foreach (var (path, text) in after)
        {
            var old = before.GetValueOrDefault(path, "");
            if (text == old) continue;
            if (!text.StartsWith(old)) return $"rewrote {path}";
            if (!text.TrimEnd().EndsWith($" ERR {error}")) return $"{path} gained lines that do not end with the error: {text[old.Length..]}";
        }
        return null;
    }

    /// <summary>Every file and folder below <paramref name="dir"/>, regular files with a hash of their bytes (a FIFO is
    /// named, never opened).</summary>
    private static string[] Snapshot(string dir) => Directory.GetFileSystemEntries(dir, "*", SearchOption.AllDirectories).Order()
        .Select(f => Path.GetRelativePath(dir, f) + FileTypes.Of(f) switch
        {
            FileType.Regular => " " + Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))),
            FileType.Directory => "/",
            _ => " (special)",
        }).ToArray();
}
