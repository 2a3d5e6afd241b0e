using System.CommandLine;
using Drift.Train.Data.Images;
using Drift.Train.Output;
using Drift.Train.Training;
using Drift.Train.Training.Images;
using Microsoft.Extensions.Logging;
using TorchSharp;
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
        var binder = TrainImagesCommand.AddOptions(command);
        var fields = new Option<string>("--fields") { Description = "Comma-separated fields. Default conservative,laplace.", DefaultValueFactory = _ => "conservative,laplace" };
        var seeds = new Option<int>("--seeds") { Description = "Seeds per field (seed, seed+1, ...). Default 3.", DefaultValueFactory = _ => 3 };
        var evalN = new Option<int>("--eval-n") { Description = "Generated and test images for the final evaluation. Default 2000.", DefaultValueFactory = _ => 2000 };
        var outDir = new Option<string>("--out") { Description = "Report folder. Default checkpoints/compare-<data>." };
        command.Options.Add(fields);
        command.Options.Add(seeds);
        command.Options.Add(evalN);
        command.Options.Add(outDir);

        command.SetAction((parse, cancel) => Task.FromResult(Cli.Run(() =>
        {
            var baseConfig = binder.Apply(parse, new ImageConfig());
            baseConfig = baseConfig with { Classifier = baseConfig.Classifier ?? ClassifierCommand.DefaultDir(baseConfig.Data) };
            var names = parse.GetValue(fields)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            var seedCount = parse.GetValue(seeds);
            if (seedCount < 1) throw new UserError($"--seeds must be at least 1, got {seedCount}");
            var n = parse.GetValue(evalN);
            if (n < 10) throw new UserError($"--eval-n must be at least 10, got {n}");
            var dataName = ImageEvaluation.DatasetName(baseConfig.Data);
            var dir = parse.GetValue(outDir) ?? Path.Combine("checkpoints", $"compare-{dataName}");
            var plan = names.SelectMany(f => Enumerable.Range(0, seedCount).Select(s =>
                (Field: f, Config: baseConfig with { Field = f, Seed = baseConfig.Seed + s },
                    Dir: Path.Combine(dir, "runs", $"{f}-seed{baseConfig.Seed + s}")))).ToArray();
            foreach (var run in plan)
            {
                run.Config.Validate();
                if (RunFolder.HoldsRun(run.Dir)) throw new UserError($"{run.Dir} already holds a run; choose another --out");
            }
            var (info, classifier) = ClassifierFile.Load(baseConfig.Classifier);
            using var data = ImageData.Load(baseConfig.Data, baseConfig.ImageSize);
            var device = Components.Device(baseConfig.Device);
            classifier.to(device);

            using var loggers = Cli.Loggers();
            var log = loggers.CreateLogger("drift");
            var runs = new List<ComparedRun>();
            var floor = double.NaN;
            var samples = new List<Tensor>();
            foreach (var run in plan)
            {
                log.LogInformation("training {Field}, seed {Seed} -> {Dir}", run.Field, run.Config.Seed, run.Dir);
                var result = ImageTrainer.Run(run.Config, run.Dir, null, log, _ => { }, cancel);
                if (result.Interrupted) return 130;
                floor = result.FdFloor;
                var checkpoint = Checkpoint.Load(run.Dir);
                var (images, labels) = ImageSampling.Generate(checkpoint, n, null, 1.0, run.Config.Seed, device);
                var metrics = ImageEvaluation.Compute(images, labels, data, info, classifier, device);
                log.LogInformation("{Field} seed {Seed}: {Metrics}", run.Field, run.Config.Seed,
                    string.Join(", ", metrics.Select(m => $"{m.Metric} {m.Generated:g4}")));
                runs.Add(new ComparedRun(run.Field, run.Dir, result.WallSeconds, result.Step, metrics, result.Metrics));
                if (run.Config.Seed == baseConfig.Seed)
                    samples.Add(ImageSampling.Generate(checkpoint, checkpoint.ImageConfig.Conditional ? 10 * Math.Min(10, checkpoint.ImageConfig.Classes) : 100,
                        null, 1.0, 0, device).Images);
                images.Dispose();
            }
            classifier.Dispose();

            var setup = $"{seedCount} seed(s) per field from seed {baseConfig.Seed}, {baseConfig.Steps} steps, {baseConfig.ClassBatch} generated images per class per step, "
                + $"generator width {baseConfig.Width}, features {string.Join("+", baseConfig.Features)}, lr {baseConfig.Lr:g3}; each field with its own default scales unless given. "
                + $"FD-{dataName} and the rest in the features/predictions of the project's classifier (test accuracy {info.TestAccuracy:P1}), {n} images a side.";
            var report = ComparisonReport.Write(dir, dataName, setup, names, runs, $"FD-{dataName}", floor);
            SideBySide(Path.Combine(dir, "samples.png"), samples);
            foreach (var s in samples) s.Dispose();
            Console.Write(report);
            log.LogInformation("wrote {Dir}: report.md, report.json, curves.png, samples.png, runs/", dir);
            return 0;
        })));
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
