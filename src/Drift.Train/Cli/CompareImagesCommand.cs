using System.CommandLine;
using Drift.Metrics;
using Drift.Loss;
using Drift.Data.Images;
using Drift.Train.Output;
using Drift.Train.Training;
using Drift.Train.Training.Images;
using Microsoft.Extensions.Logging;
using TorchSharp;
using Drift.Train.RunFolders;
using static TorchSharp.torch;

namespace Drift.Train.Cli;

/// <summary><c>drift compare-images</c>: <c>drift compare</c> for image data. Each field trains with the same
/// seeds, budget and network; FD-&lt;dataset&gt; is logged on a schedule; the final samples get the full
/// image evaluation; the report folder holds report.md/json, curves.png (FD against step and wall time)
/// and samples.png (the first seed's EMA samples of each field side by side, one row per class).</summary>
public static class CompareImagesCommand
{
    public static Command Create()
    {
        var command = new Command("compare-images", "Train each field on image data with the same seeds and budget, and report which does better.");
        var binder = ConfigOptions.Images(command, oneField: false);
        var options = ComparePlan.AddOptions(command);
        var evalN = new Option<int>("--eval-n") { Description = "Generated and test images for the final evaluation. Default 2000.", DefaultValueFactory = _ => 2000 };
        var judges = new Option<string[]>("--eval-classifier")
        {
            Description = "Folders of metric classifiers for the final evaluation, as drift eval --classifier: every metric in each one's features, "
                + "besides the raw pixels, and a claim only where they agree. Default: the runs' --classifier.",
            AllowMultipleArgumentsPerToken = true,
        };
        command.Options.Add(evalN);
        command.Options.Add(judges);

        command.SetAction(parse => Cli.Run(() =>
        {
            var cancel = StopSignal.Graceful();
            var baseConfig = binder.Apply(parse, new ImageConfig());
            baseConfig = baseConfig with { Classifier = baseConfig.Classifier ?? ClassifierFile.DefaultDir(baseConfig.Data) };
            var n = parse.GetValue(evalN);
            if (n < 10) throw new UserError($"--eval-n must be at least 10, got {n}");
            var dataName = ImageEvaluation.DatasetName(baseConfig.Data);
            var plan = ComparePlan.Make(parse, options, baseConfig.Seed, dataName);
            var configs = plan.Runs.Select(r => ((ImageConfig)baseConfig.ForField(r.Field, plan.Fields) with { Seed = r.Seed }).Resolved()).ToArray();
            binder.CheckRead(parse, configs);
            foreach (var c in configs) RunFolder.Accepted(c);
            var claim = plan.Claim(configs);
            using var held = claim.Lock;
            using var data = ImageData.Load(baseConfig.Data, baseConfig.ImageSize);
            var judgeDirs = parse.GetValue(judges) is { Length: > 0 } given ? given : [baseConfig.Classifier];
            using var classifiers = MetricClassifiers.Load(judgeDirs, baseConfig.Data, data.Channels, data.Size, data.Classes, "the runs make");
            var device = Components.Device(baseConfig.Device);

            using var loggers = Cli.Loggers((plan.Dir, FolderKind.Comparison));
            var log = loggers.CreateLogger("drift");
            var samples = new List<Tensor>();
            var setup = $"{plan.Seeds} seed(s) per field from seed {baseConfig.Seed}, {baseConfig.Steps} steps, {baseConfig.ClassBatch} generated images per class per step, "
                + $"generator width {baseConfig.Width}, features {string.Join("+", baseConfig.Features)}, "
                + $"lr {string.Join(", ", configs.GroupBy(c => c.PeakLr).Select(g => $"{g.Key:g3} ({string.Join(", ", g.Select(c => c.Field.Name).Distinct())})"))}"
                + $"; {string.Join(", ", configs.Select(c => c.FieldDescription).Distinct())}, each with its own default scales unless given. "
                + $"FD-{dataName} and the rest in the features/predictions of {classifiers.Describe()}, and in raw pixels, {n} images a side.";
            var report = plan.TrainAndReport(log, i => ImageTrainer.Run(configs[i], plan.Runs[i].Dir, claim.Resume[i], log, _ => { }, cancel), i =>
            {
                var (_, seed, dir) = plan.Runs[i];
                var checkpoint = Checkpoint.Load(dir);
                var (images, labels) = ImageSampling.Generate(checkpoint, n, null, 1.0, seed, device);
                using var generated = images;
                var metrics = classifiers.Evaluate(images, labels, data, device);
                if (seed == baseConfig.Seed)
                {
                    var saved = checkpoint.Config<ImageConfig>();
                    samples.Add(ImageSampling.Generate(checkpoint, saved.Conditional ? 10 * Math.Min(10, saved.Classes) : 100, null, 1.0, 0, device).Images);
                }
                return metrics;
            }, dataName, setup, $"FD-{dataName}", r => r.FdFloor, MetricFamily.Images);
            if (report is null) return 130;
            SideBySide(Path.Combine(plan.Dir, FolderKind.CompareSamples), samples);
            foreach (var s in samples) s.Dispose();
            Console.Write(report);
            log.LogInformation("wrote {Dir}: report.md, report.json, curves.png, samples.png, runs/", plan.Dir);
            return 0;
        }));
        return command;
    }

    /// <summary>Each field's 10×10 block of samples, left to right, a blank column between.</summary>
    private static void SideBySide(string path, IReadOnlyList<Tensor> perField)
    {
        using var scope = torch.NewDisposeScope();
        const int columns = 10;
        var rows = (int)perField.Min(t => t.shape[0]) / columns;
        var blank = torch.zeros_like(perField[0][0]).unsqueeze(0);
        var tiles = new List<Tensor>();
        for (var r = 0; r < rows; r++)
            for (var f = 0; f < perField.Count; f++)
            {
                if (f > 0) tiles.Add(blank);
                tiles.Add(perField[f].narrow(0, r * columns, columns));
            }
        ImageFiles.Grid(path, torch.cat(tiles, 0), perField.Count * (columns + 1) - 1);
    }
}
