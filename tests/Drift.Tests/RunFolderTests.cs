using System.Diagnostics;
using System.Text.Json.Nodes;
using Drift.Data;
using Drift.Train;
using Drift.Train.Output;
using Microsoft.Extensions.Logging.Abstractions;
using Drift.Train.RunFolders;
using Drift.Train.Training.Points;

namespace Drift.Tests;

/// <summary>A run folder has one writer, survives a kill at any moment, and refuses what would make it lie:
/// damaged checkpoints, changed data, duplicated TensorBoard steps.</summary>
[Collection(RealProcesses.Name)]
public class RunFolderTests : IDisposable
{
    private readonly string scratch = Directory.CreateTempSubdirectory("drift-folder-").FullName;

    public void Dispose() => Directory.Delete(scratch, recursive: true);

    private static readonly string[] Tiny = ["--data", "moons", "--batch", "64", "--width", "16", "--depth", "1", "--eval-samples", "100"];

    private string NewDir() => Path.Combine(scratch, Guid.NewGuid().ToString("N"));

    /// <summary>A run a comparison finds in its folder is the one it would start when only the device, the snapshots and
    /// what the run filled in from its data (where the plan left that to the data) differ; anything else is named.</summary>
    [Fact]
    public void AComparisonsRunIsTheOneItsPlanWouldStartButForWhatTheDataFilledIn()
    {
        var plannedImages = new Drift.Train.Training.Images.ImageConfig { Data = "folder", Seed = 3 };
        var savedImages = plannedImages with { ImageSize = 32, Channels = 3, Classes = 2, ClassNames = ["a", "b"], Device = "cuda", SnapshotEvery = 100 };
        Assert.Empty(RunFolder.NotPlanned(savedImages, plannedImages));
        Assert.Equal(["imageSize"], RunFolder.NotPlanned(savedImages, plannedImages with { ImageSize = 16 }));
        Assert.Equal(["seed", "steps"], RunFolder.NotPlanned(savedImages, plannedImages with { Seed = 4, Steps = 10 }).Order());
        var plannedPoints = new TrainConfig { Data = "points.csv" };
        Assert.Empty(RunFolder.NotPlanned(plannedPoints with { Columns = ["lon", "lat"] }, plannedPoints));
        Assert.Equal(["width"], RunFolder.NotPlanned(plannedPoints with { Width = 8 }, plannedPoints));
    }

    /// <summary>config.json keeps a path as typed (a strict encoder wrote "a+b" as "a\u002Bb") and still reads back what
    /// JSON must escape.</summary>
    [Fact]
    public void ConfigJsonKeepsPathsAsTyped()
    {
        var typed = $"runs/{Guid.NewGuid():N}+é/points.csv";
        var json = new TrainConfig { Data = typed }.ToJson();
        Assert.Contains($"\"data\": \"{typed}\"", json);
        var quoted = typed + "\"\\";
        Assert.Equal((typed, quoted), (ConfigJson.Read<TrainConfig>(json, "test").Data,
            ConfigJson.Read<TrainConfig>(new TrainConfig { Data = quoted }.ToJson(), "test").Data));
    }

    /// <summary>A drift process training into <paramref name="dir"/>, returned once it has logged a few rows.</summary>
    internal static Process StartLongRun(string dir, params string[] extra)
    {
        var p = DriftProcess.Start(["train", .. Tiny, "--steps", "1000000", "--log-every", "1", "--eval-every", "1000000",
            "--checkpoint-every", "1000000", "--out", dir, .. extra]);
        p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        var metrics = Path.Combine(dir, RunFiles.Metrics);
        var waited = Stopwatch.StartNew();
        while (!(File.Exists(metrics) && File.ReadLines(metrics).Take(6).Count() > 5) && waited.Elapsed < TimeSpan.FromSeconds(60) && !p.HasExited)
            Thread.Sleep(50);
        if (p.HasExited) Assert.Fail($"drift exited early: {stderr.Result}");
        return p;
    }

    private static void Kill(Process p)
    {
        p.Kill();
        p.WaitForExit();
    }

