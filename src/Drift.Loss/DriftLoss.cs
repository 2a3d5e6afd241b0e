using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Loss;

/// <param name="Loss">Scalar mean over the batch of ‖x − stopgrad(x + ηV)‖², which equals η²·mean‖V‖².</param>
/// <param name="ScaleRms">[S] raw field RMS per scale (see <see cref="FieldOutput"/>); [F, S] from <see cref="FeatureDriftLoss"/>.</param>
/// <param name="VelocityRms">RMS of the combined V that the generator is pushed along.</param>
public sealed record DriftLossResult(Tensor Loss, Tensor ScaleRms, Tensor VelocityRms);

/// <summary>
/// The drift loss: regress x onto its own drifted copy x + ηV, held fixed. Its gradient with respect to x
/// is −2ηV/B, so a gradient step moves each sample along the field.
/// </summary>
public static class DriftLoss
{
    /// <param name="shard">Where x sits in the step's batch when processes share it: the field is computed over the
    /// gathered batch and x regresses onto its own rows. Null: x is the whole batch.</param>
    public static DriftLossResult Compute(IDriftField field, Tensor x, Tensor positives, double eta, Tensor? negatives = null,
        GuidanceNegatives? guidance = null, IBatchShard? shard = null)
    {
        shard ??= WholeBatch.Instance;
        return Compute(field, x, shard.Gather(x), positives, eta, negatives, guidance, shard);
    }

    /// <param name="x">This process's samples, with gradient.</param>
    /// <param name="batch">The step's whole batch as <paramref name="shard"/> gathered it (x itself in one process).</param>
    internal static DriftLossResult Compute(IDriftField field, Tensor x, Tensor batch, Tensor positives, double eta, Tensor? negatives,
        GuidanceNegatives? guidance, IBatchShard shard)
    {
        if (!(eta > 0) || double.IsInfinity(eta)) throw new ArgumentException($"eta must be positive and finite, got {eta}");
        FieldOutput f;
        Tensor mine, velocityRms;
        if (shard.Count > 1 && field is IRowwiseField rowwise && negatives is null && guidance is null)
        {
            // Only this process's rows, against the gathered batch: the field's cost splits across the processes.
            f = rowwise.ComputeRows(x, positives, batch, shard);
            mine = f.Velocity;
            using (torch.no_grad())
                velocityRms = shard.SumOver(mine.pow(2).sum()).div(mine.numel() * (double)shard.Count).sqrt();
        }
        else
        {
            f = field.Compute(batch, positives, negatives, guidance);
            mine = shard.Mine(f.Velocity);
            velocityRms = FieldMath.Rms(f.Velocity);
        }
        Tensor target;
        using (torch.no_grad())
            target = x.detach() + eta * mine;
        // The mean over this process's rows: averaging the K processes' gradients gives the whole batch's.
        var loss = (x - target).pow(2).sum(-1).mean();
        return new DriftLossResult(loss, f.ScaleRms, velocityRms);
    }
}
