using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
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
                if (TrainCommand.HoldsRun(run.Dir)) throw new UserError($"{run.Dir} already holds a run; choose another --out");
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

            var report = Report(baseConfig, names, seedCount, results);
            AtomicFile.WriteText(Path.Combine(dir, "report.md"), report);
            AtomicFile.WriteText(Path.Combine(dir, "report.json"), JsonSerializer.Serialize(results.Select(r => new
            {
                field = r.Field, run = Path.GetFileName(r.Run.OutDir), wallSeconds = r.Run.WallSeconds,
                steps = r.Run.Step, metrics = r.Metrics.Select(m => new { metric = m.Metric, generated = m.Generated, floor = m.Floor }),
            }), EvalCommand.Json));
            Plots.Comparison(Path.Combine(dir, "curves.png"), names.Select(f =>
                (f, (IReadOnlyList<IReadOnlyList<MetricsRow>>)results.Where(r => r.Field == f).Select(r => r.Run.Metrics).ToArray())).ToArray(),
                results[0].Run.Floor, data.Name);
            Plots.SideBySide(Path.Combine(dir, "samples.png"), Trainer.ToArray(data.HeldOut),
                names.Select(f => (f, results.First(r => r.Field == f).Samples)).ToArray(), data.Name);
            Console.Write(report);
            log.LogInformation("wrote {Dir}: report.md, report.json, curves.png, samples.png, runs/", dir);
            return 0;
        })));
        return command;
    }

    private static string Report(TrainConfig config, string[] fields, int seeds,
        IReadOnlyList<(string Field, TrainResult Run, IReadOnlyList<MetricRow> Metrics, float[,] Samples)> results)
    {
        static string MeanStd(IEnumerable<double> values)
        {
            var v = values.ToArray();
            var mean = v.Average();
            var std = v.Length > 1 ? Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1)) : 0;
            return string.Create(CultureInfo.InvariantCulture, $"{mean:g4} ± {std:g2}");
        }
        var sb = new StringBuilder();
        sb.AppendLine($"# {config.Data}: {string.Join(" vs ", fields)}");
        sb.AppendLine();
        sb.AppendLine($"{seeds} seed(s) per field from seed {config.Seed}, {config.Steps} steps, batch {config.Batch}, MLP {config.Width}x{config.Depth}, "
            + $"lr {config.Lr:g3} ({config.LrSchedule}); each field with its own default scales unless given. "
            + "Metrics of the final samples against held-out data (mean ± std over seeds); the floor is an independent draw of data.");
        sb.AppendLine();
        sb.AppendLine("| metric | " + string.Join(" | ", fields) + " | floor |");
        sb.AppendLine("|---|" + string.Concat(fields.Select(_ => "---|")) + "---|");
        foreach (var metric in results[0].Metrics.Select(m => m.Metric))
            sb.AppendLine($"| {metric} | " + string.Join(" | ", fields.Select(f =>
                    MeanStd(results.Where(r => r.Field == f).Select(r => r.Metrics.First(m => m.Metric == metric).Generated))))
                + $" | {results[0].Metrics.First(m => m.Metric == metric).Floor:g4} |");
        sb.AppendLine("| wall time, s | " + string.Join(" | ", fields.Select(f => MeanStd(results.Where(r => r.Field == f).Select(r => r.Run.WallSeconds)))) + " | |");
        sb.AppendLine("| steps | " + string.Join(" | ", fields.Select(f => results.First(r => r.Field == f).Run.Step.ToString(CultureInfo.InvariantCulture))) + " | |");
        sb.AppendLine();
        sb.AppendLine("![energy distance against step and wall time](curves.png)");
        sb.AppendLine();
        sb.AppendLine("![samples of the first seed of each field](samples.png)");
        return sb.ToString();
    }
}
