using System.CommandLine;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Drift.Train.RunFolders;
using Drift.Train.Training.Points;

namespace Drift.Train.Cli;

/// <summary><c>drift train</c>: a points run, options as in <see cref="ConfigOptions.Points"/>.</summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var command = new Command("train", "Train a one-step generator with a drifting field.");
        var binder = ConfigOptions.Points(command);
        var options = RunFolder.AddOptions(command);

        command.SetAction(parse => Cli.RunParallel(parallel =>
        {
            var cancel = StopSignal.Graceful();
            if (!parallel.IsWriter)
            {
                var (followed, resume) = RunFolder.Follow<TrainConfig>(parallel.FromWriter, parallel.Size);
                return PointsTrainer.Run(followed, "", resume, NullLogger.Instance, _ => { }, cancel, parallel).Interrupted ? 130 : 0;
            }
            var (config, dir, checkpoint, runLock) = RunFolder.Prepare<TrainConfig>(parse, options, c => binder.Read(parse, binder.Apply(parse, c)), c => c.Resolved(), parallel.Size);
            using var held = runLock;
            RunFolder.HandOver(config, checkpoint, parallel.FromWriter);
            using var loggers = Cli.Loggers((dir, FolderKind.Run));
            var log = loggers.CreateLogger("drift");
            var result = Cli.WithProgress(config.Steps, checkpoint?.Step ?? 0, loggers, onStep => PointsTrainer.Run(config, dir, checkpoint, log, onStep, cancel, parallel));
            if (result.Interrupted) return Cli.Interrupted(log, result.Step, "train", dir);

            log.LogInformation("{Steps} steps in {Seconds:F1} s; energy distance to held-out {Energy:g3} (data vs held-out: {Floor:g3})",
                result.Step, result.WallSeconds, result.Energy, result.Floor);
            log.LogInformation("wrote {Dir}: {Checkpoint}, {Config}, {Metrics}, {Samples}, {Curves}, {Log}{Snapshots}", dir, RunFiles.Checkpoint,
                RunFiles.Config, RunFiles.Metrics, RunFiles.SamplesPlot, RunFiles.CurvesPlot, RunFiles.Log, config.SnapshotEvery > 0 ? $", {RunFiles.SnapshotFolder}/" : "");
            return 0;
        }));
        return command;
    }
}
