using System.CommandLine;
using Drift.Train.Output;
using Drift.Train.Training;
using Microsoft.Extensions.Logging;

namespace Drift.Train.Cli;

/// <summary><c>drift compare</c>: trains each field with the same seeds, budget and network, evaluates the
/// final samples and writes a report folder (report.md, report.json, curves.png, samples.png, the runs).</summary>
public static class CompareCommand
{
    public static Command Create()
    {
        var command = new Command("compare", "Train each field with the same seeds and budget, and report which does better.");
        var binder = TrainCommand.AddOptions(command);
        var fields = new Option<string>("--fields") { Description = "Comma-separated fields. Default conservative,laplace.", DefaultValueFactory = _ => "conservative,laplace" };
        var seeds = new Option<int>("--seeds") { Description = "Seeds per field (seed, seed+1, ...). Default 3.", DefaultValueFactory = _ => 3 };
        var outDir = new Option<string>("--out") { Description = "Report folder. Default checkpoints/compare-<data>." };
        command.Options.Add(fields);
        command.Options.Add(seeds);
        command.Options.Add(outDir);

        command.SetAction((parse, cancel) => Task.FromResult(Cli.Run(() =>
        {
            var baseConfig = binder.Apply(parse, new TrainConfig());
            if (Data.Images.ImageData.IsImageData(baseConfig.Data))
                throw new UserError($"--data {baseConfig.Data} is image data: compare on it with drift compare-images --data {baseConfig.Data}");
            var names = parse.GetValue(fields)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            var seedCount = parse.GetValue(seeds);
            if (seedCount < 1) throw new UserError($"--seeds must be at least 1, got {seedCount}");
            var dir = parse.GetValue(outDir) ?? Path.Combine("checkpoints", $"compare-{Path.GetFileNameWithoutExtension(baseConfig.Data)}");
            var plan = names.SelectMany(f => Enumerable.Range(0, seedCount).Select(s =>
                (Field: f, Config: (baseConfig with { Field = f, Seed = baseConfig.Seed + s }).Resolved(),
                    Dir: Path.Combine(dir, "runs", $"{f}-seed{baseConfig.Seed + s}")))).ToArray();
            foreach (var run in plan)
            {
                run.Config.Validate();
                if (RunFolder.HoldsRun(run.Dir)) throw new UserError($"{run.Dir} already holds a run; choose another --out");
            }

            using var loggers = Cli.Loggers();
            var log = loggers.CreateLogger("drift");
            var data = EvalCommand.LoadData(baseConfig.Data, baseConfig.EvalSamples);
            var results = new List<(string Field, TrainResult Run, IReadOnlyList<MetricRow> Metrics, float[,] Samples)>();
            foreach (var run in plan)
            {
                log.LogInformation("training {Field}, seed {Seed} -> {Dir}", run.Field, run.Config.Seed, run.Dir);
                var result = Trainer.Run(run.Config, run.Dir, null, log, _ => { }, cancel);
                if (result.Interrupted) return 130;
                var samples = Evaluation.Generate(Checkpoint.Load(run.Dir), (int)data.HeldOut.shape[0], run.Config.Seed);
                results.Add((run.Field, result, Evaluation.LowDimensional(samples, data, run.Config.Seed), samples));
            }

            var setup = $"{seedCount} seed(s) per field from seed {baseConfig.Seed}, {baseConfig.Steps} steps, batch {baseConfig.Batch}, MLP {baseConfig.Width}x{baseConfig.Depth}, "
                + $"lr {baseConfig.Lr:g3} ({baseConfig.LrSchedule}); each field with its own default scales unless given.";
            var report = ComparisonReport.Write(dir, baseConfig.Data, setup, names,
                results.Select(r => new ComparedRun(r.Field, r.Run.OutDir, r.Run.WallSeconds, r.Run.Step, r.Metrics, r.Run.Metrics)).ToArray(),
                "energy distance", results[0].Run.Floor);
            Plots.SideBySide(Path.Combine(dir, "samples.png"), Trainer.ToArray(data.HeldOut),
                names.Select(f => (f, results.First(r => r.Field == f).Samples)).ToArray(), data.Name);
            Console.Write(report);
            log.LogInformation("wrote {Dir}: report.md, report.json, curves.png, samples.png, runs/", dir);
            return 0;
        })));
        return command;
    }
}
