using System.Diagnostics;
using Drift.Loss;
using Drift.Train.Distributed;
using Drift.Models;
using Drift.Data;
using Drift.Data.Images;
using Drift.Train.Output;
using Microsoft.Extensions.Logging;
using TorchSharp;
using TorchSharp.Modules;
using Drift.Train.RunFolders;
using static TorchSharp.torch;

namespace Drift.Train.Training.Images;

/// <param name="ImagesPerSecond">Generated images per second of this session's training (logging and grids included).</param>
/// <param name="PeakMemoryBytes">Peak resident memory of the process (host memory; on CUDA the device's is not counted).</param>
/// <param name="Fd">FD-&lt;dataset&gt; at the last evaluation, and its train-vs-test floor (NaN without a classifier).</param>
public sealed record ImageTrainResult(string OutDir, long Step, bool Interrupted, double WallSeconds, double ImagesPerSecond,
    double SecondsPerStep, long PeakMemoryBytes, double Fd, double FdFloor, IReadOnlyList<LoggedStep> Metrics) : ITrainedRun;

/// <summary>
/// An image run. One step: draw the classes (and a guidance scale per class), generate a batch per class,
/// draw each class's positives (and unconditional negatives), and take the drift loss per class in every
/// feature space. The loop then takes the AdamW step (clipped) and moves the EMA weights, which the sample
/// grids and FD use.
/// </summary>
public sealed class ImageTrainer : ITrainingTask, IDisposable
{
    private const ulong GridNoiseSeed = 0x6121_D5EE;
    private const int GridColumns = 10;
    private readonly ImageConfig config;
    private readonly ConvGenerator model;
    private readonly ConvGenerator ema;
    private readonly AdamW optimizer;
    private readonly Generator rng;
    private readonly IDriftField field;
    private readonly Classifier? encoder;
    private readonly IReadOnlyList<FeatureSpace> featureSpaces;
    private readonly ClassPools pools;
    private readonly int[] stepClasses;
    private readonly Tensor trainPixels;
    private readonly FdProbe? probe;
    private readonly Tensor gridNoise, gridLabels;
    private readonly Device device;
    private readonly string outDir;
    private readonly DataParallel parallel;

    /// <summary>The generator and its EMA copy (weights from <see cref="ImageConfig.Seed"/>), optimizer, field and
    /// feature spaces of a config whose shape matches <paramref name="data"/>, and the loop that trains them.</summary>
    /// <param name="parallel">The processes sharing each step's batch; null: this one alone.</param>
    public ImageTrainer(ImageConfig config, ImageData data, Device device, string outDir, DataParallel? parallel = null)
    {
        this.config = config;
        this.parallel = parallel ?? DataParallel.Alone;
        config.ValidateProcesses(this.parallel.Size);
        this.device = device;
        this.outDir = outDir;
        torch.manual_seed(config.Seed);
        model = ImageComponents.Generator(config);
        ema = ImageComponents.Generator(config);
        ema.load_state_dict(model.state_dict());
        model.to(device);
        ema.to(device);
        ema.eval();
        optimizer = ImageComponents.Optimizer(config, model);
        rng = new Generator((ulong)config.Seed);
        field = config.BuildField();
        encoder = ImageComponents.Encoder(config, device);
        if (encoder is not null && this.parallel.Size > 1)
            this.parallel.CheckSame($"encoder in {config.Encoder}", DataFingerprint.Of([.. encoder.parameters().Select(p => (p, (long[]?)null))]),
                "every process computes the same features: put the same encoder at that path on every machine");
        // Before the encoder's table of the training set (27–59 s for Fashion-MNIST on 2 cores): a --classifier that is
        // missing or does not fit the data is refused without that wait.
        probe = config.Classifier is { } classifierDir && this.parallel.IsWriter ? new FdProbe(classifierDir, config, data, config.EvalSamples, device) : null;
        trainPixels = data.Train.Pixels.to(device);
        var tabulating = Stopwatch.StartNew();
        featureSpaces = ImageComponents.FeatureSpaces(config, encoder, trainPixels, this.parallel);
        TableSeconds = featureSpaces.Any(s => s.HasTable) ? tabulating.Elapsed.TotalSeconds : null;
        this.parallel.StartCounting();
        pools = new ClassPools(data.Train.Labels, data.Classes);
        stepClasses = config.Conditional ? pools.Present : [];
        Groups = config.Conditional ? Math.Min(config.ClassesPerStep > 0 ? config.ClassesPerStep : stepClasses.Length, stepClasses.Length) : 1;
        PerGroup = config.Conditional ? config.ClassBatch : config.ClassBatch * data.Classes;
        Positives = config.Conditional ? config.PositiveCount : config.PositiveCount * data.Classes;
        (gridNoise, gridLabels) = GridInputs(config, data.Classes, device);
        Loop = new TrainingLoop(this, model, optimizer, rng, config.LearningRateAt)
            { Ema = ema, EmaDecay = config.Ema, ClipGrad = config.ClipGrad, Parallel = this.parallel };
    }

