using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Train.Training;

/// <summary>
/// Stops a run at the first step whose loss, field or gradient is not finite, before the optimizer writes
/// NaN into the weights: past that point every later step and checkpoint would only carry the NaN on, and
/// the last good checkpoint would be overwritten. A finite loss can come with a NaN gradient (a faulty
/// convolution backward did exactly that), so the gradient is checked too. One host sync per step.
/// It also stops a run that can no longer move: a loss of exactly 0 beside a field that is not zero means every
/// x + ηV rounded back to x in float32. That happens when the samples have run off to |x| > 2^24 η|V| (seen
/// from --lr 5 on the 2-D default: the energy distance went to 1e12 while the log showed "loss 0", which reads as a
/// perfect fit) or when --eta is too small to register; either way no later step can change anything. A field small
/// enough to round away at the data's scale is not reached in training, the minibatches' own noise keeps it larger.
/// </summary>
public static class DivergenceGuard
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
        var saved = lastCheckpoint is { } s ? $"the checkpoint of step {s} is kept" : "no checkpoint was written";
        if (!v.All(float.IsFinite))
            throw new UserError($"training diverged at step {step + 1}: loss {v[0]:g4}, field RMS {v[1]:g4}, gradient norm {v[2]:g4} "
                + $"(likely causes: a learning rate or --eta too large, extreme values in the data, or faulty CPU kernels, see README 'Hardware notes'); {saved}");
        if (v[0] == 0 && v[1] > 0)
            throw new UserError($"training stalled at step {step + 1}: the loss is 0 while the field's RMS is {v[1]:g4}, so every sample's drift ηV was lost "
                + $"to float32 rounding and no step can move the generator (either --eta is too small to register at the samples' scale, or the samples "
                + $"have grown far past the data, likely from a learning rate or --eta too large); {saved}");
    }
}