    [Fact]
    public void ASecondWriterIsRefusedNamingTheHolderAndAKilledHoldersLockIsTakenOver()
    {
        var dir = NewDir();
        using var first = StartLongRun(dir);
        try
        {
            string[] again = ["train", .. Tiny, "--steps", "10", "--out", dir];
            foreach (var args in new[] { again, ["train", "--resume", dir, "--steps", "2000000"] })
            {
                var (code, _, err) = CliTests.Run(args);
                Assert.Equal(2, code);
                Assert.Single(err.Trim().Split('\n'));
                Assert.Contains($"is in use by process {first.Id} (drift train", err);
            }
        }
        finally
        {
            Kill(first);
        }

        // Killed before its first checkpoint: the folder holds a config and rows, no checkpoint, and a lock no one holds.
        Assert.False(Checkpoint.Exists(dir));
        var leftover = Path.Combine(dir, ".checkpoint.424242.drift-partial.bin");
        File.WriteAllText(leftover, "half a checkpoint");
        // A user's file that merely looks temporary is not Drift's to remove.
        var users = Path.Combine(dir, ".notes.tmp");
        File.WriteAllText(users, "mine");
        var (resumed, _, error) = CliTests.Run("train", "--resume", dir, "--steps", "12");
        Assert.True(resumed == 0, error);
        Assert.Equal(12, Checkpoint.Load(dir).Step);
        Assert.False(File.Exists(leftover));
        Assert.Equal("mine", File.ReadAllText(users));
        Assert.False(File.Exists(Path.Combine(dir, RunFiles.LockOwner)));
        Assert.Equal(Enumerable.Range(1, 12).Select(s => s.ToString()), File.ReadLines(Path.Combine(dir, RunFiles.Metrics)).Skip(1).Select(l => l.Split(',')[0]));
    }

    /// <summary>A holder killed outright leaves its owner file behind, and its pid may go to another process: the file's
    /// start time tells them apart. Here the live process is this test host, named by files as a holder writes them.</summary>
    [Fact]
    public void AnOwnerFileNamesTheHolderOnlyWhileItsProcessIsTheOneThatStartedThen()
    {
        var dir = NewDir();
        Directory.CreateDirectory(dir);
        using var self = Process.GetCurrentProcess();
        var started = self.StartTime.ToUniversalTime();
        string Owner(DateTime? start) => $"{self.Id} train --out {dir}\n" + (start is { } t ? $"started {t:O}\n" : "");
        var owner = Path.Combine(dir, RunFiles.LockOwner);

        File.WriteAllText(owner, Owner(started));
        Assert.Equal(self.Id, RunLock.Holder(dir));
        // The same pid, started a minute later or earlier than the holder: a reused pid, so no holder.
        foreach (var minutes in new[] { 1, -1 })
        {
            File.WriteAllText(owner, Owner(started.AddMinutes(minutes)));
            Assert.Null(RunLock.Holder(dir));
        }
        // An owner file of an earlier build, without the start time, names a live process as before.
        File.WriteAllText(owner, Owner(null));
        Assert.Equal(self.Id, RunLock.Holder(dir));
        File.Delete(owner);
        Assert.Null(RunLock.Holder(dir));
    }

    [Fact]
    public void AFolderBeingMarkedByAnotherWriterIsNotTakenForAUsersFolder()
    {
        // What a second writer can see while the first holds the lock and writes the marker: the lock, its owner, and
        // the marker's and the owner's temporary files (by AtomicFile's names), and nothing of a user's.
        var dir = NewDir();
        Directory.CreateDirectory(dir);
        foreach (var name in new[] { RunFiles.Lock, RunFiles.LockOwner, "..4242.drift-partial.drift-folder", "..lock.4242.drift-partial.owner" })
            File.WriteAllText(Path.Combine(dir, name), "");
        Assert.True(OwnedFolder.IsEmpty(dir));
        Assert.Null(OwnedFolder.Refusal(dir, FolderKind.Run));

        // A user's file beside them is named in the refusal, and only it.
        File.WriteAllText(Path.Combine(dir, "notes.txt"), "mine");
        Assert.Equal($"{dir} holds files Drift did not write (notes.txt); choose a new or empty folder", OwnedFolder.Refusal(dir, FolderKind.Run));
    }

