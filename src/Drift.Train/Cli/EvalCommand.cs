using System.CommandLine;
using System.Text;
using System.Text.Json;
using Drift.Train.Data;
using Drift.Train.Output;
using Drift.Train.Training;

namespace Drift.Train.Cli;

/// <summary><c>drift eval</c>: the low-dimensional metrics of a checkpoint's samples against held-out data,
/// each next to its data-vs-data floor at the same sample size.</summary>
public static class EvalCommand
{
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static Command Create()
    {
        var checkpointDir = new Option<string>("--checkpoint") { Description = "Run folder holding checkpoint.bin.", Required = true };
        var count = new Option<int>("--n") { Description = "Generated and held-out points (capped by the held-out set). Default 2000.", DefaultValueFactory = _ => 2000 };
        var seed = new Option<long>("--seed") { Description = "Noise and projection seed. Default 0." };
        var output = new Option<string>("--out") { Description = "JSON file. Default <checkpoint>/eval.json." };
        var command = new Command("eval", "Evaluate a low-dimensional checkpoint: energy distance, MMD², sliced W2², modes.")
            { checkpointDir, count, seed, output };

        command.SetAction(parse => Cli.Run(() =>
        {
            var n = parse.GetValue(count);
            if (n < 2) throw new UserError($"--n must be at least 2, got {n}");
            var dir = parse.GetValue(checkpointDir)!;
            var checkpoint = Checkpoint.Load(dir);
            var config = checkpoint.Config;
            var data = LoadData(config.Data, n);
            var size = (int)data.HeldOut.shape[0];
            var rows = Evaluation.LowDimensional(Evaluation.Generate(checkpoint, size, parse.GetValue(seed)), data, parse.GetValue(seed));

            var table = new StringBuilder($"{config.Data}, {config.Field}, step {checkpoint.Step}, {size} points\n\n");
            table.AppendLine("| metric | generated vs held-out | data vs held-out (floor) |");
            table.AppendLine("|---|---|---|");
            foreach (var r in rows) table.AppendLine($"| {r.Metric} | {r.Generated:g4} | {r.Floor:g4} |");
            Console.Write(table);

            var path = parse.GetValue(output) ?? Path.Combine(dir, "eval.json");
            AtomicFile.WriteText(path, JsonSerializer.Serialize(new
            {
                checkpoint = dir, step = checkpoint.Step, data = config.Data, field = config.Field, points = size,
                metrics = rows.Select(r => new { metric = r.Metric, generated = r.Generated, floor = r.Floor }),
            }, Json));
            Console.WriteLine($"wrote {path}");
            return 0;
        }));
        return command;
    }

    /// <summary>The run's data in data units, when it is still at hand.</summary>
    public static PointData LoadData(string spec, int evalSamples)
    {
        if (!PointData.IsAtHand(spec))
            throw new UserError($"the run's data '{spec}' is not at hand to evaluate against");
        return PointData.Load(spec, evalSamples, standardize: false);
    }
}
