using Drift.Loss;

namespace Drift.Train.RunFolders;

/// <summary>What every run config (<c>TrainConfig</c>, <c>ImageConfig</c>) offers the run
/// folder, the checkpoint and the commands, so that they handle both kinds of run with one code path.</summary>
public interface IRunConfig
{
    /// <summary>The kind of run a checkpoint records: points or images.</summary>
    static abstract string Kind { get; }

    /// <summary>The config.json keys a run fills in from its data as it starts, where left unset (absent or 0): what a
    /// saved config may hold beyond the one it was started with.</summary>
    static abstract string[] FromData { get; }

    string Data { get; }
    FieldKind Field { get; }
    string Device { get; }
    int Steps { get; }

    string ToJson();

    /// <summary>A floor on the memory a training step needs, checked against the machine before anything is allocated.</summary>
    double EstimatedBytes();

    /// <summary>Throws a <see cref="UserError"/> naming the first bad value.</summary>
    void Validate();

    /// <summary>Throws a <see cref="UserError"/> when the run cannot be shared by this many processes (each must
    /// generate an equal share of every step's batch).</summary>
    void ValidateProcesses(int processes);
}