    [Fact]
    public void TwoRunsStartedTogetherNeverShareAFolder()
    {
        var dir = NewDir();
        var runs = Enumerable.Range(0, 2).Select(seed => Task.Run(() =>
            CliTests.Run(["train", .. Tiny, "--steps", "40", "--seed", seed.ToString(), "--out", dir]))).ToArray();
        var results = runs.Select(t => t.Result).ToArray();
        Assert.Single(results, r => r.Code == 0);
        var refused = Assert.Single(results, r => r.Code != 0);
        Assert.Equal(2, refused.Code);
        Assert.Matches("is in use by process|already holds a run", refused.Err);
        var steps = File.ReadLines(Path.Combine(dir, RunFiles.Metrics)).Skip(1).Select(l => l.Split(',')[0]).ToArray();
        Assert.Equal(steps.Distinct(), steps);
        var seed = ConfigJson.Load<TrainConfig>(Path.Combine(dir, RunFiles.Config)).Seed;
        Assert.Equal(seed, Checkpoint.Load(dir).Config<TrainConfig>().Seed);
    }

    [Fact]
    public void JsonReportsWriteANumberWithoutAValueAsNull()
    {
        // compare-images with few samples has per-class recalls of NaN; report.json once failed on them.
        var path = NewDir() + ".json";
        var value = new Random(Tensors.Seed()).NextDouble() * 1e6;
        AtomicFile.WriteJson(path, new { nan = double.NaN, inf = double.NegativeInfinity, value, list = new[] { 1.5, double.NaN } });
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(path));
        var root = doc.RootElement;
        Assert.Equal(System.Text.Json.JsonValueKind.Null, root.GetProperty("nan").ValueKind);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, root.GetProperty("inf").ValueKind);
        Assert.Equal(value, root.GetProperty("value").GetDouble());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, root.GetProperty("list")[1].ValueKind);
    }

    /// <summary>A write the machine refuses (a full disk: .NET's message names the temporary file) is reported under the
    /// name of the file or folder being written, and leaves no temporary file or folder; a file written earlier stays whole.</summary>
    [Fact]
    public void AFailedWriteNamesItsFileAndLeavesTheEarlierOne()
    {
        var dir = Directory.CreateDirectory(NewDir()).FullName;
        var path = Path.Combine(dir, "checkpoint.bin");
        var earlier = Guid.NewGuid().ToByteArray();
        File.WriteAllBytes(path, earlier);
        var e = Assert.Throws<IOException>(() => AtomicFile.Write(path, tmp =>
        {
            File.WriteAllBytes(tmp, [1, 2, 3]);
            throw new IOException($"No space left on device : '{tmp}'");
        }));
        Assert.Equal($"{path}: No space left on device", e.Message);
        Assert.Equal(earlier, File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(dir));
        // A folder written whole (drift sample --out DIR): the same, and no folder left.
        var folder = Path.Combine(dir, "samples");
        e = Assert.Throws<IOException>(() => AtomicFile.WriteFolder(folder, tmp =>
        {
            var png = Path.Combine(Directory.CreateDirectory(Path.Combine(tmp, "Sneaker")).FullName, "000007.png");
            File.WriteAllBytes(png, [1, 2, 3]);
            throw new IOException($"No space left on device : '{png}'");
        }));
        Assert.Equal($"{folder}: No space left on device", e.Message);
        Assert.Equal([path], Directory.GetFileSystemEntries(dir));
    }

    [Fact]
    public void EveryFlippedByteOfACheckpointIsCaught()
    {
        var dir = NewDir();
        PointsTrainer.Run(new TrainConfig { Data = "moons", Steps = 3, Batch = 32, Width = 16, Depth = 1, EvalSamples = 100 }, dir, null,
            NullLogger.Instance, _ => { }, CancellationToken.None);
        var path = Path.Combine(dir, RunFiles.Checkpoint);
        var good = File.ReadAllBytes(path);
        var random = new Random(Tensors.Seed());
        foreach (var at in Enumerable.Range(0, 40).Select(_ => random.Next(good.Length)).Append(good.Length / 2).Append(good.Length - 1))
        {
            var bad = (byte[])good.Clone();
            bad[at] ^= (byte)(1 << random.Next(8));
            File.WriteAllBytes(path, bad);
            var e = Assert.Throws<UserError>(() => Checkpoint.Load(dir));
            Assert.Matches("damaged|corrupt", e.Message);
        }
        File.WriteAllBytes(path, good);
        Assert.Equal(3, Checkpoint.Load(dir).Step);
    }

    [Fact]
    public void AResumeOnChangedDataIsRefusedAndChangesNothing()
    {
        var dir = NewDir();
        Directory.CreateDirectory(dir);
        var csv = Path.Combine(dir, "points.csv");
        var random = new Random(Tensors.Seed());
        File.WriteAllLines(csv, Enumerable.Range(0, 200).Select(_ => $"{random.NextDouble()},{random.NextDouble()}"));
        var config = new TrainConfig { Data = csv, Steps = 4, Batch = 32, Width = 16, Depth = 1, EvalSamples = 40 };
        var run = Path.Combine(dir, "run");
        PointsTrainer.Run(config, run, null, NullLogger.Instance, _ => { }, CancellationToken.None);
        Assert.Equal(PointData.Load(csv, 40, true).Fingerprint, Checkpoint.Load(run).DataFingerprint);

        File.WriteAllLines(csv, Enumerable.Range(0, 200).Select(_ => $"{100 * random.NextDouble()},{random.NextDouble()}"));
        var before = Snapshot(run);
        var e = Assert.Throws<UserError>(() => PointsTrainer.Run(config with { Steps = 8 }, run, Checkpoint.Load(run), NullLogger.Instance, _ => { },
            CancellationToken.None));
        Assert.Contains("changed since its checkpoint", e.Message);
        Assert.Equal(before, Snapshot(run));
    }

    /// <summary>A run resumes with its checkpoint's config and writes config.json from it again, so a hand edit of
    /// config.json (a learning rate, drawn at random below the default 0.002) is refused, naming the key, and changes nothing; what a resume may
    /// itself leave there before its first checkpoint (more steps) is not an edit; without config.json the run writes it
    /// again from the checkpoint.</summary>
    [Fact]
    public void AnEditedConfigJsonIsRefusedOnResumeRatherThanDropped()
    {
        var run = NewDir();
        var (code, _, err) = DriftProcess.Run(["train", .. Tiny, "--steps", "3", "--out", run]);
        Assert.True(code == 0, err);
        var configPath = Path.Combine(run, RunFiles.Config);
        var written = File.ReadAllText(configPath);
        var lr = (new Random(Tensors.Seed()).Next(1, 199) * 1e-5).ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        File.WriteAllText(configPath, written.Replace("\"lr\": 0.002,", $"\"lr\": {lr},"));
        Assert.NotEqual(written, File.ReadAllText(configPath));
        var before = Snapshot(run);
        (code, _, err) = DriftProcess.Run(["train", "--resume", run, "--steps", "5"]);
        Assert.Equal(2, code);
        Assert.Equal($"drift: error: {configPath} differs from the run's checkpoint in lr; a run resumes with its checkpoint's config: undo the edit "
            + $"(or delete config.json, which the run writes again), or start a new run from it with --config {configPath} --out NEW", err.Trim());
        Assert.Equal(before, Snapshot(run));

        File.WriteAllText(configPath, written.Replace("\"steps\": 3,", "\"steps\": 5,"));
        (code, _, err) = DriftProcess.Run(["train", "--resume", run, "--steps", "5"]);
        Assert.True(code == 0, err);
        File.Delete(configPath);
        (code, _, err) = DriftProcess.Run(["train", "--resume", run, "--steps", "6"]);
        Assert.True(code == 0, err);
        Assert.Equal(written.Replace("\"steps\": 3,", "\"steps\": 6,"), File.ReadAllText(configPath));
    }

    /// <summary>config.json holds keys worked out from others (positiveCount; an image run's scales) for its reader; a
    /// config file whose such key disagrees with the others is refused, naming it, where the edit was dropped without a
    /// word. The same value in another spelling (1024.0) is the same value.</summary>
    [Fact]
    public void AConfigFileWhoseDerivedKeyDisagreesIsRefused()
    {
        Directory.CreateDirectory(scratch);
        var random = new Random(Tensors.Seed());
        string Edited(string json, string key, JsonNode value)
        {
            var node = JsonNode.Parse(json)!.AsObject();
            node[key] = value;
            var path = Path.Combine(scratch, $"{Guid.NewGuid():N}.json");
            File.WriteAllText(path, node.ToJsonString());
            return path;
        }
        var points = new TrainConfig { Batch = 64 * random.Next(1, 20) };
        Assert.Equal(points.ToJson(), ConfigJson.Load<TrainConfig>(Edited(points.ToJson(), "positiveCount", JsonNode.Parse($"{points.Batch}.0")!)).ToJson());
        var e = Assert.Throws<UserError>(() => ConfigJson.Load<TrainConfig>(Edited(points.ToJson(), "positiveCount", points.Batch / 2)));
        Assert.Contains($"'positiveCount' is {points.Batch / 2} where the other keys give {points.Batch}", e.Message);
        // The stale one after an edit of what it comes from: refused too, since which of the two was meant cannot be told.
        e = Assert.Throws<UserError>(() => ConfigJson.Load<TrainConfig>(Edited(points.ToJson(), "positives", points.Batch / 2)));
        Assert.Contains("'positiveCount'", e.Message);

        var images = new Drift.Train.Training.Images.ImageConfig { Bandwidths = [0.05 * random.Next(1, 10), 0.7] };
        Assert.Equal(images.ToJson(), ConfigJson.Load<Drift.Train.Training.Images.ImageConfig>(Edited(images.ToJson(), "classBatch", images.ClassBatch)).ToJson());
        e = Assert.Throws<UserError>(() => ConfigJson.Load<Drift.Train.Training.Images.ImageConfig>(Edited(images.ToJson(), "scales", new JsonArray(0.3, 0.6))));
        Assert.Contains("'scales' is [0.3,0.6]", e.Message);
    }

    [Fact]
    public void AResumedRunLogsEachStepToTensorBoardOnce()
    {
        var dir = NewDir();
        var config = new TrainConfig { Data = "moons", Steps = 30, Batch = 32, Width = 16, Depth = 1, EvalSamples = 100, LogEvery = 1, CheckpointEvery = 7 };
        Assert.Throws<InvalidOperationException>(() => PointsTrainer.Run(config, dir, null, NullLogger.Instance,
            r => { if (r.Step == 17) throw new InvalidOperationException("crash"); }, CancellationToken.None));
        PointsTrainer.Run(config, dir, Checkpoint.Load(dir), NullLogger.Instance, _ => { }, CancellationToken.None);

        var losses = Directory.GetFiles(Path.Combine(dir, RunFiles.TensorBoard)).SelectMany(Events)
            .Where(e => e.Summary?.Value.Any(v => v.Tag == "loss") == true).Select(e => e.Step).ToArray();
        Assert.Equal(Enumerable.Range(1, 30).Select(s => (long)s), losses.Order());
    }

    /// <summary>The events of a TensorBoard file, read as TensorBoard reads them (length, CRC, event, CRC).</summary>
    private static IEnumerable<Tensorboard.Event> Events(string path)
    {
        var bytes = File.ReadAllBytes(path);
        for (var at = 0; at < bytes.Length;)
        {
            var length = (int)BitConverter.ToUInt64(bytes, at);
            yield return Tensorboard.Event.Parser.ParseFrom(bytes, at + 12, length);
            at += 12 + length + 4;
        }
    }

    private static string[] Snapshot(string dir) => Directory.GetFiles(dir, "*", SearchOption.AllDirectories).Order()
        .Select(f => $"{Path.GetRelativePath(dir, f)} {Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f)))}").ToArray();
}
