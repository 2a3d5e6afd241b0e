using System.CommandLine;
using Drift.Metrics;
using Drift.Loss;
using Drift.Data;
using Drift.Train.Output;
using Microsoft.Extensions.Logging;
using Drift.Train.RunFolders;
using Drift.Train.Training.Points;

namespace Drift.Train.Cli;

/// <summary><c>drift compare</c>: trains each field with the same seeds, budget and network, evaluates the
/// final samples and writes a report folder (report.md, report.json, curves.png, samples.png, the runs).</summary>
public static class CompareCommand
{
    public static Command Create()
    {
        var command = new Command("compare", "Train each field with the same seeds and budget, and report which does better.");
        var binder = ConfigOptions.Points(command, oneField: false);
        var options = ComparePlan.AddOptions(command);

        command.SetAction(parse => Cli.Run(() =>
        {
            var cancel = StopSignal.Graceful();
            var baseConfig = binder.Apply(parse, new TrainConfig());
            var plan = ComparePlan.Make(parse, options, baseConfig.Seed, Path.GetFileNameWithoutExtension(baseConfig.Data));
            var configs = plan.Runs.Select(r => ((TrainConfig)baseConfig.ForField(r.Field, plan.Fields) with { Seed = r.Seed }).Resolved()).ToArray();
            binder.CheckRead(parse, configs);
            foreach (var c in configs) RunFolder.Accepted(c);
            var claim = plan.Claim(configs);
            using var held = claim.Lock;

            using var loggers = Cli.Loggers((plan.Dir, FolderKind.Comparison));
            var log = loggers.CreateLogger("drift");
            var data = PointData.LoadHeldOut(baseConfig.Data, baseConfig.EvalSamples);
            var firstSamples = new Dictionary<FieldKind, float[,]>();
            var setup = $"{plan.Seeds} seed(s) per field from seed {baseConfig.Seed}, {baseConfig.Steps} steps, batch {baseConfig.Batch}, MLP {baseConfig.Width}x{baseConfig.Depth}, "
                + $"lr {baseConfig.Lr:g3} ({baseConfig.LrSchedule}); each field with its own default scales unless given.";
            var report = plan.TrainAndReport(log, i => PointsTrainer.Run(configs[i], plan.Runs[i].Dir, claim.Resume[i], log, _ => { }, cancel), i =>
            {
                var (field, seed, dir) = plan.Runs[i];
                var samples = PointEvaluation.Generate(Checkpoint.Load(dir), (int)data.HeldOut.shape[0], seed);
                firstSamples.TryAdd(field, samples);
                return PointEvaluation.LowDimensional(samples, data, seed);
            }, baseConfig.Data, setup, "energy distance", r => r.Floor, MetricFamily.Points);
            if (report is null) return 130;
            Plots.SideBySide(Path.Combine(plan.Dir, FolderKind.CompareSamples), PointData.ToArray(data.HeldOut),
                plan.Fields.Select(f => (f.Name, firstSamples[f])).ToArray(), data.Name, data.Columns);
            Console.Write(report);
            log.LogInformation("wrote {Dir}: report.md, report.json, curves.png, samples.png, runs/", plan.Dir);
            return 0;
        }));
        return command;
    }
}
