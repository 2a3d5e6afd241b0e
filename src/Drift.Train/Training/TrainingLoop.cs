using System.Diagnostics;
using Drift.Loss;
using Drift.Train.Distributed;
using Drift.Data;
using Drift.Train.Output;
using Microsoft.Extensions.Logging;
using TorchSharp;
using TorchSharp.Modules;
using Drift.Train.RunFolders;
using static TorchSharp.torch;

namespace Drift.Train.Training;

/// <summary>What the loop tells whoever shows progress, after every step. <paramref name="Metric"/> is set on evaluation steps.</summary>
public readonly record struct StepReport(long Step, long Steps, double? Loss, double? Metric);

/// <summary>What differs between a points run and an image run. The <see cref="TrainingLoop"/> does everything else.</summary>
public interface ITrainingTask
{
    /// <summary>Draws the step's batch from <paramref name="rng"/>, generates, and returns the drift loss (with gradient to the generator).</summary>
    DriftLossResult Loss(long step, Generator rng);

    /// <summary>The evaluated metrics of the current weights, in the order of <see cref="RunRecord.Metrics"/> (energy
    /// distance; FD and recall), or null when the run has none.</summary>
    double[]? Evaluate();

    /// <summary>Pictures written after each step on the task's own schedule (image grids), to files and <paramref name="board"/>.</summary>
    void AfterStep(long step, SummaryWriter board);

    /// <summary>Pictures written with each checkpoint (points: samples and curves), from the rows logged so far.</summary>
    void AfterCheckpoint(long step, IReadOnlyList<LoggedStep> rows, SummaryWriter board);

    /// <summary>The field's counts since the last row, in the order of <see cref="RunRecord.Diagnostics"/> (the Sinkhorn
    /// field's iterations); null when the run logs none.</summary>
    double[]? TakeDiagnostics() => null;
}

/// <summary>Where a run is recorded and what it logs: the checkpoint's kind and config, the data's fingerprint
/// and scale, and the names of the metrics.csv columns (one per field scale, one per evaluated metric, the
/// first of which is the run's headline metric, and the field's diagnostics, if any).</summary>
public sealed record RunRecord(string Dir, string Kind, string ConfigJson, string DataFingerprint, Standardizer Scale,
    IReadOnlyList<string> ScaleNames, IReadOnlyList<string> Metrics, IReadOnlyList<string>? Diagnostics = null);

/// <summary>What a finished (or stopped) run of either kind reports to those that train several: compare.</summary>
public interface ITrainedRun
{
    long Step { get; }
    bool Interrupted { get; }
    double WallSeconds { get; }
    /// <summary>Every logged row of the run, the evaluations included.</summary>
    IReadOnlyList<LoggedStep> Metrics { get; }
}

/// <param name="SnapshotEvery">Steps between snapshots (<see cref="Checkpoint.Save"/>); 0: none.</param>
public sealed record LoopSchedule(long Steps, int LogEvery, int EvalEvery, int CheckpointEvery, int SnapshotEvery = 0);

/// <param name="Metric">The last evaluated headline metric, NaN when none was.</param>
/// <param name="SessionSeconds">Wall time of this session alone, and <paramref name="SessionSteps"/> its steps (a resumed run counts from its checkpoint).</param>
public sealed record LoopResult(long Step, bool Interrupted, double WallSeconds, double SessionSeconds, long SessionSteps, double Metric,
    IReadOnlyList<LoggedStep> Rows);

/// <summary>
/// The one training loop, for points and images alike. A step: the task draws a batch and computes the drift
/// loss; the loop sets the learning rate, back-propagates, stops on a non-finite value, clips, takes the
/// optimizer step and moves the EMA weights. Around the steps: evaluation, metrics.csv and TensorBoard rows,
/// checkpoints on a schedule, Ctrl+C (a checkpoint, then stop) and resume.
/// </summary>
public sealed class TrainingLoop(ITrainingTask task, nn.Module model, OptimizerHelper optimizer, Generator rng, Func<long, double> learningRate)
{
    private long? lastSaved;
    private long? stepBytes;

    /// <summary>The sampling copy of the model whose weights trail it (image runs); null: none.</summary>
    public nn.Module? Ema { get; init; }
    public double EmaDecay { get; init; }
    /// <summary>Gradient norm clip; 0: none.</summary>
    public double ClipGrad { get; init; }
    /// <summary>The processes training this run together; their gradients are averaged before each optimizer step.</summary>
    public DataParallel Parallel { get; init; } = DataParallel.Alone;
    /// <summary>When set, each step's phases are timed into it (<c>drift bench</c>); null in training.</summary>
    public StepPhases? Phases { get; set; }
    /// <summary>Steps taken so far (set by resume).</summary>
    public long Step { get; private set; }

