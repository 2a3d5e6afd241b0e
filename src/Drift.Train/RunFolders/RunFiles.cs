namespace Drift.Train.RunFolders;

/// <summary>The files of a run folder: the one place their names are spelled.</summary>
public static class RunFiles
{
    /// <summary>Everything needed to continue or sample the run (<see cref="Checkpoint"/>).</summary>
    public const string Checkpoint = "checkpoint.bin";
    public const string Config = "config.json";
    public const string Metrics = "metrics.csv";
    public const string TensorBoard = "tensorboard";
    /// <summary>Points: data against generated samples, and the curves of the run.</summary>
    public const string SamplesPlot = "samples.png";
    public const string CurvesPlot = "curves.png";
    /// <summary>Images: the newest sample grid, and every one in <see cref="GridFolder"/>.</summary>
    public const string Grid = "grid.png";
    public const string GridFolder = "grids";
    /// <summary>Copies of the checkpoint at chosen steps (--snapshot-every), one file each (<see cref="SnapshotAt"/>).</summary>
    public const string SnapshotFolder = "snapshots";
    /// <summary>Every line a training command logged in the run (or a comparison in its folder), each session's appended
    /// (<see cref="Cli.Cli.Loggers"/>).</summary>
    public const string Log = "log.txt";
    /// <summary>What <c>drift eval</c> writes unless told otherwise.</summary>
    public const string Eval = "eval.json";
    /// <summary>Held by the one process writing the folder (<see cref="RunLock"/>), and that process's pid and command.</summary>
    public const string Lock = ".lock";
    public const string LockOwner = ".lock.owner";

    /// <summary>What makes a folder a run, for folders from before the marker: any of these (a metrics.csv alone is not
    /// resumable, but not another command's to overwrite either).</summary>
    public static readonly IReadOnlyList<string> Defining = [Checkpoint, Config, Metrics];

    public static string GridAt(long step) => Path.Combine(GridFolder, $"step-{step:D6}.png");
    public static string SnapshotAt(long step) => Path.Combine(SnapshotFolder, $"step-{step:D6}.bin");
}