    public TrainingLoop Loop { get; }
    /// <summary>Class groups per step, generated images per group, data images per group.</summary>
    public int Groups { get; }
    public int PerGroup { get; }
    public int Positives { get; }
    public long Parameters => model.parameters().Sum(p => p.numel());
    /// <summary>Seconds spent computing the encoder's features of the training images; null: no encoder space.</summary>
    public double? TableSeconds { get; }
    /// <summary>Floating-point operations of one step's generator forward pass over the whole batch.</summary>
    public double GeneratorFlops => model.ForwardFlops(Groups * PerGroup);
    /// <summary>Floating-point operations of one step's encoder forward pass over the generated images (the other
    /// feature spaces are poolings, not counted); 0 without an encoder space.</summary>
    public double EncoderFlops => encoder?.ForwardFlops(Groups * PerGroup) ?? 0;

    public DriftLossResult Loss(long step, Generator rng)
    {
        var classes = config.Conditional ? DrawClasses(stepClasses, Groups, rng) : [null];
        var alphas = torch.rand(classes.Length, generator: rng).mul_(config.GuidanceMax - 1).add_(1).data<float>().ToArray();
        var labels = torch.tensor(classes.SelectMany(c => Enumerable.Repeat((long)(c ?? config.GeneratorClasses), PerGroup)).ToArray()).to(device);
        var guidance = torch.tensor(alphas.SelectMany(a => Enumerable.Repeat(a, PerGroup)).ToArray()).to(device);
        var noise = torch.randn([labels.shape[0], config.NoiseDim], generator: rng).to(device);
        // Drawn for the whole batch in every process alike; this process generates its share of each group.
        var groups = classes.Length;
        var (myNoise, myLabels, myGuidance) = (parallel.Split(noise, groups), parallel.Split(labels, groups), parallel.Split(guidance, groups));
        // On the CPU, a batch whose maps overfill a heap block goes in chunks whose maps and gradients the heap serves: the
        // whole batch's were fresh pages that the kernel zeroed every step (the default step, 640 images at width 64:
        // 4.3–4.8 s, a third of the CPU time in the kernel; 3.1–3.2 s in chunks; the losses the same to 6 digits, a
        // convolution over fewer images rounding differently).
        var x = HeapBatch.Pass(myNoise.shape[0], model.LargestMap(), device,
            (start, count) => model.forward(myNoise.narrow(0, start, count), myLabels.narrow(0, start, count), myGuidance.narrow(0, start, count)));
        Loop.Phases?.Lap(StepPhases.Generate);
        DataImages Images(IEnumerable<int?> cs, int n)
        {
            var rows = torch.tensor(cs.SelectMany(c => pools.Draw(c, n, rng)).ToArray()).to(device);
            return new DataImages(ImageSet.ToUnit(trainPixels.index_select(0, rows)), rows);
        }
        var features = FeatureSpace.MapAll(featureSpaces, x);
        Loop.Phases?.Lap(StepPhases.Features);
        var guided = config.GuidanceMax > 1;
        return FeatureDriftLoss.Compute(field, featureSpaces, classes.Length, features, Images(classes, Positives), config.Eta,
            guided ? Images(classes.Select(_ => (int?)null), config.UnconditionalNegatives) : null,
            guided ? alphas.Select(a => GuidanceNegatives.GammaFor(a)).ToArray() : null, parallel);
    }

    public double[]? Evaluate() => probe?.Measure(ema);

    /// <summary>The EMA generator's grid from fixed noise, one row per class: grid.png, grids/step-N.png and TensorBoard.</summary>
    public void AfterStep(long step, SummaryWriter board)
    {
        if (step % config.GridEvery != 0 && step != config.Steps) return;
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var images = ema.forward(gridNoise, gridLabels, torch.ones(gridLabels.shape[0], device: device)).cpu();
        ImageFiles.Grid(Path.Combine(outDir, RunFiles.GridAt(step)), images, GridColumns);
        ImageFiles.Grid(Path.Combine(outDir, RunFiles.Grid), images, GridColumns);
        var strip = images.narrow(0, 0, Math.Min(GridColumns, images.shape[0]));
        board.add_img("samples", ImageSet.ToBytes(strip.permute(1, 2, 0, 3).reshape(strip.shape[1], strip.shape[2], -1)), (int)step);
    }

    public void AfterCheckpoint(long step, IReadOnlyList<LoggedStep> rows, SummaryWriter board) { }

    double[]? ITrainingTask.TakeDiagnostics() => field.TakeDiagnostics();

    public void Dispose()
    {
        foreach (var d in new IDisposable?[] { model, ema, optimizer, rng, encoder, trainPixels, probe, gridNoise, gridLabels }.Concat(featureSpaces))
            d?.Dispose();
    }

