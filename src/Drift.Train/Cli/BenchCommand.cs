using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Drift.Loss;
using Drift.Train.Output;
using Drift.Train.Training;
using Drift.Train.Training.Images;
using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Train.Cli;

/// <summary><c>drift bench</c>: times each field on each path (dense, chunked, automatic) over a grid of
/// sizes, with warm-up, device synchronisation and medians, and checks each against float64; then times
/// whole training steps of the 2-D default and of the image default.</summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var sizes = new Option<string>("--sizes") { Description = "Comma-separated NxMxd (generated x data x dimension). Default 1024x1024x2,4096x4096x2,2048x2048x784.", DefaultValueFactory = _ => "1024x1024x2,4096x4096x2,2048x2048x784" };
        var repeats = new Option<int>("--repeats") { Description = "Timed repetitions (the median is reported). Default 5.", DefaultValueFactory = _ => 5 };
        var steps = new Option<string>("--step-batches") { Description = "Batch sizes for whole 2-D training steps. Default 512,1024.", DefaultValueFactory = _ => "512,1024" };
        var imageSteps = new Option<string>("--image-steps") { Description = "Image training steps to time, as WIDTHxCLASS_BATCH (28×28, 10 classes, pixels+mean2+mean4, both fields); 'none' skips. Default 64x64 (the train-images default).", DefaultValueFactory = _ => "64x64" };
        var device = new Option<string>("--device") { Description = "cpu (default) or cuda.", DefaultValueFactory = _ => "cpu" };
        var scaleCount = new Option<int>("--scales") { Description = "Bandwidths (temperatures) per field, 1 to 3: h = √d·(1, 0.5, 2), τ = √d·(0.2, 0.05, 0.5). Default 1.", DefaultValueFactory = _ => 1 };
        var tf32 = new Option<bool>("--tf32") { Description = "CUDA: allow TF32 matmuls and convolutions. Default false (full float32)." };
        var output = new Option<string>("--out") { Description = "Also write the markdown table to this file." };
        var command = new Command("bench", "Time the drifting fields and training steps.") { sizes, repeats, scaleCount, steps, imageSteps, device, tf32, output };

        command.SetAction(parse => Cli.Run(() =>
        {
            var dev = Components.Device(parse.GetValue(device)!);
            var n = parse.GetValue(repeats);
            if (n < 1) throw new UserError($"--repeats must be at least 1, got {n}");
            var scales = parse.GetValue(scaleCount);
            if (scales is < 1 or > 3) throw new UserError($"--scales must be 1, 2 or 3, got {scales}");
            var imageConfigs = parse.GetValue(imageSteps) == "none" ? [] : parse.GetValue(imageSteps)!.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s =>
            {
                var parts = s.Split('x');
                return parts.Length == 2 ? (Width: ParseInt(parts[0], "--image-steps"), Batch: ParseInt(parts[1], "--image-steps"))
                    : throw new UserError($"--image-steps takes WIDTHxCLASS_BATCH pairs, got '{s}'");
            }).ToArray();
            if (dev.type == DeviceType.CUDA)
                torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = parse.GetValue(tf32);
            var report = new StringBuilder();
            report.AppendLine($"device {dev.type}, {Environment.ProcessorCount} CPU threads, torch threads {torch.get_num_threads()}, "
                + (dev.type == DeviceType.CUDA && parse.GetValue(tf32) ? "TF32 matmuls allowed" : "float32 unless noted"));
            report.AppendLine();
            report.AppendLine($"{scales} scale(s) per field; peak device memory as NVML sees the whole device, the caching allocator's reserve included");
            report.AppendLine();
            report.AppendLine("| field | N | M | d | path | median ms | effective GFLOP/s | max error vs float64 (relative) | peak device GiB |");
            report.AppendLine("|---|---|---|---|---|---|---|---|---|");
            foreach (var (rows, cols, dim) in ParseSizes(parse.GetValue(sizes)!))
            foreach (var field in new[] { "conservative", "laplace" })
                foreach (var line in FieldRows(field, rows, cols, dim, scales, dev, n))
                {
                    report.AppendLine(line);
                    Console.WriteLine(line);
                }
            report.AppendLine();
            report.AppendLine("| training step (2-D default: MLP 256x3, conservative, 4 bandwidths) | batch | median ms |");
            report.AppendLine("|---|---|---|");
            foreach (var batch in parse.GetValue(steps)!.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => ParseInt(s, "--step-batches")))
            {
                var line = $"| step | {batch} | {TrainingStepMs(batch, dev, n):F1} |";
                report.AppendLine(line);
                Console.WriteLine(line);
            }
            if (imageConfigs.Length > 0)
            {
                report.AppendLine();
                report.AppendLine("| image training step (28×28, 10 classes, pixels+mean2+mean4) | width | per class | parameters | median ms | generated images/s |");
                report.AppendLine("|---|---|---|---|---|---|");
            }
            foreach (var (width, classBatch) in imageConfigs)
            foreach (var field in new[] { "conservative", "laplace" })
            {
                var config = new ImageConfig { Field = field, Width = width, ClassBatch = classBatch, ImageSize = 28, Channels = 1, Classes = 10 };
                var (ms, parameters) = ImageStepMs(config, dev, n);
                var line = $"| {field} | {width} | {classBatch} | {parameters:N0} | {ms:F1} | {10 * classBatch / (ms / 1000):F0} |";
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

    private static IEnumerable<string> FieldRows(string name, int rows, int cols, int dim, int scaleCount, Device dev, int repeats)
    {
        using var g = new Generator(1);
        using var x = torch.randn([rows, dim], generator: g).to(dev);
        using var pos = (torch.randn([cols, dim], generator: g) + 0.3).to(dev);
        var scales = (name == "conservative" ? new[] { 1, 0.5, 2 } : new[] { 0.2, 0.05, 0.5 }).Take(scaleCount).Select(s => s * Math.Sqrt(dim)).ToArray();
        // Distances and weighted means are each a 2·N·(N+M)·d GEMM; the conservative path shares the first.
        var flops = 2.0 * rows * (rows + cols) * dim * (1 + scales.Length);
        IDriftField Make(FieldChunking? chunks) => name == "conservative"
            ? new ConservativeField(scales, SelfTerm.Exclude, true, chunks)
            : new LaplaceField(scales, true, chunks);
        var columns = rows + cols;
        var chunked = FieldChunking.For(columns, dev.type);
        var wholeRows = chunked with { Columns = columns };
        var paths = new List<(string Name, Func<Tensor> Run, long Entries)>();
        if (name == "conservative")
            paths.Add(("plain dense (cdist, softmax, matmul)", () => PlainConservative(x, pos, scales), (long)rows * columns));
        paths.Add(("dense", () => Make(new FieldChunking(int.MaxValue, int.MaxValue)).Compute(x, pos).Velocity, (long)rows * columns));
        paths.Add(("row chunks", () => Make(wholeRows).Compute(x, pos).Velocity, Math.Min(rows, wholeRows.Rows) * columns));
        if (name == "conservative")
            paths.Add(("row and column chunks", () => Make(chunked with { Columns = 1 << 12 }).Compute(x, pos).Velocity, Math.Min(rows, chunked.Rows) * (1L << 12)));
        var auto = name == "conservative" ? chunked : FieldChunking.Auto(rows, columns, dev.type);
        paths.Add(($"auto: {Describe(auto, rows, name == "conservative" ? Math.Max(rows, cols) : 0)}", () => Make(null).Compute(x, pos).Velocity,
            Math.Min(rows, auto?.Rows ?? rows) * columns));

        Tensor reference;
        using (var scope = torch.NewDisposeScope())
            reference = Make(chunked).Compute(x.to(float64), pos.to(float64)).Velocity.MoveToOuterDisposeScope();
        using var referenceMax = reference.abs().max();
        foreach (var (path, run, entries) in paths)
        {
            var prefix = $"| {name} | {rows} | {cols} | {dim} | {path} |";
            // A path holds a few of its kernel matrices at once; where they cannot fit in host memory, say so rather than thrash.
            var bytes = 4.0 * entries * sizeof(float);
            if (dev.type == DeviceType.CPU && bytes > GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 2)
            {
                yield return $"{prefix} skipped: needs ~{bytes / (1L << 30):F0} GiB | | | |";
                continue;
            }
            string measured;
            try
            {
                using var memory = DeviceMemory.Watch(dev);
                var ms = MedianMs(run, dev, repeats);
                double err;
                using (var scope = torch.NewDisposeScope())
                    err = (run().to(float64) - reference).abs().max().item<double>() / referenceMax.item<double>();
                measured = $" {ms:F1} | {flops / ms / 1e6:F1} | {err:E1} | {memory.PeakText} |";
            }
            catch (System.Runtime.InteropServices.ExternalException e) when (e.Message.Contains("out of memory") || e.Message.Contains("can't allocate memory"))
            {
                measured = " out of memory | | | |";
            }
            yield return prefix + measured;
        }
        reference.Dispose();
    }

    /// <param name="widestSide">The larger side, which streams when a chunk has fewer columns (0: the Laplace field, which never streams).</param>
    private static string Describe(FieldChunking? chunks, int rows, long widestSide) => chunks is null || chunks.Rows >= rows ? "dense"
        : $"{chunks.Rows}-row chunks" + (chunks.Columns < widestSide ? $", {chunks.Columns}-column chunks" : "");

    /// <summary>
    /// The straightforward conservative field the optimised paths are measured against: per bandwidth two
    /// cdist, two softmax and two matmul over the whole batch, self pairs masked, each scale at unit RMS.
    /// </summary>
    private static Tensor PlainConservative(Tensor x, Tensor pos, double[] bandwidths)
    {
        using var noGrad = torch.no_grad();
        var sqPos = torch.cdist(x, pos).pow_(2);
        var sqNeg = torch.cdist(x, x).pow_(2);
        sqNeg.diagonal().fill_(double.PositiveInfinity);
        var v = torch.zeros_like(x);
        foreach (var h in bandwidths)
        {
            var scale = (torch.softmax(sqPos * (-0.5 / (h * h)), 1).mm(pos) - torch.softmax(sqNeg * (-0.5 / (h * h)), 1).mm(x)) / (h * h);
            v.add_(scale / scale.pow(2).mean().sqrt());
        }
        return v;
    }

    private static double TrainingStepMs(int batch, Device dev, int repeats)
    {
        var config = new TrainConfig { Batch = batch }.Resolved();
        using var model = Components.Generator(config, 2);
        model.to(dev);
        using var optimizer = torch.optim.Adam(model.parameters(), config.Lr);
        var field = Components.Field(config);
        using var g = new Generator(1);
        return MedianMs(() =>
        {
            var x = model.forward(torch.randn([batch, config.NoiseDim], generator: g).to(dev));
            var loss = DriftLoss.Compute(field, x, torch.randn([batch, 2], generator: g).to(dev), config.Eta).Loss;
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            return loss;
        }, dev, repeats);
    }

    /// <summary>One image training step as <c>drift train-images</c> takes it, on random 28×28 "data":
    /// generate per class, drift loss per class in each feature space, backward, clip, AdamW, EMA.</summary>
    private static (double Ms, long Parameters) ImageStepMs(ImageConfig config, Device dev, int repeats)
    {
        using var model = ImageComponents.Generator(config);
        using var ema = ImageComponents.Generator(config);
        model.to(dev);
        ema.to(dev);
        using var optimizer = ImageComponents.Optimizer(config, model);
        using var g = new Generator(1);
        var n = config.Classes * config.ClassBatch;
        using var labels = torch.arange(config.Classes).repeat_interleave(config.ClassBatch).to(dev);
        // Training keeps the data set on the device, so the step's data never crosses the bus.
        using var data = torch.rand([n, 1, 28, 28], generator: g).to(dev).mul_(2).sub_(1);
        var ms = MedianMs(() =>
        {
            var x = model.forward(torch.randn([n, config.NoiseDim], generator: g).to(dev), labels, torch.ones(n, device: dev));
            var loss = FeatureDriftLoss.Compute(m => ImageComponents.Field(config, m), ImageComponents.FeatureMaps(config, null), config.Classes, x, data, config.Eta).Loss;
            optimizer.zero_grad();
            loss.backward();
            nn.utils.clip_grad_norm_(model.parameters(), config.ClipGrad);
            optimizer.step();
            ImageComponents.UpdateEma(ema, model, config.Ema, 100);
            return loss;
        }, dev, repeats);
        return (ms, model.parameters().Sum(p => p.numel()));
    }

    /// <summary>Two untimed warm-up runs, then the median of timed ones, each ended by a device sync.</summary>
    private static double MedianMs(Func<Tensor> work, Device dev, int repeats)
    {
        var times = new List<double>();
        for (var i = 0; i < repeats + 2; i++)
        {
            using var scope = torch.NewDisposeScope();
            var timer = Stopwatch.StartNew();
            work();
            if (dev.type == DeviceType.CUDA) torch.cuda.synchronize();
            if (i >= 2) times.Add(timer.Elapsed.TotalMilliseconds);
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        times.Sort();
        return times[times.Count / 2];
    }

    private static IEnumerable<(int, int, int)> ParseSizes(string text) => text.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s =>
    {
        var parts = s.Split('x');
        if (parts.Length != 3) throw new UserError($"--sizes takes NxMxd triples, got '{s}'");
        return (ParseInt(parts[0], "--sizes"), ParseInt(parts[1], "--sizes"), ParseInt(parts[2], "--sizes"));
    });

    private static int ParseInt(string s, string option) =>
        int.TryParse(s.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= 1
            ? v : throw new UserError($"{option}: '{s}' is not a positive integer");
}
