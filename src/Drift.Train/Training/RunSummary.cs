using Drift.Train.Output;
using Drift.Train.RunFolders;
using Drift.Train.Training.Images;
using Drift.Train.Training.Points;

namespace Drift.Train.Training;

/// <summary>What a run folder says about its run, for <c>drift runs</c>: its kind, data and field, how far its checkpoint
/// got, whether a process is training it now, and the last value of its headline metric in metrics.csv. Read without
/// writing anything or taking the run's lock, so that listing never gets in a run's way.</summary>
/// <param name="Step">The checkpoint's step; null before the first checkpoint or where the folder cannot be read.</param>
/// <param name="WallSeconds">The training time the checkpoint counts, over every session of the run; null without one.</param>
/// <param name="State">finished, stopped, running (process N), or what keeps the folder from being read.</param>
/// <param name="Metric">"energy 0.00389 at step 2000" (points) or "fd ... at step ..." (images, with a classifier); null where none was logged.</param>
public sealed record RunSummary(string Dir, string Kind, string Data, string Field, long? Step, int? Steps, double? WallSeconds, string State, string? Metric)
{
    /// <summary>Every run folder at or below <paramref name="root"/>, in order of path; the folders below a run
    /// (its snapshots, grids, event files) and links to folders are not searched.</summary>
    public static IEnumerable<string> Find(string root)
    {
        if (OwnedFolder.KindOf(root) == FolderKind.Run) return [root];
        var options = new EnumerationOptions { IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint };
        return Directory.EnumerateDirectories(root, "*", options).Order(StringComparer.Ordinal).SelectMany(Find);
    }

    /// <summary>The run in <paramref name="dir"/>; one whose files cannot be read (a damaged checkpoint, an edited config)
    /// is listed with the reason, so that one bad folder does not hide the rest.</summary>
    public static RunSummary Read(string dir)
    {
        var holder = RunLock.Holder(dir);
        var running = holder is { } pid ? $"running (process {pid})" : null;
        try
        {
            var metric = MetricsLog.LastHeadline(Path.Combine(dir, RunFiles.Metrics)) is var (name, step, value) ? $"{name} {value:g4} at step {step}" : null;
            if (!Checkpoint.Exists(dir))
            {
                var started = Config(dir);
                return new(dir, started switch { TrainConfig => TrainConfig.Kind, ImageConfig => ImageConfig.Kind, _ => "-" }, started?.Data ?? "-",
                    started?.Field.Name ?? "-", null, started?.Steps, null, running ?? "no checkpoint yet", metric);
            }
            var checkpoint = Checkpoint.Load(dir);
            IRunConfig config = checkpoint.Holds<TrainConfig>() ? checkpoint.Config<TrainConfig>() : checkpoint.Config<ImageConfig>();
            var state = running ?? (checkpoint.Step >= config.Steps ? "finished" : "stopped");
            return new(dir, checkpoint.Kind, config.Data, config.Field.Name, checkpoint.Step, config.Steps, checkpoint.ElapsedSeconds, state, metric);
        }
        catch (UserError e)
        {
            return new(dir, "-", "-", "-", null, null, null, running ?? $"unreadable: {e.Message}", null);
        }
    }

    /// <summary>The config a run wrote before its first checkpoint, of whichever kind it is; null where it wrote none.</summary>
    private static IRunConfig? Config(string dir)
    {
        var path = Path.Combine(dir, RunFiles.Config);
        if (!File.Exists(path)) return null;
        try
        {
            return ConfigJson.Load<TrainConfig>(path);
        }
        catch (UserError)
        {
            return ConfigJson.Load<ImageConfig>(path);
        }
    }
}
