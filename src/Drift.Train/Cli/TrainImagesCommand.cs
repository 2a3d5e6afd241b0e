using System.CommandLine;
using Drift.Train.Output;
using Drift.Train.Training.Images;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Drift.Train.RunFolders;

namespace Drift.Train.Cli;

/// <summary><c>drift train-images</c>: an image run, options as in <see cref="ConfigOptions.Images"/>.</summary>
public static class TrainImagesCommand
{
    public static Command Create()
    {
        var command = new Command("train-images", "Train a one-step image generator with a drifting field (Fashion-MNIST by default).");
        var binder = ConfigOptions.Images(command);
        var options = RunFolder.AddOptions(command);

        command.SetAction(parse => Cli.RunParallel(parallel =>
        {
            var cancel = StopSignal.Graceful();
            if (!parallel.IsWriter)
            {
                var (followed, resume) = RunFolder.Follow<ImageConfig>(parallel.FromWriter, parallel.Size);
                return ImageTrainer.Run(followed, "", resume, NullLogger.Instance, _ => { }, cancel, parallel).Interrupted ? 130 : 0;
            }
            var (config, dir, checkpoint, runLock) = RunFolder.Prepare<ImageConfig>(parse, options, c => binder.Read(parse, binder.Apply(parse, c)), c => c.Resolved(), parallel.Size);
            using var held = runLock;
            RunFolder.HandOver(config, checkpoint, parallel.FromWriter);
            using var loggers = Cli.Loggers((dir, FolderKind.Run));
            var log = loggers.CreateLogger("drift");
            var result = Cli.WithProgress(config.Steps, checkpoint?.Step ?? 0, loggers, onStep => ImageTrainer.Run(config, dir, checkpoint, log, onStep, cancel, parallel), "fd");
            if (result.Interrupted) return Cli.Interrupted(log, result.Step, "train-images", dir);

            log.LogInformation("{Steps} steps in {Seconds:F1} s: {Rate:F0} generated images/s, {Step:F3} s/step; peak memory {Peak:F2} GB",
                result.Step, result.WallSeconds, result.ImagesPerSecond, result.SecondsPerStep, result.PeakMemoryBytes / 1e9);
            if (double.IsFinite(result.Fd))
                log.LogInformation("FD-{Data} {Fd:g4} (train vs test: {Floor:g4})", ImageEvaluation.DatasetName(config.Data), result.Fd, result.FdFloor);
            log.LogInformation("wrote {Dir}: {Checkpoint}, {Config}, {Metrics}, {Grid}, {Grids}/, {Board}/, {Log}{Snapshots}", dir, RunFiles.Checkpoint,
                RunFiles.Config, RunFiles.Metrics, RunFiles.Grid, RunFiles.GridFolder, RunFiles.TensorBoard, RunFiles.Log,
                config.SnapshotEvery > 0 ? $", {RunFiles.SnapshotFolder}/" : "");
            return 0;
        }));
        return command;
    }
}
