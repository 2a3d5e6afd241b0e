using Drift.Loss;
using Drift.Train.Distributed;
using Drift.Metrics;
using Drift.Models;
using Drift.Data;
using Drift.Train.Output;
using Microsoft.Extensions.Logging;
using TorchSharp;
using TorchSharp.Modules;
using Drift.Train.RunFolders;
using static TorchSharp.torch;

namespace Drift.Train.Training.Points;

/// <param name="Energy">Energy distance of the final samples to held-out data.</param>
/// <param name="Floor">The same for an independent draw of training data: what a perfect generator scores.</param>
public sealed record TrainResult(string OutDir, long Step, bool Interrupted, double Energy, double Floor, double WallSeconds,
    IReadOnlyList<LoggedStep> Metrics) : ITrainedRun;

/// <summary>A points run: an MLP generator trained on 2-D toy data or a CSV of points, judged by the energy
/// distance to held-out data. One step draws noise and positives, generates, and takes the drift loss of the
/// field at this step's annealed scale.</summary>
public sealed class PointsTrainer : ITrainingTask, IDisposable
{
    private const ulong EvalNoiseSeed = 0x5EED_E7A1;
    private readonly TrainConfig config;
    private readonly PointData data;
    private readonly MlpGenerator model;
    private readonly Adam optimizer;
    private readonly Generator rng;
    private readonly IDriftField field;
    private readonly Standardizer scale;
    private readonly Device device;
    private readonly Tensor evalNoise;
    private readonly string outDir;
    private readonly DataParallel parallel;
    private float[,]? samples;

    /// <summary>The generator (weights from <see cref="TrainConfig.Seed"/>), its optimizer and the field of a
    /// validated, resolved config, and the loop that trains them.</summary>
    /// <param name="scale">The data standardisation: the data's own, or a resumed checkpoint's.</param>
    /// <param name="parallel">The processes sharing each step's batch; null: this one alone.</param>
    public PointsTrainer(TrainConfig config, PointData data, Standardizer scale, Device device, string outDir, DataParallel? parallel = null)
    {
        this.config = config;
        this.parallel = parallel ?? DataParallel.Alone;
        config.ValidateProcesses(this.parallel.Size);
        this.data = data;
        this.scale = scale;
        this.device = device;
        this.outDir = outDir;
        torch.manual_seed(config.Seed);
        model = PointComponents.Generator(config, data.Dim);
        model.to(device);
        optimizer = torch.optim.Adam(model.parameters(), config.Lr);
        rng = new Generator((ulong)config.Seed);
        field = config.BuildField();
        using var evalRng = new Generator(EvalNoiseSeed);
        evalNoise = torch.randn([data.HeldOut.shape[0], config.NoiseDim], generator: evalRng);
        Floor = EnergyDistance.Compute(data.Reference, data.HeldOut);
        Loop = new TrainingLoop(this, model, optimizer, rng, config.LearningRateAt) { Parallel = this.parallel };
    }

    public TrainingLoop Loop { get; }
    public long Parameters => model.parameters().Sum(p => p.numel());
    /// <summary>Floating-point operations of one step's generator forward pass over the whole batch.</summary>
    public double GeneratorFlops => model.ForwardFlops(config.Batch);

    /// <summary>Energy distance of an independent draw of data to the held-out points.</summary>
    public double Floor { get; }

    public DriftLossResult Loss(long step, Generator rng)
    {
        // The whole batch's noise and positives, drawn alike in every process; this process generates its share.
        var noise = parallel.Split(torch.randn([config.Batch, config.NoiseDim], generator: rng)).to(device);
        var positives = data.Sample(config.PositiveCount, rng).to(device);
        var x = model.forward(noise);
        Loop.Phases?.Lap(StepPhases.Generate);
        var annealed = field.Scaled(config.ScaleAt((double)step / config.Steps));
        return config.ThroughField
            ? config.Field.ThroughFieldLoss!(annealed, x, positives, config.Eta)
            : DriftLoss.Compute(annealed, x, positives, config.Eta, shard: parallel);
    }

    public double[]? Evaluate()
    {
        samples = Generate(model, scale, evalNoise, device);
        return [EnergyDistance.Compute(torch.tensor(samples), data.HeldOut)];
    }

    public void AfterStep(long step, SummaryWriter board) { }

