using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Loss;

/// <summary>Pieces both fields share.</summary>
internal static class FieldMath
{
    /// <summary>‖x_i − y_j‖² [B,N], clamped at zero against cancellation.</summary>
    public static Tensor SquaredDistances(Tensor x, Tensor y)
    {
        var xx = x.pow(2).sum(1, keepdim: true);
        var yy = y.pow(2).sum(1).unsqueeze(0);
        return torch.addmm(xx + yy, x, y.t(), beta: 1, alpha: -2).clamp_min_(0);
    }

    /// <summary>Sets the pairs of each generated point with itself, when the negatives are the generated
    /// batch placed first: entries (i, i + rowOffset), rowOffset being the global index of row 0 minus
    /// that of column 0 in a chunk.</summary>
    public static Tensor SetSelfPairs(Tensor pairwise, double value, long rowOffset = 0)
    {
        pairwise.diagonal(rowOffset).fill_(value);
        return pairwise;
    }

    /// <summary>sqrt(mean(v²)) over all entries.</summary>
    public static Tensor Rms(Tensor v) => v.pow(2).mean().sqrt();

    /// <summary>Sums the scales' fields, each first scaled to unit RMS if asked, and keeps each one's raw RMS.</summary>
    public static FieldOutput Combine(IReadOnlyList<Tensor> perScale, bool normalize)
    {
        var rms = perScale.Select(Rms).ToArray();
        var velocity = torch.zeros_like(perScale[0]);
        for (var s = 0; s < perScale.Count; s++)
            velocity.add_(normalize ? perScale[s] / (rms[s] + 1e-12) : perScale[s]);
        return new FieldOutput(velocity, torch.stack(rms));
    }

    /// <summary>Checks the shapes and returns x, positives and negatives (x itself when null) cut off from
    /// any autograd graph: a field is a fixed target, never differentiated through.</summary>
    public static (Tensor X, Tensor Positives, Tensor Negatives) Detached(Tensor x, Tensor positives, Tensor? negatives,
        GuidanceNegatives? guidance = null)
    {
        CheckShapes(x, positives, negatives);
        if (guidance is not null && (guidance.Samples.dim() != 2 || guidance.Samples.shape[1] != x.shape[1] || guidance.Samples.shape[0] < 1))
            throw new ArgumentException("guidance negatives must be a non-empty [U, d] tensor of the samples' dimension");
        var detached = x.detach();
        return (detached, positives.detach(), negatives?.detach() ?? detached);
    }

    /// <summary>The negatives with the guidance samples appended, and their log-weights [1, q + U]
    /// (null without guidance: every negative weighs the same).</summary>
    /// <param name="modelCount">How many of the negatives count (one fewer than the batch when each
    /// sample's pair with itself is left out).</param>
    public static (Tensor All, Tensor? LogWeights) WithGuidance(Tensor neg, GuidanceNegatives? guidance, long modelCount) =>
        guidance is null or { Gamma: 0 } ? (neg, null)
            : (torch.cat([neg, guidance.Samples.detach()], 0), guidance.LogWeights(neg.shape[0], modelCount, neg.dtype, neg.device));

    private static void CheckShapes(Tensor x, Tensor positives, Tensor? negatives)
    {
        if (negatives is null && x.shape[0] < 2)
            throw new ArgumentException("a field whose negatives are the generated batch needs at least 2 generated samples");
        if (x.dim() != 2 || positives.dim() != 2 || (negatives is not null && negatives.dim() != 2))
            throw new ArgumentException("fields take 2-D tensors [n, d]");
        if (positives.shape[1] != x.shape[1] || (negatives is not null && negatives.shape[1] != x.shape[1]))
            throw new ArgumentException($"dimension mismatch: x has d={x.shape[1]}, positives d={positives.shape[1]}"
                + (negatives is null ? "" : $", negatives d={negatives.shape[1]}"));
    }

    public static double[] CheckScales(IEnumerable<double> scales, string what)
    {
        var s = scales.ToArray();
        if (s.Length == 0) throw new ArgumentException($"at least one {what} is needed");
        foreach (var v in s)
            if (!(v > 0) || double.IsInfinity(v)) throw new ArgumentException($"{what} must be positive and finite, got {v}");
        return s;
    }
}
