using System.Diagnostics;
using Drift.Loss;
using Drift.Models;
using Drift.Train.Data;
using Drift.Train.Data.Images;
using Drift.Train.Output;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Train.Training.Images;

/// <param name="ImagesPerSecond">Generated images per second of this session's training (logging and grids included).</param>
/// <param name="PeakMemoryBytes">Peak resident memory of the process (host memory; on CUDA the device's is not counted).</param>
/// <param name="Fd">FD-&lt;dataset&gt; at the last evaluation, and its train-vs-test floor (NaN without a classifier).</param>
public sealed record ImageTrainResult(string OutDir, long Step, bool Interrupted, double WallSeconds, double ImagesPerSecond,
    double SecondsPerStep, long PeakMemoryBytes, double Fd, double FdFloor, IReadOnlyList<MetricsRow> Metrics);

/// <summary>
/// The image training loop. One step: draw the classes (and a guidance scale per class), generate a batch
/// per class, draw each class's positives (and unconditional negatives), compute the drift loss per class
/// in every feature space, take an AdamW step (clipped), move the EMA weights. Sample grids, metrics, FD
/// and checkpoints on a schedule.
/// </summary>
public static class ImageTrainer
{
    public const string GridFile = "grid.png";
    public const string GridFolder = "grids";
    private const ulong GridNoiseSeed = 0x6121_D5EE;
    private const int GridColumns = 10;