    /// <summary>One optimizer step, the one <c>drift bench</c> times. Returns the step's loss (over the whole batch,
    /// however many processes share it) and field diagnostics.</summary>
    public DriftLossResult TakeStep()
    {
        using var noCollection = NoGcRegion.Enter(StepBytes);
        Phases?.Start();
        var drift = task.Loss(Step, rng);
        Phases?.Lap(StepPhases.Loss);
        foreach (var group in optimizer.ParamGroups)
            group.LearningRate = learningRate(Step);
        optimizer.zero_grad();
        drift.Loss.backward();
        Phases?.Lap(StepPhases.Backward);
        drift = drift with { Loss = Parallel.AverageGradients(model.parameters(), drift.Loss) };
        DivergenceGuard.Check(Step, drift.Loss, drift.VelocityRms, DivergenceGuard.GradientNorm(model.parameters()), lastSaved);
        if (ClipGrad > 0)
            nn.utils.clip_grad_norm_(model.parameters(), ClipGrad);
        optimizer.step();
        Phases?.Lap(StepPhases.Optimizer);
        if (Ema is not null)
        {
            UpdateEma(Ema, model, EmaDecay, Step);
            Phases?.Lap(StepPhases.Ema);
        }
        Step++;
        return drift;
    }

    private nn.Module[] Modules => Ema is null ? [model] : [model, Ema];

    /// <summary>What an evaluation may allocate without a collection: the metrics pass thousands of generated samples'
    /// features through .NET arrays.</summary>
    private const long EvaluationBytes = 128L << 20;

    /// <summary>What a step may allocate in .NET's heap without a collection (<see cref="NoGcRegion"/>): tensor and scalar
    /// wrappers, and with several processes the averaged gradients, which pass through three float arrays of the
    /// parameters' size (copied out, summed, copied back). Each step starts with a collection that makes room for the
    /// budget: on the 2-D default (one process) the collections took 0.21–0.25 ms a step with a 33 MB budget, 0.14–0.16
    /// with 1–4 MB and without any region (GC.GetTotalPauseDuration printed by a throwaway probe, not kept), and wall
    /// time moved less than this VM's ±10 % between runs.</summary>
    private long StepBytes => stepBytes ??= (16L << 20) + (Parallel.Size > 1 ? 12 * model.parameters().Sum(p => p.numel()) : 0);

    /// <summary>Weights, optimizer, generator and step from a checkpoint of this run (its data unchanged).</summary>
    private void Restore(Checkpoint resume, RunRecord run)
    {
        if (resume.DataFingerprint is { } saved && saved != run.DataFingerprint)
            throw new UserError($"the data of {run.Dir} changed since its checkpoint (fingerprint {saved}, now {run.DataFingerprint}); "
                + "a resumed run trains on the same data: restore it, or start a new run");
        var modules = Modules;
        for (var i = 0; i < modules.Length; i++)
            resume.LoadWeights(modules[i], i);
        resume.LoadOptimizer(optimizer);
        resume.LoadRng(rng);
        Step = resume.Step;
        lastSaved = resume.Step;
    }

    /// <summary>A process other than rank 0 of a data-parallel run: the same steps in lockstep with rank 0 (whose
    /// collectives it meets in each step), stopping when any process is asked to, writing nothing.</summary>
    public LoopResult Follow(RunRecord run, long steps, Checkpoint? resume, CancellationToken cancel)
    {
        if (resume is not null) Restore(resume, run);
        var startStep = Step;
        var timer = Stopwatch.StartNew();
        var interrupted = false;
        while (Step < steps)
        {
            if (Parallel.AnyStop(cancel.IsCancellationRequested)) { interrupted = true; break; }
            using (var scope = torch.NewDisposeScope())
                TakeStep();
            if (Step % 10 == 0)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        }
        var seconds = timer.Elapsed.TotalSeconds;
        return new LoopResult(Step, interrupted, seconds, seconds, Step - startStep, double.NaN, []);
    }

