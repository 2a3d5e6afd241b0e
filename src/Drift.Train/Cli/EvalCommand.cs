using TorchSharp;
using System.CommandLine;
using System.Text;
using Drift.Loss;
using Drift.Metrics;
using Drift.Data;
using Drift.Data.Images;
using Drift.Train.Training;
using Drift.Train.Training.Images;
using Drift.Train.RunFolders;
using Drift.Train.Training.Points;

namespace Drift.Train.Cli;

/// <summary><c>drift eval</c>: a checkpoint's samples against held-out data, each metric next to its
/// data-vs-data floor at the same sample size: low-dimensional metrics for points, classifier-feature
/// metrics for images.</summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var checkpointDir = new Option<string>("--checkpoint") { Description = "Run folder holding checkpoint.bin.", Required = true };
        var count = new Option<int?>("--n") { Description = "Generated and held-out samples (capped by the held-out set). Default 2000 for points, 5000 for images." };
        var seed = new Option<long>("--seed") { Description = "Noise and projection seed. Default 0." };
        var output = new Option<string>("--out") { Description = "JSON file. Default <checkpoint>/eval.json." };
        var classifier = new Option<string[]>("--classifier")
        {
            Description = "Images: folders of metric classifiers (drift classifier); with several, every metric is given in each one's features, "
                + "besides the raw pixels. Default checkpoints/classifier-<data>.",
            AllowMultipleArgumentsPerToken = true,
        };
        var device = new Option<string>("--device") { Description = "Images: cpu (default) or cuda.", DefaultValueFactory = _ => "cpu" };
        var guidance = new Option<double>("--guidance") { Description = "Images: guidance scale to sample at. Default 1 (none).", DefaultValueFactory = _ => 1.0 };
        var ema = new Option<bool>("--ema") { Description = "Images: evaluate the EMA weights (default true) or the trained ones.", DefaultValueFactory = _ => true };
        var command = new Command("eval", "Evaluate a checkpoint: energy distance, MMD², sliced W2², modes (points); FD-<dataset>, precision/recall, class coverage (images).")
            { checkpointDir, count, seed, output, classifier, device, guidance, ema };

        command.SetAction(parse => Cli.Run(() =>
        {
            if (parse.GetValue(count) is < 2 or > 1 << 20) throw new UserError($"--n must be between 2 and {1 << 20}, got {parse.GetValue(count)}");
            var dir = parse.GetValue(checkpointDir)!;
            Components.Device(parse.GetValue(device)!);
            var checkpoint = Checkpoint.Load(dir);
            var n = parse.GetValue(count) ?? (checkpoint.Holds<ImageConfig>() ? 5000 : 2000);
            var path = parse.GetValue(output) ?? Path.Combine(dir, RunFiles.Eval);
            // eval.json is eval's own only in the run it evaluates: another run's is not this command's to write.
            var evaluated = !string.IsNullOrWhiteSpace(path) && Path.GetDirectoryName(Path.GetFullPath(path)) == Path.GetFullPath(dir);
            OutputDir.CheckFile(path, "--out", own: evaluated ? RunFiles.Eval : null);
            var (data, field, size, rows) = checkpoint.Holds<ImageConfig>()
                ? EvaluateImages(checkpoint, n, parse.GetValue(seed), parse.GetValue(classifier), parse.GetValue(device)!, parse.GetValue(guidance), parse.GetValue(ema))
                : EvaluatePoints(checkpoint, n, parse.GetValue(seed));

            var table = new StringBuilder($"{data}, {field}, step {checkpoint.Step}, {size} samples\n\n");
            table.AppendLine("| metric | generated vs held-out | data vs held-out (floor) |");
            table.AppendLine("|---|---|---|");
            foreach (var r in rows) table.AppendLine($"| {r.Name} | {r.Generated:g4} | {r.Floor:g4} |");
            Console.Write(table);

            AtomicFile.WriteJson(path, new
            {
                checkpoint = dir, step = checkpoint.Step, data, field, samples = size,
                metrics = rows.Select(r => new { metric = r.Name, generated = r.Generated, floor = r.Floor }),
            });
            Console.WriteLine($"wrote {path}");
            return 0;
        }));
        return command;
    }

    /// <summary>Metrics against data the run never saw would be silently wrong: refused, as a resume on changed data is.</summary>
    private static void RefuseChangedData(Checkpoint checkpoint, string data, string now)
    {
        if (checkpoint.DataFingerprint is { } trained && trained != now)
            throw new UserError($"{data} changed since the run in {Path.GetDirectoryName(checkpoint.FilePath)} trained on it (fingerprint {trained}, now {now}); "
                + "evaluate against the data it trained on");
    }

    private static (string Data, string Field, int Size, IReadOnlyList<EvaluatedMetric> Rows) EvaluatePoints(Checkpoint checkpoint, int n, long seed)
    {
        var config = checkpoint.Config<TrainConfig>();
        // The median distance and MMD² hold n×n float64 matrices: measured peak RSS 1.4 GB at n = 2000, 4.9 GB at 4000 (290 B a pair).
        MemoryBudget.Check(0.5e9 + 300.0 * n * n, $"eval --n {n}", "use a smaller --n");
        var data = PointData.LoadHeldOut(config.Data, n);
        // A toy set's fingerprint is of its held-out draw, which --n sizes; a toy set cannot change anyway.
        if (!ToyDatasets.Contains(config.Data)) RefuseChangedData(checkpoint, config.Data, data.Fingerprint);
        var size = (int)data.HeldOut.shape[0];
        return (config.Data, config.Field.Name, size, PointEvaluation.LowDimensional(PointEvaluation.Generate(checkpoint, size, seed), data, seed));
    }

    /// <summary>The image metrics in each classifier's features (named by its folder when there are several), then
    /// in raw pixels: metrics whose spaces disagree about two runs rank neither (docs/judges.md).</summary>
    private static (string Data, string Field, int Size, IReadOnlyList<EvaluatedMetric> Rows) EvaluateImages(Checkpoint checkpoint, int n, long seed,
        string[]? classifierDirs, string deviceName, double guidance, bool ema)
    {
        var config = checkpoint.Config<ImageConfig>();
        var device = Components.Device(deviceName);
        var dirs = classifierDirs is { Length: > 0 } ? classifierDirs : [ClassifierFile.DefaultDir(config.Data)];
        var classifiers = dirs.Select(d => (Dir: d, Loaded: ClassifierFile.Load(d))).ToArray();
        try
        {
            foreach (var (dir, (info, _)) in classifiers)
                if ((info.ImageSize, info.Channels, info.Classes) != (config.ImageSize, config.Channels, config.Classes))
                    throw new UserError($"the classifier in {dir} was trained on {info.Channels}×{info.ImageSize}² images of {info.Classes} classes, the run makes "
                        + $"{config.Channels}×{config.ImageSize}² of {config.Classes}");
            using var data = ImageData.Load(config.Data, config.ImageSize);
            RefuseChangedData(checkpoint, config.Data, data.Fingerprint());
            var size = Math.Min(n, Math.Min(data.Test.Count, data.Train.Count));
            var (images, labels) = ImageSampling.Generate(checkpoint, size, null, guidance, seed, device, ema);
            using (images)
            {
                var rows = new List<EvaluatedMetric>();
                foreach (var (dir, (info, classifier)) in classifiers)
                {
                    classifier.to(device);
                    var named = Path.GetFileName(Path.TrimEndingDirectorySeparator(dir));
                    rows.AddRange(ImageEvaluation.Compute(images, labels, data, info, classifier, device)
                        .Select(r => classifiers.Length > 1 ? r with { Name = $"{r.Name} [{named}]" } : r));
                }
                rows.AddRange(ImageEvaluation.Pixels(images, data));
                var field = config.Field.Name + (guidance > 1 ? $", guidance {guidance:g3}" : "") + (ema ? "" : ", trained weights (no EMA)");
                return (config.Data, field, size, rows);
            }
        }
        finally
        {
            foreach (var (_, (_, classifier)) in classifiers) classifier.Dispose();
        }
    }
}
