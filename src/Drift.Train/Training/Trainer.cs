using System.Diagnostics;
using Drift.Loss;
using Drift.Metrics;
using Drift.Train.Data;
using Drift.Train.Output;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Train.Training;

/// <param name="Energy">Energy distance of the final samples to held-out data.</param>
/// <param name="Floor">The same for an independent draw of training data: what a perfect generator scores.</param>
/// <param name="Metrics">Every logged row of the run, the evaluations included.</param>
public sealed record TrainResult(string OutDir, long Step, bool Interrupted, double Energy, double Floor, double WallSeconds,
    IReadOnlyList<MetricsRow> Metrics);

/// <summary>What the trainer tells whoever shows progress, after every step.</summary>
public readonly record struct StepReport(long Step, long Steps, double? Loss, double? Energy);

/// <summary>The training loop: one drifting step after another, with evaluation, metrics, plots and
/// checkpoints on a schedule.</summary>
public static class Trainer
{
    public const string ConfigFile = "config.json";
    public const string SamplesPlot = "samples.png";
    public const string CurvesPlot = "curves.png";
    private const ulong EvalNoiseSeed = 0x5EED_E7A1;

    public static TrainResult Run(TrainConfig config, string outDir, Checkpoint? resume, ILogger log,
        Action<StepReport> onStep, CancellationToken cancel)
    {
        config = config.Resolved();
        config.Validate();
        var device = Components.Device(config.Device);
        var loadTimer = Stopwatch.StartNew();
        var data = PointData.Load(config.Data, config.EvalSamples, config.Standardize);
        var scale = resume?.Scale ?? data.Scale;
        if (scale.Mean.Length != data.Dim)
            throw new UserError($"the data now has {data.Dim} dimensions, the checkpoint {scale.Mean.Length}");
        log.LogInformation("data {Name}: d={Dim}, {Held} held-out points, loaded in {Ms} ms", data.Name, data.Dim,
            data.HeldOut.shape[0], loadTimer.ElapsedMilliseconds);

        torch.manual_seed(config.Seed);
        using var model = Components.Generator(config, data.Dim);
        model.to(device);
        using var optimizer = torch.optim.Adam(model.parameters(), config.Lr);
        using var rng = new Generator((ulong)config.Seed);
        var scales = Components.Field(config).Scales;
        long step = 0;
        var wallBefore = 0.0;
        if (resume is not null)
        {
            resume.LoadWeights(model);
            resume.LoadOptimizer(optimizer);
            resume.LoadRng(rng);
            step = resume.Step;
            wallBefore = resume.ElapsedSeconds;
            log.LogInformation("resuming {Dir} at step {Step}", outDir, step);
        }
        var parameters = model.parameters().Sum(p => p.numel());
        log.LogInformation("{Field} field, scales {Scales}, generator MLP {Width}x{Depth} ({Params:N0} parameters), device {Device}",
            config.Field, string.Join(",", scales), config.Width, config.Depth, parameters, device.type);

        Directory.CreateDirectory(outDir);
        AtomicFile.WriteText(Path.Combine(outDir, ConfigFile), config.ToJson());
        var board = TensorBoard.Open(outDir);
        var metrics = new MetricsLog(outDir, scales.Select(s => s.ToString("R", System.Globalization.CultureInfo.InvariantCulture)), step);
        var floor = EnergyDistance.Compute(data.Reference, data.HeldOut);
        using var evalRng = new Generator(EvalNoiseSeed);
        using var evalNoise = torch.randn([data.HeldOut.shape[0], config.NoiseDim], generator: evalRng);

        var timer = Stopwatch.StartNew();
        double Wall() => wallBefore + timer.Elapsed.TotalSeconds;
        var energy = double.NaN;
        float[,] samples = Evaluate(model, scale, evalNoise, device);
        var interrupted = false;
        long? lastSaved = resume?.Step;

        while (step < config.Steps)
        {
            if (cancel.IsCancellationRequested) { interrupted = true; break; }
            using (var scope = torch.NewDisposeScope())
            {
                var noise = torch.randn([config.Batch, config.NoiseDim], generator: rng).to(device);
                var positives = data.Sample(config.PositiveCount, rng).to(device);
                var x = model.forward(noise);
                var drift = DriftLoss.Compute(Components.Field(config, (double)step / config.Steps), x, positives, config.Eta);
                foreach (var group in optimizer.ParamGroups)
                    group.LearningRate = LearningRate(config, step);
                optimizer.zero_grad();
                drift.Loss.backward();
                NonFiniteGuard.Check(step, drift.Loss, drift.VelocityRms, NonFiniteGuard.GradientNorm(model.parameters()), lastSaved);
                optimizer.step();
                step++;

                var evalStep = step % config.EvalEvery == 0 || step == config.Steps;
                double? stepEnergy = null;
                if (evalStep)
                {
                    samples = Evaluate(model, scale, evalNoise, device);
                    energy = EnergyDistance.Compute(torch.tensor(samples), data.HeldOut);
                    stepEnergy = energy;
                }
                double? loss = null;
                if (evalStep || step % config.LogEvery == 0)
                {
                    loss = drift.Loss.item<float>();
                    var rms = drift.ScaleRms.cpu().data<float>().Select(v => (double)v).ToArray();
                    metrics.Append(new MetricsRow(step, Wall(), loss.Value, drift.VelocityRms.item<float>(), rms, stepEnergy));
                    board.add_scalar("loss", (float)loss.Value, (int)step);
                    board.add_scalar("velocity_rms", drift.VelocityRms.item<float>(), (int)step);
                    for (var s = 0; s < rms.Length; s++)
                        board.add_scalar($"field_rms/scale{s}", (float)rms[s], (int)step);
                    if (stepEnergy is { } e)
                        board.add_scalar("energy_distance", (float)e, (int)step);
                }
                onStep(new StepReport(step, config.Steps, loss, stepEnergy));
            }
            // TorchSharp's Adam.step leaves some temporaries to the finalizer, outside any dispose scope;
            // the GC does not see their native memory, so without this a run grows by megabytes a step.
            if (step % 10 == 0)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
            if (step % config.CheckpointEvery == 0 || step == config.Steps)
            {
                Save(outDir, config, step, Wall(), scale, rng, model, optimizer, data, samples, metrics, scales, floor);
                lastSaved = step;
                TensorBoard.AddPng(board, "samples", Path.Combine(outDir, SamplesPlot), step);
            }
        }
        if (interrupted)
        {
            Save(outDir, config, step, Wall(), scale, rng, model, optimizer, data, samples, metrics, scales, floor);
            log.LogWarning("interrupted at step {Step}; checkpoint saved, continue with: drift train --resume {Dir}", step, outDir);
        }
        return new TrainResult(outDir, step, interrupted, energy, floor, Wall(), metrics.Rows);
    }

