using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Drift.Metrics;
using Drift.Train.Data;
using Drift.Train.Output;
using Drift.Train.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Train.Cli;

/// <summary><c>drift eval</c>: the low-dimensional metrics of a checkpoint's samples against held-out data,
/// each next to its data-vs-data floor at the same sample size.</summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var checkpointDir = new Option<string>("--checkpoint") { Description = "Run folder holding checkpoint.bin.", Required = true };
        var count = new Option<int>("--n") { Description = "Generated and held-out points (capped by the held-out set). Default 2000.", DefaultValueFactory = _ => 2000 };
        var seed = new Option<long>("--seed") { Description = "Noise and projection seed. Default 0." };
        var output = new Option<string>("--out") { Description = "JSON file. Default <checkpoint>/eval.json." };
        var command = new Command("eval", "Evaluate a 2-D (or any low-dimensional) checkpoint: energy distance, MMD², sliced W2², modes.")
            { checkpointDir, count, seed, output };

        command.SetAction(parse => Cli.Run(() =>
        {
            var n = parse.GetValue(count);
            if (n < 2) throw new UserError($"--n must be at least 2, got {n}");
            var dir = parse.GetValue(checkpointDir)!;
            var checkpoint = Checkpoint.Load(dir);
            var config = checkpoint.Config;
            if (!ToyDatasets.Contains(config.Data) && !File.Exists(config.Data))
                throw new UserError($"the run's data '{config.Data}' is not at hand to evaluate against");
            var data = PointData.Load(config.Data, n, standardize: false);
            var heldOut = data.HeldOut;
            var size = (int)heldOut.shape[0];

            using var model = Components.Generator(config, checkpoint.Scale.Mean.Length);
            checkpoint.LoadWeights(model);
            using var rng = new Generator((ulong)parse.GetValue(seed));
            var generated = torch.tensor(Trainer.Evaluate(model, checkpoint.Scale,
                torch.randn([size, config.NoiseDim], generator: rng), CPU));
            var reference = data.Reference;

            // Kernel bandwidths from the held-out set's median pairwise distance, at three scales.
            var median = torch.cdist(heldOut, heldOut).flatten().median().item<float>();
            double[] sigmas = [0.2 * median, 0.5 * median, median];
            var rows = new List<(string Metric, double Generated, double Floor)>
            {
                ("energy distance", EnergyDistance.Compute(generated, heldOut), EnergyDistance.Compute(reference, heldOut)),
                ("MMD² (unbiased)", Mmd.Compute(generated, heldOut, sigmas), Mmd.Compute(reference, heldOut, sigmas)),
                ("sliced W2²", SlicedWasserstein.Compute(generated, heldOut, 200, rng), SlicedWasserstein.Compute(reference, heldOut, 200, rng)),
            };
            if (ToyDatasets.Centers(config.Data) is { } centers)
            {
                var std = ToyDatasets.ComponentStd(config.Data);
                var g = ModeCoverage.Compute(generated, centers, std);
                var f = ModeCoverage.Compute(reference, centers, std);
                rows.Add(($"modes covered (of {g.Modes})", g.Covered, f.Covered));
                rows.Add(("mode mass error (TV)", g.MassError, f.MassError));
                rows.Add(("off-mode share", g.OffMode, f.OffMode));
            }

            var table = new StringBuilder($"{config.Data}, {config.Field}, step {checkpoint.Step}, {size} points; MMD bandwidths "
                + string.Join(", ", sigmas.Select(s => s.ToString("g3", CultureInfo.InvariantCulture))) + "\n\n");
            table.AppendLine("| metric | generated vs held-out | data vs held-out (floor) |");
            table.AppendLine("|---|---|---|");
            foreach (var r in rows) table.AppendLine($"| {r.Metric} | {r.Generated:g4} | {r.Floor:g4} |");
            Console.Write(table);

            var json = JsonSerializer.Serialize(new
            {
                checkpoint = dir, step = checkpoint.Step, data = config.Data, field = config.Field, points = size, mmdBandwidths = sigmas,
                metrics = rows.Select(r => new { metric = r.Metric, generated = r.Generated, floor = r.Floor }),
            }, new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
            var path = parse.GetValue(output) ?? Path.Combine(dir, "eval.json");
            AtomicFile.WriteText(path, json);
            Console.WriteLine($"wrote {path}");
            return 0;
        }));
        return command;
    }
}