    /// <param name="parallel">The processes training this run together (rank 0 writes <paramref name="outDir"/>); null: this one alone.</param>
    public static ImageTrainResult Run(ImageConfig config, string outDir, Checkpoint? resume, ILogger log,
        Action<StepReport> onStep, CancellationToken cancel, DataParallel? parallel = null)
    {
        parallel ??= DataParallel.Alone;
        config = config.Resolved();
        config.Validate();
        var device = Components.Device(config.Device, parallel.LocalRank);
        if (parallel.Size > 1) log.LogInformation("{Placement}", parallel.Placement);
        if (device.type == DeviceType.CUDA)
            torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = config.Tf32;
        using var data = ImageData.Load(config.Data, config.ImageSize);
        foreach (var f in config.Features.Where(f => !ImageConfig.IsEncoderSpace(f)))
        {
            try { ImageFeatures.Check(f, data.Size); }
            catch (ArgumentException e) { throw new UserError("--features: " + e.Message); }
        }
        if ((config.Channels, config.Classes) is not ((0, 0)) && (config.Channels, config.Classes) != (data.Channels, data.Classes))
            throw new UserError($"the data now has {data.Channels} channel(s) and {data.Classes} classes, the run {config.Channels} and {config.Classes}");
        // A new run's (Classes still unknown) only: one saved with more was taken as all its classes, and resumes so.
        if (config.Classes == 0 && config.Conditional && config.ClassesPerStep > data.Classes)
            throw new UserError($"--classes-per-step {config.ClassesPerStep} is more than the {data.Classes} classes of {data.Name}");
        config = config with { ImageSize = data.Size, Channels = data.Channels, Classes = data.Classes, ClassNames = data.ClassNames };
        var fingerprint = data.Fingerprint();
        parallel.CheckSame($"copy of {config.Data}", fingerprint, "every process trains on the same images: put the same files at that path on every machine");
        log.LogInformation("data {Name}: {Train} train / {Test} test images of {Shape}, loaded in {Ms} ms; {K} classes: {Classes}",
            data.Name, data.Train.Count, data.Test.Count, $"{data.Channels}×{data.Size}×{data.Size}", (long)data.LoadTime.TotalMilliseconds,
            data.Classes, config.ClassList(10));

        ImageTrainer Build()
        {
            // Computing an encoder's features of the training set takes a while before the loop can answer a signal.
            using var announce = config.Features.Any(ImageConfig.IsEncoderSpace)
                ? cancel.Register(() => log.LogWarning("stopping once the encoder's features of the training set are computed, then saving"))
                : default;
            return new ImageTrainer(config, data, device, outDir, parallel);
        }
        using var trainer = Build();
        log.LogInformation("{Field}, scales {Scales} in {Features}; per step {Groups} group(s) of {Gen} generated and {Pos} data images; "
            + "generator {Params:N0} parameters, device {Device}", config.FieldDescription, string.Join(",", config.Scales), string.Join(",", config.Features),
            trainer.Groups, trainer.PerGroup, trainer.Positives, trainer.Parameters, Components.Name(device));
        if (trainer.TableSeconds is { } tableSeconds)
            log.LogInformation("encoder features of the {Count} training images computed once, in {Seconds:F1} s", data.Train.Count, tableSeconds);
        var scaleNames = config.Features.SelectMany(f => config.Scales.Select(s => $"{f}_{s:g3}")).ToArray();
        var record = new RunRecord(outDir, ImageConfig.Kind, config.ToJson(), fingerprint, Standardizer.Identity(0), scaleNames, FdProbe.Metrics,
            trainer.field.DiagnosticNames(config.Scales.Select(s => $"{s:g3}")));
        var result = parallel.IsWriter
            ? trainer.Loop.Run(record, new LoopSchedule(config.Steps, config.LogEvery, config.EvalEvery, config.CheckpointEvery, config.SnapshotEvery), resume, log, onStep, cancel)
            : trainer.Loop.Follow(record, config.Steps, resume, cancel);
        if (parallel.Size > 1) log.LogInformation("{Communication}", parallel.Summary(result.SessionSteps, result.SessionSeconds));
        var seconds = result.SessionSeconds;
        var images = result.SessionSteps * trainer.Groups * trainer.PerGroup;
        return new ImageTrainResult(outDir, result.Step, result.Interrupted, result.WallSeconds, images / Math.Max(seconds, 1e-9),
            seconds / Math.Max(1, result.SessionSteps), Process.GetCurrentProcess().PeakWorkingSet64, result.Metric,
            trainer.probe?.Floor ?? double.NaN, result.Rows);
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
            .Select(i => config.Conditional ? (long)(i / GridColumns) : config.GeneratorClasses).ToArray()).to(device);
        return (noise, labels);
    }
}