    /// <summary>Cosine decay from --lr to zero over the run: late steps average out the minibatch noise
    /// in the field instead of chasing it.</summary>
    public static double LearningRate(TrainConfig c, long step) =>
        c.LrSchedule == "constant" ? c.Lr : c.Lr * 0.5 * (1 + Math.Cos(Math.PI * step / c.Steps));

    /// <summary>Generates from the fixed evaluation noise, in data units, on the CPU.</summary>
    public static float[,] Evaluate(nn.Module<Tensor, Tensor> model, Standardizer scale, Tensor noise, Device device)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var x = scale.Denormalize(model.forward(noise.to(device))).cpu();
        return ToArray(x);
    }

    public static float[,] ToArray(Tensor points)
    {
        var n = (int)points.shape[0];
        var d = (int)points.shape[1];
        var flat = points.contiguous().data<float>().ToArray();
        var result = new float[n, d];
        Buffer.BlockCopy(flat, 0, result, 0, flat.Length * sizeof(float));
        return result;
    }

    private static void Save(string outDir, TrainConfig config, long step, double wall, Standardizer scale, Generator rng,
        nn.Module model, TorchSharp.Modules.OptimizerHelper optimizer, PointData data, float[,] samples, MetricsLog metrics,
        IReadOnlyList<double> scales, double floor)
    {
        Checkpoint.Save(outDir, Checkpoint.PointsKind, config.ToJson(), step, wall, scale, rng, [model], optimizer);
        var title = $"{data.Name}, {config.Field}, step {step}";
        Plots.Samples(Path.Combine(outDir, SamplesPlot), ToArray(data.HeldOut), samples, title);
        var labels = scales.Select(s => config.Anneal > 0 ? $"{s:g3} → {s * config.ScaleAt(1):g3}" : $"{s:g3}").ToArray();
        Plots.Curves(Path.Combine(outDir, CurvesPlot), metrics.Rows, labels, floor, data.Name);
    }
}
