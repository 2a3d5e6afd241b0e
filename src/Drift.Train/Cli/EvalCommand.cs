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

/// <summary><c>drift eval</c>: a checkpoint's samples, or images from a .npy file, against held-out data, each metric
/// next to its data-vs-data floor at the same sample size: low-dimensional metrics for points, classifier-feature
/// metrics for images.</summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var checkpointDir = new Option<string>("--checkpoint") { Description = "Run folder holding checkpoint.bin (or --images)." };
        var imagesFile = new Option<string>("--images")
        {
            Description = "Images from elsewhere instead of a run: a .npy of uint8 N×H×W or N×H×W×C (as drift sample writes), "
                + "with integer labels in NAME.labels.npy beside it if the images were drawn per class, or a folder of PNG/JPEG/BMP/GIF/TGA images "
                + "(as drift sample --out DIR writes): flat, or a folder per class named as the data's classes. Judged as they are, not resized "
                + "(no --seed, --guidance, --ema, --noise-scale).",
        };
        var pointsFile = new Option<string>("--points")
        {
            Description = "Points from elsewhere instead of a run: a .csv or .npy file in data units (as drift sample writes), judged as they are "
                + "against --data's held-out points (no --guidance, --ema, --noise-scale); a CSV whose header names the data's columns in another order is taken by name.",
        };
        var dataOption = new Option<string>("--data")
        {
            Description = "With --images or --points: the data to judge them against: image data as for train-images (default fashion-mnist), "
                + "points as for train (default checkerboard).",
        };
        var count = new Option<int?>("--n") { Description = "Generated and held-out samples (capped by the held-out set). Default 2000 for points, 5000 for images (with --images: all of them, so capped)." };
        var seed = new Option<long>("--seed") { Description = "Noise and projection seed. Default 0." };
        var output = new Option<string>("--out") { Description = "JSON file. Default <checkpoint>/eval.json (the run's last checkpoint); with --step, --images or --points none unless given." };
        var classifier = new Option<string[]>("--classifier")
        {
            Description = "Images: folders of metric classifiers (drift classifier); with several, every metric is given in each one's features, "
                + "besides the raw pixels. Default checkpoints/classifier-<data>.",
            AllowMultipleArgumentsPerToken = true,
        };
        var device = DeviceOption.Create();
        var guidance = new Option<double>("--guidance") { Description = "Images: guidance scale to sample at, from 1 to the run's --guidance-max. Default 1 (none).", DefaultValueFactory = _ => 1.0 };
        var ema = new Option<bool>("--ema") { Description = "Images: evaluate the EMA weights (default true) or the trained ones.", DefaultValueFactory = _ => true };
        var noiseScale = NoiseScaleOption.Create();
        var step = SnapshotOption.Create();
        var command = new Command("eval", "Evaluate a checkpoint, or images (a .npy or a folder) or points from elsewhere: energy distance, MMD², sliced W2², modes (points); FD-<dataset>, precision/recall, class coverage (images).")
            { checkpointDir, step, imagesFile, pointsFile, dataOption, count, seed, output, classifier, device, guidance, ema, noiseScale };

        command.SetAction(parse => Cli.Run(() =>
        {
            if (parse.GetValue(count) is < 2 or > 1 << 20) throw new UserError($"--n must be between 2 and {1 << 20}, got {parse.GetValue(count)}");
            var (dir, file, points) = (parse.GetValue(checkpointDir), parse.GetValue(imagesFile), parse.GetValue(pointsFile));
            if (new[] { dir, file, points }.Count(given => given is not null) != 1)
                throw new UserError("give one of --checkpoint RUN, --images FILE.npy or --points FILE");
            var deviceName = parse.GetValue(device)!;
            Components.Device(deviceName);
            if (file is not null || points is not null)
            {
                // Points judged take a seed for their sliced W2's projections, and no image networks; images judged draw nothing.
                var (given, what) = points is not null ? ("--points", "points") : ("--images", "images");
                Option[] refused = points is not null ? [step, guidance, ema, noiseScale, classifier, device] : [step, guidance, ema, noiseScale, seed];
                foreach (var option in refused)
                    if (parse.GetResult(option) is { Implicit: false })
                        throw new UserError($"{option.Name}: not with {given} ({what} from a file are judged as they are)");
                var fileOut = parse.GetValue(output);
                if (fileOut is not null) OutputDir.CheckFile(fileOut, "--out");
                if (points is not null)
                {
                    var pointData = parse.GetValue(dataOption) ?? TrainConfig.DefaultData;
                    var (pointCount, pointRows, reordered) = EvaluatePointsFile(points, pointData, parse.GetValue(count), parse.GetValue(seed));
                    Report($"{pointData}, points of {points}{(reordered is null ? "" : $" ({reordered})")}, {pointCount} samples", pointRows, fileOut,
                        new() { ["points"] = points, ["data"] = pointData, ["samples"] = pointCount });
                    return 0;
                }
                var data = parse.GetValue(dataOption) ?? ImageData.FashionMnist;
                var (size, rows) = EvaluateFile(file!, data, parse.GetValue(count), parse.GetValue(classifier), deviceName);
                Report($"{data}, images of {file}, {size} samples", rows, fileOut, new() { ["images"] = file, ["data"] = data, ["samples"] = size });
                return 0;
            }
            if (parse.GetResult(dataOption) is not null) throw new UserError("--data: only with --images or --points (a run is judged against the data it trained on)");

            var scale = NoiseScaleOption.Value(parse, noiseScale);
            var checkpoint = Checkpoint.Load(dir!, parse.GetValue(step));
            ImageOnlyOptions.Check(parse, checkpoint, classifier, guidance, ema);
            var n = parse.GetValue(count) ?? (checkpoint.Holds<ImageConfig>() ? 5000 : 2000);
            // A snapshot's figures would replace those of the run's last checkpoint in eval.json: written only where asked.
            var path = parse.GetValue(output) ?? (parse.GetValue(step) is null ? Path.Combine(dir!, RunFiles.Eval) : null);
            // eval.json is eval's own only in the run it evaluates: another run's is not this command's to write.
            var evaluated = !string.IsNullOrWhiteSpace(path) && Path.GetDirectoryName(Path.GetFullPath(path)) == Path.GetFullPath(dir!);
            if (path is not null) OutputDir.CheckFile(path, "--out", own: evaluated ? RunFiles.Eval : null);
            var (dataName, field, samples, metrics) = checkpoint.Holds<ImageConfig>()
                ? EvaluateRunImages(checkpoint, n, parse.GetValue(seed), parse.GetValue(classifier), deviceName, parse.GetValue(guidance), parse.GetValue(ema), scale)
                : EvaluatePoints(checkpoint, n, parse.GetValue(seed), scale, Components.Device(deviceName));
            Report($"{dataName}, {field}{SamplingNoise.Note(scale)}, step {checkpoint.Step}, {samples} samples", metrics, path,
                new() { ["checkpoint"] = dir, ["step"] = checkpoint.Step, ["data"] = dataName, ["field"] = field, ["noiseScale"] = scale, ["samples"] = samples });
            return 0;
        }));
        return command;
    }

    /// <summary>The table on stdout and, where <paramref name="path"/> is given, as JSON: <paramref name="about"/>'s
    /// fields, then the metrics.</summary>
    private static void Report(string title, IReadOnlyList<EvaluatedMetric> rows, string? path, Dictionary<string, object?> about)
    {
        var table = new StringBuilder($"{title}\n\n");
        table.AppendLine("| metric | generated vs held-out | data vs held-out (floor) |");
        table.AppendLine("|---|---|---|");
        foreach (var r in rows) table.AppendLine($"| {r.Name} | {r.Generated:g4} | {r.Floor:g4} |");
        Console.Write(table);
        if (path is null) return;
        about["metrics"] = rows.Select(r => new { metric = r.Name, generated = r.Generated, floor = r.Floor });
        AtomicFile.WriteJson(path, about);
        Console.WriteLine($"wrote {path}");
    }

    private static (string Data, string Field, int Size, IReadOnlyList<EvaluatedMetric> Rows) EvaluatePoints(Checkpoint checkpoint, int n, long seed, double noiseScale, torch.Device device)
    {
        var config = checkpoint.Config<TrainConfig>();
        CheckPointsMemory(n);
        var data = PointData.LoadHeldOut(config.Data, n);
        // A toy set's fingerprint is of its held-out draw, which --n sizes; a toy set cannot change anyway.
        if (!ToyDatasets.Contains(config.Data)) checkpoint.RefuseChangedData(config.Data, data.Fingerprint);
        var size = (int)data.HeldOut.shape[0];
        return (config.Data, config.Field.Name, size, PointEvaluation.LowDimensional(PointEvaluation.Generate(checkpoint, size, seed, device, noiseScale), data, seed));
    }

    /// <summary>The median distance holds the n×n held-out distances in float32 and sorts a copy; the other metrics take
    /// blocks of rows (<see cref="PairwiseDistances"/>): measured peak RSS 0.34 GB at n = 2000, 0.49 GB at 4000, 1.08 GB at
    /// 8000 (when MMD² held n×n float64 matrices, 1.46 GB and 4.8 GB at 2000 and 4000).</summary>
    private static void CheckPointsMemory(int n) => MemoryBudget.Check(0.4e9 + 12.0 * n * n, $"eval --n {n}", "use a smaller --n");

    /// <summary>Points made elsewhere (or by <c>drift sample</c>), judged as they are: the file's first rows, as many as
    /// the held-out points they are judged against (at most <paramref name="n"/>, default 2000), with the same metrics and
    /// floors as a run's samples get. A header that names the data's columns in another order ("lon,lat" against
    /// "lat,lon") is followed, as a data frame would align them, and said so (Reordered): by position the points scored
    /// as another distribution.</summary>
    private static (int Size, IReadOnlyList<EvaluatedMetric> Rows, string? Reordered) EvaluatePointsFile(string file, string dataSpec, int? n, long seed)
    {
        var (samples, columns) = PointData.ReadFile(file);
        var wanted = Math.Min(n ?? 2000, samples.GetLength(0));
        if (wanted < 2) throw new UserError($"{file}: 1 point; the metrics need at least 2");
        CheckPointsMemory(wanted);
        var data = PointData.LoadHeldOut(dataSpec, wanted);
        if (data.Dim != samples.GetLength(1))
            throw new UserError($"{file}: points of {samples.GetLength(1)} dimension(s), {dataSpec} has {data.Dim}");
        var size = (int)data.HeldOut.shape[0];
        var order = Enumerable.Range(0, data.Dim).ToArray();
        string? reordered = null;
        if (columns is not null && data.Columns is { } names && !columns.SequenceEqual(names) && columns.Order().SequenceEqual(names.Order()))
        {
            order = names.Select(name => Array.IndexOf(columns, name)).ToArray();
            reordered = $"columns {string.Join(", ", columns)} taken in the data's order, {string.Join(", ", names)}";
        }
        var first = new float[size, data.Dim];
        for (var i = 0; i < size; i++)
            for (var j = 0; j < data.Dim; j++)
                first[i, j] = samples[i, order[j]];
        return (size, PointEvaluation.LowDimensional(first, data, seed), reordered);
    }

    private static (string Data, string Field, int Size, IReadOnlyList<EvaluatedMetric> Rows) EvaluateRunImages(Checkpoint checkpoint, int n, long seed,
        string[]? classifierDirs, string deviceName, double guidance, bool ema, double noiseScale)
    {
        var config = checkpoint.Config<ImageConfig>();
        var device = Components.Device(deviceName);
        var classifiers = MetricClassifiers.Load(classifierDirs, config.Data, config.Channels, config.ImageSize, config.Classes, "the run makes");
        using (classifiers)
        {
            using var data = ImageData.Load(config.Data, config.ImageSize);
            checkpoint.RefuseChangedData(config.Data, data.Fingerprint());
            var size = Math.Min(n, Math.Min(data.Test.Count, data.Train.Count));
            var (images, labels) = Cli.WithCount("drawing images", size, "image",
                drawn => ImageSampling.Generate(checkpoint, size, null, guidance, seed, device, ema, noiseScale, drawn));
            using (images)
            {
                var field = config.Field.Name + (guidance > 1 ? $", guidance {guidance:g3}" : "") + (ema ? "" : ", trained weights (no EMA)");
                return (config.Data, field, size, Judge(classifiers, images, labels, data, device));
            }
        }
    }

    /// <summary><see cref="MetricClassifiers.Evaluate"/>, saying how far it is: a minute or more for 10,000 images on 2 cores.</summary>
    private static IReadOnlyList<EvaluatedMetric> Judge(MetricClassifiers classifiers, torch.Tensor images, long[] labels, ImageData data, torch.Device device) =>
        Cli.WithCount("judging in feature spaces", classifiers.Spaces, "space", judged => classifiers.Evaluate(images, labels, data, device, judged));

    /// <summary>uint8 images [N, C, H, W] of a .npy file (labels beside it, or none) or of a folder (the class folder of each
    /// image, or none).</summary>
    private static (torch.Tensor Pixels, long[]? Labels, string[]? ClassFolders) ReadImages(string path)
    {
        if (FileTypes.Of(path) != FileType.Directory)
        {
            var (pixels, labels) = NpyImages.Read(path);
            return (pixels, labels, null);
        }
        var (stored, folders) = ImageFolder.ReadAsStored(path);
        return (stored, null, folders);
    }

    /// <summary>Each image's label: the class its folder is named for (<see cref="ImageData.ClassFolder"/>).</summary>
    private static long[] ClassLabels(string dir, string[] classFolders, string[] classNames)
    {
        var byFolder = classNames.Select((name, c) => (Folder: ImageData.ClassFolder(name), Label: (long)c)).ToDictionary(p => p.Folder, p => p.Label);
        var unknown = classFolders.Distinct().Where(f => !byFolder.ContainsKey(f)).Take(3).ToArray();
        if (unknown.Length > 0)
            throw new UserError($"{dir}: class folder {string.Join(", ", unknown)} names no class of the data; its classes are "
                + string.Join(", ", byFolder.Keys.Take(10)) + (byFolder.Count > 10 ? ", ..." : ""));
        return classFolders.Select(f => byFolder[f]).ToArray();
    }

    /// <summary>Images made elsewhere (or by <c>drift sample</c>), judged as they are: the same metrics, reference
    /// images and floors as a run's samples get, so a PyTorch trainer's samples rank beside Drift's.</summary>
    private static (int Size, IReadOnlyList<EvaluatedMetric> Rows) EvaluateFile(string file, string dataSpec, int? n, string[]? classifierDirs, string deviceName)
    {
        var device = Components.Device(deviceName);
        var (pixels, labels, classFolders) = ReadImages(file);
        using (pixels)
        {
            var (count, channels, height, width) = ((int)pixels.shape[0], (int)pixels.shape[1], (int)pixels.shape[2], (int)pixels.shape[3]);
            if (height != width) throw new UserError($"{file}: images of {height}×{width}; the metrics take square images");
            // The networks first: images of a size they do not take are refused before the data is brought to that size.
            using var classifiers = MetricClassifiers.Load(classifierDirs, dataSpec, channels, height, null, "the images are");
            using var data = ImageData.Load(dataSpec, height);
            if (data.Channels != channels)
                throw new UserError($"{file}: images of {channels} channel(s), {dataSpec} has {data.Channels}");
            classifiers.CheckClasses(data.Classes, dataSpec);
            if (classFolders is not null) labels = ClassLabels(file, classFolders, data.ClassNames);
            if (labels?.FirstOrDefault(l => l < 0 || l >= data.Classes, -1) is { } bad and not -1)
                throw new UserError($"{NpyImages.LabelsPath(file)}: label {bad} is outside {dataSpec}'s classes 0..{data.Classes - 1}");
            var size = Math.Min(n ?? count, count);
            using var images = ImageSet.ToUnit(pixels.narrow(0, 0, size));
            var intended = labels?[..size] ?? Enumerable.Repeat(-1L, size).ToArray();
            var rows = Judge(classifiers, images, intended, data, device);
            return (Math.Min(size, Math.Min(data.Test.Count, data.Train.Count)), rows);
        }
    }
}
