using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Drift.Loss;
using Drift.Train.Bench;
using Drift.Train.Training;
using Drift.Train.Training.Images;
using TorchSharp;
using Drift.Train.RunFolders;
using static TorchSharp.torch;

namespace Drift.Train.Cli;

/// <summary><c>drift bench</c>: times each field on each path (dense, chunked, automatic) over a grid of
/// sizes, with warm-up, device synchronisation and medians, and checks each against float64 (<see cref="FieldBench"/>);
/// then what a Sinkhorn iteration costs on each path (<see cref="SinkhornBench"/>), and whole training steps of the 2-D
/// default and of the image default (<see cref="StepBench"/>).</summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var sizes = ListOption.Create("--sizes", "NxMxd (generated x data x dimension), separated by commas or spaces. Default 1024x1024x2,4096x4096x2,2048x2048x784.", "1024x1024x2,4096x4096x2,2048x2048x784");
        var repeats = new Option<int>("--repeats") { Description = "Timed repetitions (the median is reported). Default 5.", DefaultValueFactory = _ => 5 };
        var steps = ListOption.Create("--step-batches", "Batch sizes for whole 2-D training steps. Default 512,1024.", "512,1024");
        var imageSteps = ListOption.Create("--image-steps", "Image training steps to time, as WIDTHxCLASS_BATCH (28×28, 10 classes, every field, train-images' other defaults); 'none' skips. Default 64x64 (the train-images default).", "64x64");
        var imageConfigs = new Option<string[]>("--image-config")
        {
            Description = "Also time the image training step of these runs' config.json files (a run folder or the file): its field, sizes, "
                + "feature spaces and encoder, on random images of its size.",
            AllowMultipleArgumentsPerToken = true,
        };
        var device = DeviceOption.Create();
        var scaleCount = new Option<int>("--scales") { Description = "Bandwidths (temperatures) per field, 1 to 3: h = √d·(1, 0.5, 2), τ = √d·(0.2, 0.05, 0.5). Default 1.", DefaultValueFactory = _ => 1 };
        var tf32 = new Option<bool>("--tf32") { Description = "CUDA: allow TF32 matmuls and convolutions. Default false (full float32)." };
        var output = new Option<string>("--out") { Description = "Also write the markdown table to this file." };
        var command = new Command("bench", "Time the drifting fields and training steps.") { sizes, repeats, scaleCount, steps, imageSteps, imageConfigs, device, tf32, output };

        command.SetAction(parse => Cli.Run(() =>
        {
            if (parse.GetValue(output) is { } outPath)
            {
                OutputDir.CheckFile(outPath, "--out");
            }
            var dev = Components.Device(parse.GetValue(device)!);
            DeviceOption.CheckTf32(parse.GetValue(tf32), dev);
            var n = parse.GetValue(repeats);
            if (n is < 1 or > 1000) throw new UserError($"--repeats must be between 1 and 1000, got {n}");
            var scales = parse.GetValue(scaleCount);
            if (scales is < 1 or > 3) throw new UserError($"--scales must be 1, 2 or 3, got {scales}");
            var imageItems = ListOption.Items(parse.GetValue(imageSteps)!);
            var imageSizes = imageItems is ["none"] ? [] : imageItems.Select(s =>
            {
                var parts = s.Split('x');
                return parts.Length == 2 ? (Width: ParseInt(parts[0], "--image-steps", 1 << 12), Batch: ParseInt(parts[1], "--image-steps", 1 << 16))
                    : throw new UserError($"--image-steps takes WIDTHxCLASS_BATCH pairs, got '{s}'");
            }).ToArray();
            var runSteps = (parse.GetValue(imageConfigs) ?? []).Select(path => (Path: path, Config: RunStep(path))).ToArray();
            var benchSizes = ListOption.Items(parse.GetValue(sizes)!).Select(ParseSize).ToArray();
            var stepBatches = ListOption.Items(parse.GetValue(steps)!).Select(s => ParseInt(s, "--step-batches", 1 << 22)).ToArray();
            // The dense paths hold several float32 kernels of rows × (rows + cols) per scale at once; steps hold their batch's.
            if (dev.type == DeviceType.CPU && benchSizes.Length > 0)
                MemoryBudget.Check(benchSizes.Max(s => 32.0 * s.Item1 * ((double)s.Item1 + s.Item2) * scales), "bench --sizes", "time smaller sizes");
            if (dev.type == DeviceType.CUDA)
                torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = parse.GetValue(tf32);
            var report = new StringBuilder();
            report.AppendLine(Provenance.Describe());
            report.AppendLine();
            report.AppendLine($"device {dev.type}, {Environment.ProcessorCount} CPU threads, torch threads {torch.get_num_threads()}, "
                + (dev.type == DeviceType.CUDA && parse.GetValue(tf32) ? "TF32 matmuls allowed" : "float32 unless noted"));
            report.AppendLine();
            var (matmulPeak, convPeak) = (PeakRate.MatmulGflops(dev, n), PeakRate.ConvolutionGflops(dev, n));
            var limit = $"this device's limit with this libtorch, measured now: matmul 2048³ {matmulPeak:F1} GFLOP/s, "
                + $"3×3 convolution 64→64 channels on 64×28² {convPeak:F1} GFLOP/s (float32)";
            report.AppendLine(limit);
            Console.WriteLine(limit);
            report.AppendLine();
            report.AppendLine($"{scales} scale(s) per field; peak device memory as NVML sees the whole device, the caching allocator's reserve included");
            report.AppendLine();
            report.AppendLine("| field | N | M | d | path | median ms | effective GFLOP/s | max error vs float64 (relative) | peak device GiB |");
            report.AppendLine("|---|---|---|---|---|---|---|---|---|");
            foreach (var (rows, cols, dim) in benchSizes)
            foreach (var field in FieldKind.All)
                foreach (var line in FieldBench.Rows(field, rows, cols, dim, scales, dev, n))
                {
                    report.AppendLine(line);
                    Console.WriteLine(line);
                }
            report.AppendLine();
            report.AppendLine("Sinkhorn iterations: two plans of 100 at h = 0.5·√d with no tolerance, less the call without iterations");
            report.AppendLine();
            report.AppendLine("| N | M | d | path | µs an iteration |");
            report.AppendLine("|---|---|---|---|---|");
            foreach (var (rows, cols, dim) in benchSizes)
                foreach (var line in SinkhornBench.Rows(rows, cols, dim, dev, n))
                {
                    report.AppendLine(line);
                    Console.WriteLine(line);
                }
            report.AppendLine();
            report.AppendLine("| training step (2-D default: MLP 256x3, conservative, 4 bandwidths) | batch | median ms |");
            report.AppendLine("|---|---|---|");
            var profiles = new List<(string Step, StepProfile Profile, double Peak)>();
            foreach (var batch in stepBatches)
            {
                var profile = StepBench.Points(batch, dev, n);
                profiles.Add(($"2-D, batch {batch}", profile, matmulPeak));
                var line = $"| step | {batch} | {profile.Ms:F1} |";
                report.AppendLine(line);
                Console.WriteLine(line);
            }
            var images = imageSizes.SelectMany(size => FieldKind.All.Select(field =>
                    (Name: $"{field.Name}, width {size.Width}, {size.Batch} per class", Config: new ImageConfig { Field = field, Width = size.Width, ClassBatch = size.Batch })))
                .Concat(runSteps.Select(run => (Name: $"{run.Config.Field.Name}, {run.Path}", run.Config))).ToArray();
            if (images.Length > 0)
            {
                report.AppendLine();
                report.AppendLine("| image training step (random images; --image-steps: 28×28, 10 classes, train-images' other defaults) | width | per class | classes a step | feature spaces | parameters | median ms | generated images/s |");
                report.AppendLine("|---|---|---|---|---|---|---|---|");
            }
            foreach (var (name, config) in images)
            {
                var profile = StepBench.Image(config, dev, n);
                profiles.Add(($"image {name}", profile, convPeak));
                var line = $"| {name} | {config.Width} | {config.ClassBatch} | {(config.ClassesPerStep > 0 ? config.ClassesPerStep : "all")} | "
                    + $"{string.Join(" ", config.Features)} | {profile.Parameters:N0} | {profile.Ms:F1} | {profile.Generated / (profile.Ms / 1000):F0} |";
                report.AppendLine(line);
                Console.WriteLine(line);
            }
            report.AppendLine();
            foreach (var line in PhaseRows(profiles))
            {
                report.AppendLine(line);
                Console.WriteLine(line);
            }
            report.AppendLine();
            var peak = $"peak resident host memory of the bench process: {Process.GetCurrentProcess().PeakWorkingSet64 / 1e9:F2} GB"
                + (dev.type == DeviceType.CUDA ? " (device memory is not reported: TorchSharp 0.107 exposes no CUDA allocator statistics)" : "");
            report.AppendLine(peak);
            Console.WriteLine(peak);
            if (parse.GetValue(output) is { } path) AtomicFile.WriteText(path, report.ToString());
            return 0;
        }));
        return command;
    }

    /// <summary>The image step of a run's config: <paramref name="path"/> is its config.json or the folder holding it.
    /// Without its FD probe, which runs between steps, not in them. Its encoder and encoder spaces are checked here, so
    /// that a missing encoder or a map it lacks is reported before the field timings rather than after them.</summary>
    private static ImageConfig RunStep(string path)
    {
        var config = RunFolder.Accepted(ConfigJson.Load<ImageConfig>(path).Resolved()) with { Classifier = null };
        using var encoder = ImageComponents.Encoder(config, CPU);
        if (encoder is not null)
            foreach (var space in config.Features.Where(ImageConfig.IsEncoderSpace)) ImageComponents.Readout(encoder, space);
        return config;
    }

    /// <summary>Each step's phases: the generator's forward pass counted at its forward FLOPs, the backward pass at
    /// twice them (input and weight gradients), the encoder's forward pass over the generated images at its FLOPs and
    /// its share of the backward pass at as many again (a frozen network: input gradients only), against the matching
    /// peak (matmul for the MLP, convolution for the image networks); the other phases have no FLOP count that would
    /// mean much.</summary>
    private static IEnumerable<string> PhaseRows(List<(string Step, StepProfile Profile, double Peak)> profiles)
    {
        if (profiles.Count == 0) yield break;
        yield return "| step | phase | median ms | share of the step | GFLOP | GFLOP/s | of the peak |";
        yield return "|---|---|---|---|---|---|---|";
        foreach (var (step, profile, peak) in profiles)
        foreach (var (phase, ms) in profile.Phases)
        {
            var flops = phase switch
            {
                StepPhases.Generate => profile.GeneratorFlops,
                StepPhases.Features => profile.EncoderFlops,
                StepPhases.Backward => 2 * profile.GeneratorFlops + profile.EncoderFlops,
                _ => 0,
            };
            var rate = flops / ms / 1e6;
            yield return $"| {step} | {phase} | {ms:F1} | {ms / profile.Ms:P0} | "
                + (flops > 0 ? $"{flops / 1e9:F2} | {rate:F1} | {rate / peak:F2} |" : "| | |");
        }
    }

    private static (int, int, int) ParseSize(string s)
    {
        var parts = s.Split('x');
        if (parts.Length != 3) throw new UserError($"--sizes takes NxMxd triples, got '{s}'");
        return (ParseInt(parts[0], "--sizes", 1 << 18), ParseInt(parts[1], "--sizes", 1 << 18), ParseInt(parts[2], "--sizes", 4096));
    }

    private static int ParseInt(string s, string option, int max) =>
        int.TryParse(s.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= 1 && v <= max
            ? v : throw new UserError($"{option}: '{s}' is not an integer from 1 to {max}");
}
