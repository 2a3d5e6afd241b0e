using System.CommandLine;
using Drift.Data;
using Drift.Loss;
using Drift.Train.Output;
using Drift.Train.RunFolders;
using Drift.Train.Training.Points;
using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Train.Cli;

/// <summary><c>drift field</c>: each field's velocity at the same samples, side by side: a points run's generated samples
/// at its checkpoint (the other fields at their defaults, at the same point of their runs), or, without a run, a
/// standard normal in the data's standardised coordinates, where a new run's samples start. A PNG of arrows, or a CSV of
/// the samples and each field's velocity in data units.</summary>
public static class FieldCommand
{
    /// <summary>The fields hold n×n matrices: all four fields at 8192 peaked at 6.2 GB of memory (the sinkhorn field alone
    /// 4.4; `/usr/bin/time -v drift field --n 8192 --fields conservative,laplace,sinkhorn,mmd --out f.csv`, 2026-12-07), far
    /// past what arrows can show.</summary>
    private const int MostSamples = 4096;

    public static Command Create()
    {
        var checkpointDir = new Option<string>("--checkpoint") { Description = "A points run: its generator's samples, its data and its field at the scales it reached. Default: none (see --data)." };
        var step = SnapshotOption.Create();
        var dataOption = new Option<string>("--data") { Description = "Without --checkpoint: the data (as for train), the samples a standard normal in its standardised coordinates, as a new run starts. Default checkerboard." };
        var fields = ListOption.Create("--fields", $"Fields, separated by commas or spaces: {string.Join(", ", FieldKind.All)}; each as a new run's, but a run's own field as it trained, either with the options below. Default conservative,laplace.", "conservative,laplace");
        var count = new Option<int>("--n") { Description = $"Samples, and data points drawn as the positives (at most {MostSamples}). Default 500.", DefaultValueFactory = _ => 500 };
        var seed = new Option<long>("--seed") { Description = "Seed of the samples' noise and of the data drawn. Default 0." };
        var output = new Option<string>("--out") { Description = ".png (one panel of arrows a field, the first two coordinates) or .csv (the samples, then each field's velocity at them, in data units).", Required = true };
        var command = new Command("field", "Draw each field's velocity at the same samples, side by side (points).") { checkpointDir, step, dataOption, fields, count, seed, output };
        var knobs = new ConfigBinder<TrainConfig>(command);
        FieldOptions.Bind(knobs, "at the start of a run (annealed as in a run to --checkpoint's step), in standardised data units", oneField: false);

        command.SetAction(parse => Cli.Run(() =>
        {
            var path = parse.GetValue(output)!;
            var format = Path.GetExtension(path).ToLowerInvariant();
            if (format is not (".png" or ".csv")) throw new UserError($"--out {path}: use a .png or .csv file");
            OutputDir.CheckFile(path, "--out");
            var kinds = ListOption.Items(parse.GetValue(fields)!).Select(f => ChoiceOption.Parse(f, "field", FieldOptions.Choices)).Distinct().ToArray();
            if (kinds.Length == 0) throw new UserError("--fields needs at least one field");
            var n = parse.GetValue(count);
            if (n < 2 || n > MostSamples) throw new UserError($"--n must be between 2 and {MostSamples}, got {n}");
            var noiseSeed = parse.GetValue(seed);

            var checkpoint = parse.GetValue(checkpointDir) is { } dir ? Checkpoint.Load(dir, parse.GetValue(step)) : null;
            if (checkpoint is null && parse.GetResult(step) is not null) throw new UserError("--step: only with --checkpoint");
            if (checkpoint is not null && parse.GetResult(dataOption) is not null)
                throw new UserError("--data: only without --checkpoint (a run's field is drawn against the data it trained on)");
            var run = checkpoint?.Config<TrainConfig>();
            // The run's own field as it trained, the others as a run of theirs would start; either with the knobs given here.
            var configs = kinds.Select(f => ((TrainConfig)knobs.Apply(parse, run is not null && run.Field == f ? run : new TrainConfig { Field = f })
                .ForField(f, kinds)).Resolved()).ToArray();
            knobs.CheckRead(parse, configs);
            foreach (var c in configs) c.Validate();
            var spec = run?.Data ?? parse.GetValue(dataOption) ?? TrainConfig.DefaultData;
            if (run is not null && !PointData.IsAtHand(spec)) throw new UserError($"the run's data '{spec}' is not at hand to draw the field against");
            // Held out and standardised as the run's data was (a new run's by default): the same training rows, the same coordinates.
            var split = run ?? new TrainConfig();
            var data = PointData.Load(spec, split.EvalSamples, split.Standardize);
            if (checkpoint is not null && !ToyDatasets.Contains(spec)) checkpoint.RefuseChangedData(spec, data.Fingerprint);
            if (format == ".png" && data.Dim < 2) throw new UserError($"--out {path}: arrows need 2 or more dimensions, {spec} has 1; write a .csv");

            using var scope = torch.NewDisposeScope();
            using var rng = new Generator((ulong)noiseSeed);
            var positives = data.Sample(n, rng);
            var samples = checkpoint is null ? torch.randn([n, data.Dim], generator: rng)
                : data.Scale.Normalize(torch.tensor(PointEvaluation.Generate(checkpoint, n, noiseSeed)));
            var progress = run is null ? 0 : Math.Min(1, (double)checkpoint!.Step / run.Steps);
            var view = FieldView.Compute(configs, samples, positives, data.Scale, progress);

            var where = run is null ? $"{spec}, standard normal samples" : $"{spec}, step {checkpoint!.Step} of {run.Steps}";
            if (format == ".png")
                Plots.Fields(path, view.Positives, view.Samples,
                    view.Fields.Select(f => ($"{f.Field} ({f.Scales}), RMS {f.Rms:g3}\n{where}", f.Velocity)).ToArray(), data.Columns);
            else
            {
                var columns = PointData.ColumnNames(data.Columns, data.Dim);
                // A data column may be named as a velocity column would be ("conservative_x"): the velocities' names then
                // take a prefix until none is, where one name for two columns would have written both into one.
                var prefix = "";
                string[] Velocities() => kinds.SelectMany(f => columns.Select(c => $"{prefix}{f.Name}_{c}")).ToArray();
                while (Velocities().Any(columns.Contains)) prefix += "velocity_";
                PointFiles.Csv(path, PointData.ToArray(torch.cat([torch.tensor(view.Samples), .. view.Fields.Select(f => torch.tensor(f.Velocity))], 1)),
                    [.. columns, .. Velocities()]);
            }
            foreach (var f in view.Fields)
                Console.WriteLine($"{f.Field} ({f.Scales}): velocity RMS {f.Rms:g4} (standardised units)");
            Console.WriteLine($"wrote {path}: {where}, {n} samples and {n} data points");
            return 0;
        }));
        return command;
    }
}
