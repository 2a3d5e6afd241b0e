using System.CommandLine;

namespace Drift.Train.Cli;

/// <summary><c>--step</c> of the commands that read a saved generator (sample, eval, export): one of the run's snapshots
/// (<c>--snapshot-every</c>) instead of its last checkpoint.</summary>
public static class SnapshotOption
{
    public static Option<long?> Create() => new("--step")
    {
        Description = "Use the run's snapshot of this step (snapshots/step-N.bin, kept with --snapshot-every) instead of its last checkpoint.",
    };
}