    public void AfterCheckpoint(long step, IReadOnlyList<LoggedStep> rows, SummaryWriter board)
    {
        samples ??= Generate(model, scale, evalNoise, device);
        var title = $"{data.Name}, {config.Field.Name}, step {step}";
        Plots.Samples(Path.Combine(outDir, RunFiles.SamplesPlot), PointData.ToArray(data.HeldOut), samples, title, data.Columns);
        var labels = config.FieldScales.Select(s => config.Anneal > 0 ? $"{s:g3} → {s * config.ScaleAt(1):g3}" : $"{s:g3}").ToArray();
        Plots.Curves(Path.Combine(outDir, RunFiles.CurvesPlot), rows, labels, Floor, data.Name);
        TensorBoard.AddPng(board, "samples", Path.Combine(outDir, RunFiles.SamplesPlot), step);
    }

    double[]? ITrainingTask.TakeDiagnostics() => field.TakeDiagnostics();

    public void Dispose()
    {
        model.Dispose();
        optimizer.Dispose();
        rng.Dispose();
        evalNoise.Dispose();
    }

    /// <param name="parallel">The processes training this run together (rank 0 writes <paramref name="outDir"/>); null: this one alone.</param>
    public static TrainResult Run(TrainConfig config, string outDir, Checkpoint? resume, ILogger log, Action<StepReport> onStep, CancellationToken cancel,
        DataParallel? parallel = null)
    {
        parallel ??= DataParallel.Alone;
        config = config.Resolved();
        config.Validate();
        var device = Components.Device(config.Device, parallel.LocalRank);
        if (parallel.Size > 1) log.LogInformation("{Placement}", parallel.Placement);
        var loadTimer = System.Diagnostics.Stopwatch.StartNew();
        var data = PointData.Load(config.Data, config.EvalSamples, config.Standardize);
        // A toy set is drift's own code, the same wherever the build is (DataParallel.Start checks that); a file is each machine's copy.
        if (!ToyDatasets.Contains(config.Data))
            parallel.CheckSame($"copy of {config.Data}", data.Fingerprint, "every process trains on the same data: put the same file at that path on every machine");
        var scale = resume?.Scale ?? data.Scale;
        if (scale.Mean.Length != data.Dim)
            throw new UserError($"the data now has {data.Dim} dimensions, the checkpoint {scale.Mean.Length}");
        log.LogInformation("data {Name}: d={Dim}, {Held} held-out points, loaded in {Ms} ms", data.Name, data.Dim,
            data.HeldOut.shape[0], loadTimer.ElapsedMilliseconds);
        config = config with { Columns = data.Columns };

        using var trainer = new PointsTrainer(config, data, scale, device, outDir, parallel);
        log.LogInformation("{Field}, scales {Scales}, generator MLP {Width}x{Depth} ({Params:N0} parameters), device {Device}",
            config.FieldDescription, string.Join(",", config.FieldScales), config.Width, config.Depth, trainer.Parameters, Components.Name(device));
        var scaleNames = config.FieldScales.Select(s => s.ToString("R", System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var record = new RunRecord(outDir, TrainConfig.Kind, config.ToJson(), data.Fingerprint, scale, scaleNames, ["energy"],
            trainer.field.DiagnosticNames(scaleNames));
        var result = parallel.IsWriter
            ? trainer.Loop.Run(record, new LoopSchedule(config.Steps, config.LogEvery, config.EvalEvery, config.CheckpointEvery, config.SnapshotEvery), resume, log, onStep, cancel)
            : trainer.Loop.Follow(record, config.Steps, resume, cancel);
        if (parallel.Size > 1) log.LogInformation("{Communication}", parallel.Summary(result.SessionSteps, result.SessionSeconds));
        return new TrainResult(outDir, result.Step, result.Interrupted, result.Metric, trainer.Floor, result.WallSeconds, result.Rows);
    }

    /// <summary>Generates from <paramref name="noise"/>, in data units, on the CPU.</summary>
    /// <remarks>In batches of <see cref="GenerateBatch"/> rows, so a large n (drift sample --n 16777216) needs the
    /// generator's activations for one batch only; up to that n the result is that of one forward pass.</remarks>
    public static float[,] Generate(nn.Module<Tensor, Tensor> model, Standardizer scale, Tensor noise, Device device)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var parts = noise.split(GenerateBatch).Select(part => scale.Denormalize(model.forward(part.to(device))).cpu()).ToArray();
        return PointData.ToArray(parts.Length == 1 ? parts[0] : torch.cat(parts, 0));
    }

    private const int GenerateBatch = 1 << 16;
}
