using System.CommandLine;
using Drift.Loss;
using Drift.Data;
using Drift.Data.Images;
using Drift.Train.Output;
using Drift.Train.Training;
using Drift.Train.Training.Images;
using TorchSharp;
using Drift.Train.RunFolders;
using Drift.Train.Training.Points;
using static TorchSharp.torch;

namespace Drift.Train.Cli;

/// <summary><c>drift sample</c>: draws from a checkpoint's generator: points into a CSV, a .npy or a PNG scatter,
/// images into a PNG grid or a .npy array (with the labels beside it).</summary>
public static class SampleCommand
{
    public static Command Create()
    {
        var checkpointDir = new Option<string>("--checkpoint") { Description = "Run folder holding checkpoint.bin.", Required = true };
        var count = new Option<int?>("--n") { Description = "Number of samples. Default 10000 points or 64 images." };
        var output = new Option<string>("--out") { Description = "Points: .csv or .npy (float32 N×d; both in data units) or .png (scatter). Images: .png (grid), .npy (uint8 N×H×W[×C], labels in <name>.labels.npy) or a new folder (a name without extension): one PNG an image, in a folder per class for a conditional run.", Required = true };
        var classLabel = new Option<string?>("--class") { Description = "Images: draw only this class (conditional runs), by name (\"Sneaker\", a folder's subfolder) or number (0 to K-1, where no class has that name). Default: classes in turn." };
        var guidance = new Option<double>("--guidance") { Description = "Images: guidance scale the generator is conditioned on, from 1 to the run's --guidance-max. Default 1 (none).", DefaultValueFactory = _ => 1.0 };
        var ema = new Option<bool>("--ema") { Description = "Images: sample the EMA weights (default true) or the trained ones.", DefaultValueFactory = _ => true };
        var seed = new Option<long>("--seed") { Description = "Noise seed. Default 0." };
        var device = DeviceOption.Create();
        var noiseScale = NoiseScaleOption.Create();
        var step = SnapshotOption.Create();
        var interpolate = new Option<int?>("--interpolate")
        {
            Description = "Images: walks through the noise instead, K images a row from one noise to another along the great circle "
                + "between them (--n / K rows; one class a row), to see how smoothly the generator moves between samples.",
        };
        var command = new Command("sample", "Sample from a trained generator.") { checkpointDir, step, count, output, seed, device, classLabel, guidance, ema, noiseScale, interpolate };

        command.SetAction(parse => Cli.Run(() =>
        {
            var path = parse.GetValue(output)!;
            // A path without an extension is a folder: one PNG an image.
            var format = Path.GetExtension(Path.TrimEndingDirectorySeparator(path)).ToLowerInvariant();
            if (format is not (".csv" or ".png" or ".npy" or "")) throw new UserError($"--out {path}: use a .csv, .png or .npy file, or a folder (a name without extension)");
            var scale = NoiseScaleOption.Value(parse, noiseScale);
            var checkpoint = Checkpoint.Load(parse.GetValue(checkpointDir)!, parse.GetValue(step));
            var images = checkpoint.Holds<ImageConfig>();
            if (format == "" && !images) throw new UserError($"--out {path}: a folder of PNGs is for image runs; use a .csv, .npy or .png file for points");
            if (format == "") OwnedFolder.CheckNewFolderOutput(path, "--out");
            else OutputDir.CheckFile(path, "--out");
            if (format == ".npy" && images) OutputDir.CheckFile(NpyImages.LabelsPath(path), "--out (its labels)");
            var n = parse.GetValue(count) ?? (images ? 64 : 10_000);
            var most = images ? 1 << 17 : 1 << 24;
            if (n < 1 || n > most) throw new UserError($"--n must be between 1 and {most}, got {n}");
            if (images && format == ".csv") throw new UserError($"--out {path}: use a .png or .npy file for this run of images");
            var dev = Components.Device(parse.GetValue(device)!);
            ImageOnlyOptions.Check(parse, checkpoint, classLabel, guidance, interpolate, ema);
            if (parse.GetValue(interpolate) is { } k && (k < 2 || k > n))
                throw new UserError($"--interpolate must be between 2 and --n ({n}) images a row, got {k}");
            if (images)
                return SampleImages(checkpoint, n, path, format, parse.GetValue(classLabel) is { } spec ? checkpoint.Config<ImageConfig>().ClassLabel(spec) : null,
                    parse.GetValue(guidance), parse.GetValue(seed), dev, parse.GetValue(ema), scale, parse.GetValue(interpolate));
            var config = checkpoint.Config<TrainConfig>();
            var points = PointEvaluation.Generate(checkpoint, n, parse.GetValue(seed), dev, scale);

            if (format == ".csv")
                PointFiles.Csv(path, points, config.Columns);
            else if (format == ".npy")
                PointFiles.Npy(path, points);
            else
                Plots.Samples(path, ReferenceOrEmpty(config, points.GetLength(1)), points,
                    $"{config.Data}, {config.Field.Name}, step {checkpoint.Step}, {Count(n, "sample")}{SamplingNoise.Note(scale)}", config.Columns);
            Console.WriteLine($"wrote {Count(n, "sample")} to {path}");
            return 0;
        }));
        return command;
    }

