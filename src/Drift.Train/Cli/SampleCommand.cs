using System.CommandLine;
using Drift.Train.Data;
using Drift.Train.Output;
using Drift.Train.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Train.Cli;

/// <summary><c>drift sample</c>: draws from a checkpoint's generator into a CSV of points or a PNG scatter.</summary>
public static class SampleCommand
{
    public static Command Create()
    {
        var checkpointDir = new Option<string>("--checkpoint") { Description = "Run folder holding checkpoint.bin.", Required = true };
        var count = new Option<int>("--n") { Description = "Number of samples. Default 10000.", DefaultValueFactory = _ => 10_000 };
        var output = new Option<string>("--out") { Description = "Output file: .csv (points, data units) or .png (scatter).", Required = true };
        var seed = new Option<long>("--seed") { Description = "Noise seed. Default 0." };
        var device = new Option<string>("--device") { Description = "cpu (default) or cuda.", DefaultValueFactory = _ => "cpu" };
        var command = new Command("sample", "Sample from a trained generator.") { checkpointDir, count, output, seed, device };

        command.SetAction(parse => Cli.Run(() =>
        {
            var n = parse.GetValue(count);
            if (n < 1) throw new UserError($"--n must be at least 1, got {n}");
            var path = parse.GetValue(output)!;
            var format = Path.GetExtension(path).ToLowerInvariant();
            if (format is not (".csv" or ".png")) throw new UserError($"--out {path}: use a .csv or .png file");
            var dev = Components.Device(parse.GetValue(device)!);
            var checkpoint = Checkpoint.Load(parse.GetValue(checkpointDir)!);
            var config = checkpoint.Config;

            using var model = Components.Generator(config, checkpoint.Scale.Mean.Length);
            checkpoint.LoadWeights(model);
            model.to(dev);
            using var rng = new Generator((ulong)parse.GetValue(seed));
            using var noise = torch.randn([n, config.NoiseDim], generator: rng);
            var points = Trainer.Evaluate(model, checkpoint.Scale, noise, dev);

            if (format == ".csv")
                CsvPoints.Write(path, points);
            else
                Plots.Samples(path, ReferenceOrEmpty(config, points.GetLength(1)), points,
                    $"{config.Data}, {config.Field}, step {checkpoint.Step}, {n} samples");
            Console.WriteLine($"wrote {n} samples to {path}");
            return 0;
        }));
        return command;
    }

    /// <summary>The data behind the samples when it is still at hand (a toy set or the CSV file), else nothing.</summary>
    private static float[,] ReferenceOrEmpty(TrainConfig config, int dim)
    {
        return PointData.IsAtHand(config.Data)
            ? Trainer.ToArray(PointData.Load(config.Data, config.EvalSamples, standardize: false).HeldOut)
            : new float[0, dim];
    }
}