    public LoopResult Run(RunRecord run, LoopSchedule schedule, Checkpoint? resume, ILogger log, Action<StepReport> onStep, CancellationToken cancel)
    {
        var modules = Modules;
        var wallBefore = 0.0;
        if (resume is not null)
        {
            Restore(resume, run);
            wallBefore = resume.ElapsedSeconds;
            log.LogInformation("resuming {Dir} at step {Step}", run.Dir, Step);
        }
        // A new run marks its folder and writes its config first: killed at any moment after, its folder can be resumed
        // (from step 0). A resume checks everything it will touch before it changes anything: the entries are what a run
        // keeps, the event files parse, and metrics.csv is read and checked before it is rewritten.
        OwnedFolder.CheckEntries(run.Dir, FolderKind.Run);
        var boardCut = TensorBoard.PlanDropAfter(run.Dir, Step);
        void Begin()
        {
            OwnedFolder.Mark(run.Dir, FolderKind.Run);
            AtomicFile.WriteText(Path.Combine(run.Dir, RunFiles.Config), run.ConfigJson);
        }
        if (resume is null) Begin();
        var metrics = new MetricsLog(Path.Combine(run.Dir, RunFiles.Metrics), run.ScaleNames, Step, run.Metrics, run.Diagnostics ?? []);
        if (resume is not null) Begin();
        AtomicFile.RemoveLeftovers(run.Dir);
        boardCut.Apply();
        var board = TensorBoard.Open(run.Dir);

        var timer = Stopwatch.StartNew();
        double Wall() => wallBefore + timer.Elapsed.TotalSeconds;
        void Save(bool snapshot = false)
        {
            Checkpoint.Save(run.Dir, run.Kind, run.ConfigJson, run.DataFingerprint, Step, Wall(), run.Scale, rng, modules, optimizer, snapshot);
            lastSaved = Step;
            task.AfterCheckpoint(Step, metrics.Rows, board);
        }
        var startStep = Step;
        var metric = double.NaN;
        var interrupted = false;
        // A stop is taken between steps and announced at once; a long step (a large batch) with how long it still runs.
        // The step it names is the one the loop finishes first: set under the gate by the same look at the token that
        // decides whether another step starts (Step + 1 named a step never taken when a signal came between steps).
        var stepClock = new Stopwatch();
        var lastStepSeconds = double.NaN;
        var gate = new object();
        long? finishing = null;
        using var announce = cancel.Register(() =>
        {
            long last;
            lock (gate) last = finishing ?? Step;
            var ran = stepClock.Elapsed.TotalSeconds;
            var timing = ran >= 1 || lastStepSeconds >= 1
                ? $" ({ran:F0} s into it{(double.IsNaN(lastStepSeconds) ? "" : $", a step takes about {lastStepSeconds:F0} s")})" : "";
            log.LogWarning("stopping after step {Step}{Timing}, then saving a checkpoint; a second signal stops at once without saving", last, timing);
        });
        while (Step < schedule.Steps)
        {
            bool stop;
            lock (gate)
            {
                stop = cancel.IsCancellationRequested;
                finishing = stop ? null : Step + 1;
            }
            if (Parallel.AnyStop(stop))
            {
                lock (gate) finishing = null;
                interrupted = true;
                break;
            }
            stepClock.Restart();
            using (var scope = torch.NewDisposeScope())
            {
                var drift = TakeStep();
                var last = Step == schedule.Steps;
                double[]? evaluated = null;
                if (Step % schedule.EvalEvery == 0 || last)
                    using (NoGcRegion.Enter(EvaluationBytes))
                        evaluated = task.Evaluate();
                metric = evaluated?[0] ?? metric;
                double? loss = null;
                if (evaluated is not null || Step % schedule.LogEvery == 0 || last)
                {
                    loss = drift.Loss.item<float>();
                    var rms = drift.ScaleRms.cpu().flatten().data<float>().Select(v => (double)v).ToArray();
                    var row = new LoggedStep(Step, Wall(), loss.Value, drift.VelocityRms.item<float>(), rms, evaluated, task.TakeDiagnostics());
                    metrics.Append(row);
                    TensorBoard.AddRow(board, row, run.ScaleNames, run.Metrics, run.Diagnostics ?? []);
                }
                onStep(new StepReport(Step, schedule.Steps, loss, evaluated?[0]));
            }
            // TorchSharp's Adam(W).step leaves some temporaries to the finalizer, outside any dispose scope;
            // the GC does not see their native memory, so without this a run grows by megabytes a step.
            if (Step % 10 == 0)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
            task.AfterStep(Step, board);
            lastStepSeconds = stepClock.Elapsed.TotalSeconds;
            var snapshot = schedule.SnapshotEvery > 0 && Step % schedule.SnapshotEvery == 0;
            if (Step % schedule.CheckpointEvery == 0 || Step == schedule.Steps || snapshot)
                Save(snapshot);
        }
        if (interrupted)
            Save();
        var session = timer.Elapsed.TotalSeconds;
        return new LoopResult(Step, interrupted, Wall(), session, Step - startStep, metric, metrics.Rows);
    }

    /// <summary>Moves each EMA weight a step towards the trained one. Early on the decay is lowered to
    /// (1 + step)/(10 + step), so the average is not dominated by the random initial weights.</summary>
    private static void UpdateEma(nn.Module ema, nn.Module model, double decay, long step)
    {
        using var noGrad = torch.no_grad();
        var d = Math.Min(decay, (1.0 + step) / (10.0 + step));
        foreach (var (e, p) in ema.parameters().Zip(model.parameters()))
            e.mul_(d).add_(p.detach(), alpha: 1 - d);
    }
}