    /// <param name="format">".png" (a grid), ".npy", or "" (a folder of PNGs).</param>
    /// <param name="walk">Images a row of a walk through the noise (<see cref="ImageSampling.Interpolate"/>); null: samples.</param>
    private static int SampleImages(Checkpoint checkpoint, int n, string path, string format, int? classLabel, double guidance, long seed, Device device, bool ema,
        double noiseScale, int? walk)
    {
        var config = checkpoint.Config<ImageConfig>();
        var total = walk is { } k ? n / k * k : n;
        var (images, labels) = Cli.WithCount("drawing images", total, "image", drawn => walk is { } steps
            ? ImageSampling.Interpolate(checkpoint, n / steps, steps, classLabel, guidance, seed, device, ema, noiseScale, drawn)
            : ImageSampling.Generate(checkpoint, n, classLabel, guidance, seed, device, ema, noiseScale, drawn));
        n = labels.Length;
        using (images)
        {
            if (format == ".png")
                // A walk a row; classes in turn, one column per class.
                ImageFiles.Grid(path, images, walk ?? (config.Conditional && classLabel is null ? config.Classes : (int)Math.Ceiling(Math.Sqrt(n))));
            else if (format == ".npy")
            {
                ImageFiles.Npy(path, images);
                ImageFiles.NpyLabels(NpyImages.LabelsPath(path), labels);
            }
            else
                Cli.WithCount("writing images", n, "image", written =>
                {
                    ImageFiles.Folder(path, images, labels,
                        config.Conditional ? config.NamedClasses ?? Enumerable.Range(0, config.Classes).Select(c => $"{c}").ToArray() : null, written);
                    return 0;
                });
        }
        var of = classLabel is { } c ? $" of class {config.ClassName(c)}" : "";
        Console.WriteLine(walk is { } steps ? $"wrote {Count(n / steps, "walk")} of {steps} images{of} to {path}" : $"wrote {Count(n, "image")}{of} to {path}");
        return 0;
    }

    /// <summary>The data behind the samples when it is still at hand (a toy set or the CSV file), else nothing.</summary>
    private static float[,] ReferenceOrEmpty(TrainConfig config, int dim)
    {
        return PointData.IsAtHand(config.Data)
            ? PointData.ToArray(PointData.LoadHeldOut(config.Data, config.EvalSamples).HeldOut)
            : new float[0, dim];
    }

    /// <summary>"1 sample", "5 samples".</summary>
    private static string Count(int n, string noun) => n == 1 ? $"1 {noun}" : $"{n} {noun}s";
}
