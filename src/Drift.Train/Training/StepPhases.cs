using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Train.Training;

/// <summary>
/// Wall time of a training step's phases, for <c>drift bench</c>'s profile. Each <see cref="Lap"/> charges the time
/// since the previous lap (or <see cref="Start"/>) to its phase, after a device sync on CUDA, so that a phase is
/// charged with its own kernels rather than the next phase that waits for them.
/// </summary>
public sealed class StepPhases(Device device)
{
    /// <summary>The phases <see cref="TrainingLoop.TakeStep"/> marks; tasks mark <see cref="Generate"/> (and image
    /// tasks <see cref="Features"/>, the feature spaces' maps of the generated images) inside their loss.</summary>
    public const string Generate = "draw noise, generate", Features = "features of the generated", Loss = "positives, field, loss",
        Backward = "backward", Optimizer = "guard, clip, optimizer", Ema = "EMA";

    private readonly Stopwatch clock = new();
    private readonly List<(string Phase, List<double> Ms)> phases = [];

    public void Start()
    {
        Sync();
        clock.Restart();
    }

    public void Lap(string phase)
    {
        Sync();
        var entry = phases.FirstOrDefault(p => p.Phase == phase);
        if (entry.Ms is null) phases.Add(entry = (phase, []));
        entry.Ms.Add(clock.Elapsed.TotalMilliseconds);
        clock.Restart();
    }

    /// <summary>Each phase's median over the steps timed, in the order the phases first came.</summary>
    public IReadOnlyList<(string Phase, double Ms)> Medians() =>
        phases.Select(p => (p.Phase, p.Ms.Order().ElementAt(p.Ms.Count / 2))).ToList();

    private void Sync()
    {
        if (device.type == DeviceType.CUDA) torch.cuda.synchronize(device);
    }
}