    public static ImageTrainResult Run(ImageConfig config, string outDir, Checkpoint? resume, ILogger log,
        Action<StepReport> onStep, CancellationToken cancel)
    {
        config.Validate();
        var device = Components.Device(config.Device);
        if (device.type == DeviceType.CUDA)
            torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = config.Tf32;
        using var data = ImageData.Load(config.Data, config.ImageSize);
        foreach (var f in config.Features.Where(f => f != ImageConfig.EncoderSpace))
        {
            try { ImageFeatures.Check(f, data.Size); }
            catch (ArgumentException e) { throw new UserError("--features: " + e.Message); }
        }
        if ((config.Channels, config.Classes) is not ((0, 0)) && (config.Channels, config.Classes) != (data.Channels, data.Classes))
            throw new UserError($"the data now has {data.Channels} channel(s) and {data.Classes} classes, the run {config.Channels} and {config.Classes}");
        config = config with { ImageSize = data.Size, Channels = data.Channels, Classes = data.Classes };
        log.LogInformation("data {Name}: {Train} train / {Test} test images of {Shape}, {K} classes, loaded in {Ms} ms",
            data.Name, data.Train.Count, data.Test.Count, $"{data.Channels}×{data.Size}×{data.Size}", data.Classes, (long)data.LoadTime.TotalMilliseconds);

        torch.manual_seed(config.Seed);
        using var model = ImageComponents.Generator(config);
        using var ema = ImageComponents.Generator(config);
        ema.load_state_dict(model.state_dict());
        model.to(device);
        ema.to(device);
        ema.eval();
        using var optimizer = ImageComponents.Optimizer(config, model);
        using var rng = new Generator((ulong)config.Seed);
        long step = 0;
        var wallBefore = 0.0;
        if (resume is not null)
        {
            resume.LoadWeights(model);
            resume.LoadWeights(ema, 1);
            resume.LoadOptimizer(optimizer);
            resume.LoadRng(rng);
            step = resume.Step;
            wallBefore = resume.ElapsedSeconds;
            log.LogInformation("resuming {Dir} at step {Step}", outDir, step);
        }
        using var encoder = ImageComponents.Encoder(config, device);
        var featureMaps = ImageComponents.FeatureMaps(config, encoder);
        var pools = new ClassPools(data.Train.Labels, data.Classes);
        var stepClasses = config.Conditional ? pools.Present : [];
        var groups = config.Conditional ? Math.Min(config.ClassesPerStep > 0 ? config.ClassesPerStep : stepClasses.Length, stepClasses.Length) : 1;
        var perGroup = config.Conditional ? config.ClassBatch : config.ClassBatch * data.Classes;
        var positives = config.Conditional ? config.PositiveCount : config.PositiveCount * data.Classes;
        log.LogInformation("{Field} field, scales {Scales} in {Features}; per step {Groups} group(s) of {Gen} generated and {Pos} data images; "
            + "generator {Params:N0} parameters, device {Device}", config.Field, string.Join(",", config.Scales), string.Join(",", config.Features),
            groups, perGroup, positives, model.parameters().Sum(p => p.numel()), device.type);

        Directory.CreateDirectory(Path.Combine(outDir, GridFolder));
        AtomicFile.WriteText(Path.Combine(outDir, Trainer.ConfigFile), config.ToJson());
        var scaleNames = config.Features.SelectMany(f => config.Scales.Select(s => $"{f}_{s:g3}")).ToArray();
        var metrics = new MetricsLog(outDir, scaleNames, step, "fd");
        using var probe = config.Classifier is { } classifierDir ? new FdProbe(classifierDir, config, data, config.EvalSamples, device) : null;
        var board = TensorBoard.Open(outDir);
        var grid = GridInputs(config, data.Classes, device);
        using var gridNoise = grid.Noise;
        using var gridLabels = grid.Labels;
        using var trainPixels = data.Train.Pixels.to(device);

        var timer = Stopwatch.StartNew();
        double Wall() => wallBefore + timer.Elapsed.TotalSeconds;
        var startStep = step;
        var fd = double.NaN;
        var interrupted = false;
        long? lastSaved = resume?.Step;
        while (step < config.Steps)
        {
            if (cancel.IsCancellationRequested) { interrupted = true; break; }
            using (var scope = torch.NewDisposeScope())
            {
                var classes = config.Conditional ? DrawClasses(stepClasses, groups, rng) : [null];
                var alphas = torch.rand(classes.Length, generator: rng).mul_(config.GuidanceMax - 1).add_(1).data<float>().ToArray();
                var labels = torch.tensor(classes.SelectMany(c => Enumerable.Repeat((long)(c ?? data.Classes), perGroup)).ToArray()).to(device);
                var guidance = torch.tensor(alphas.SelectMany(a => Enumerable.Repeat(a, perGroup)).ToArray()).to(device);
                var noise = torch.randn([labels.shape[0], config.NoiseDim], generator: rng).to(device);
                var x = model.forward(noise, labels, guidance);
                Tensor Images(IEnumerable<int?> cs, int n) =>
                    ImageSet.ToUnit(trainPixels.index_select(0, torch.tensor(cs.SelectMany(c => pools.Draw(c, n, rng)).ToArray()).to(device)));
                var guided = config.GuidanceMax > 1;
                var drift = FeatureDriftLoss.Compute(m => ImageComponents.Field(config, m), featureMaps, classes.Length, x,
                    Images(classes, positives), config.Eta, guided ? Images(classes.Select(_ => (int?)null), config.UnconditionalNegatives) : null,
                    guided ? alphas.Select(a => GuidanceNegatives.GammaFor(a)).ToArray() : null);

                foreach (var group in optimizer.ParamGroups)
                    group.LearningRate = ImageComponents.LearningRate(config, step);
                optimizer.zero_grad();
                drift.Loss.backward();
                NonFiniteGuard.Check(step, drift.Loss, drift.VelocityRms, NonFiniteGuard.GradientNorm(model.parameters()), lastSaved);
                if (config.ClipGrad > 0)
                    nn.utils.clip_grad_norm_(model.parameters(), config.ClipGrad);
                optimizer.step();
                ImageComponents.UpdateEma(ema, model, config.Ema, step);
                step++;

                double? loss = null, stepFd = null;
                if (probe is not null && (step % config.EvalEvery == 0 || step == config.Steps))
                {
                    stepFd = fd = probe.Measure(ema);
                    board.add_scalar("fd", (float)fd, (int)step);
                }
                if (stepFd is not null || step % config.LogEvery == 0 || step == config.Steps)
                {
                    loss = drift.Loss.item<float>();
                    var rms = drift.ScaleRms.cpu().flatten().data<float>().Select(v => (double)v).ToArray();
                    metrics.Append(new MetricsRow(step, Wall(), loss.Value, drift.VelocityRms.item<float>(), rms, stepFd));
                    board.add_scalar("loss", (float)loss.Value, (int)step);
                    board.add_scalar("velocity_rms", drift.VelocityRms.item<float>(), (int)step);
                    for (var i = 0; i < rms.Length; i++)
                        board.add_scalar($"field_rms/{scaleNames[i]}", (float)rms[i], (int)step);
                }
                onStep(new StepReport(step, config.Steps, loss, stepFd));
            }
            if (step % 10 == 0)
            {
                // As in the points trainer: AdamW leaves temporaries to the finalizer.
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
            if (step % config.GridEvery == 0 || step == config.Steps)
                WriteGrid(outDir, ema, grid, step, board);
            if (step % config.CheckpointEvery == 0 || step == config.Steps)
            {
                Checkpoint.Save(outDir, Checkpoint.ImagesKind, config.ToJson(), step, Wall(), Standardizer.Identity(0), rng, [model, ema], optimizer);
                lastSaved = step;
            }
        }
        if (interrupted)
        {
            Checkpoint.Save(outDir, Checkpoint.ImagesKind, config.ToJson(), step, Wall(), Standardizer.Identity(0), rng, [model, ema], optimizer);
            log.LogWarning("interrupted at step {Step}; checkpoint saved, continue with: drift train-images --resume {Dir}", step, outDir);
        }
        var seconds = timer.Elapsed.TotalSeconds;
        var images = (step - startStep) * groups * perGroup;
        return new ImageTrainResult(outDir, step, interrupted, Wall(), images / Math.Max(seconds, 1e-9),
            seconds / Math.Max(1, step - startStep), Process.GetCurrentProcess().PeakWorkingSet64, fd, probe?.Floor ?? double.NaN, metrics.Rows);
    }

    private static int?[] DrawClasses(int[] present, int groups, Generator rng)
    {
        if (groups == present.Length) return present.Select(c => (int?)c).ToArray();
        using var perm = torch.randperm(present.Length, generator: rng);
        return perm.data<long>().Take(groups).Select(i => (int?)present[i]).ToArray();
    }

    /// <summary>Fixed noise for the grids: one row per class (the first ten), ten columns.</summary>
    private static (Tensor Noise, Tensor Labels) GridInputs(ImageConfig config, int classes, Device device)
    {
        var rows = config.Conditional ? Math.Min(classes, 10) : 8;
        using var g = new Generator(GridNoiseSeed);
        var noise = torch.randn([rows * GridColumns, config.NoiseDim], generator: g).to(device);
        var labels = torch.tensor(Enumerable.Range(0, rows * GridColumns)
            .Select(i => config.Conditional ? (long)(i / GridColumns) : classes).ToArray()).to(device);
        return (noise, labels);
    }

    private static void WriteGrid(string outDir, ConvGenerator ema, (Tensor Noise, Tensor Labels) grid, long step,
        TorchSharp.Modules.SummaryWriter board)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var images = ema.forward(grid.Noise, grid.Labels, torch.ones(grid.Labels.shape[0], device: grid.Noise.device)).cpu();
        ImageFiles.Grid(Path.Combine(outDir, GridFolder, $"step-{step:D6}.png"), images, GridColumns);
        ImageFiles.Grid(Path.Combine(outDir, GridFile), images, GridColumns);
        var strip = images.narrow(0, 0, Math.Min(GridColumns, images.shape[0]));
        board.add_img("samples", ImageSet.ToBytes(strip.permute(1, 2, 0, 3).reshape(strip.shape[1], strip.shape[2], -1)), (int)step);
    }
}
