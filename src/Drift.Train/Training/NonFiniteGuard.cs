using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Train.Training;

/// <summary>
/// Stops a run at the first step whose loss, field or gradient is not finite, before the optimizer writes
/// NaN into the weights: past that point every later step and checkpoint would only carry the NaN on, and
/// the last good checkpoint would be overwritten. A finite loss can come with a NaN gradient (a faulty
/// convolution backward did exactly that), so the gradient is checked too. One host sync per step.
/// </summary>
public static class NonFiniteGuard
{
    /// <summary>The L2 norm of all parameter gradients, as a 0-d tensor on their device.</summary>
    public static Tensor GradientNorm(IEnumerable<TorchSharp.Modules.Parameter> parameters) =>
        torch.stack(parameters.Where(p => p.grad is not null).Select(p => p.grad!.square().sum()).ToArray()).sum().sqrt();

    /// <summary>For samples drawn from a saved generator: a diverged run can leave finite weights so large that
    /// the output overflows, and every metric downstream would fail somewhere deep (an eigendecomposition of NaN).</summary>
    public static void CheckSamples(Tensor samples, string checkpointPath)
    {
        if (!torch.isfinite(samples).all().item<bool>())
            throw new UserError($"the generator in {checkpointPath} produces non-finite samples: the run that wrote it diverged; use an earlier checkpoint or retrain");
    }

    /// <param name="lastCheckpoint">The step of the newest checkpoint on disk, or null when none was written yet.</param>
    public static void Check(long step, Tensor loss, Tensor velocityRms, Tensor gradientNorm, long? lastCheckpoint)
    {
        using var values = torch.stack([loss.detach().to(float32), velocityRms.detach().to(float32), gradientNorm.detach().to(float32)]).cpu();
        var v = values.data<float>().ToArray();
        if (v.All(float.IsFinite)) return;
        var saved = lastCheckpoint is { } s ? $"the checkpoint of step {s} is kept" : "no checkpoint was written";
        throw new UserError($"training diverged at step {step + 1}: loss {v[0]:g4}, field RMS {v[1]:g4}, gradient norm {v[2]:g4} "
            + $"(likely causes: a learning rate or --eta too large, extreme values in the data, or faulty CPU kernels, see README 'Hardware notes'); {saved}");
    }
}
