using Drift.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Train.Training.Points;

/// <summary>One field's velocity at each sample, in data units, and its RMS in the standardised units the run trains in
/// (metrics.csv's velocity_rms).</summary>
public sealed record FieldArrows(string Field, string Scales, float[,] Velocity, double Rms);

/// <summary>What each field asks of the same samples in a training step of a points run: the velocity V at every
/// generated sample against a draw of data (the positives), the samples themselves as negatives (the batch's self terms
/// as the field treats them), at the scales a run of that field has reached at <c>progress</c> of its steps. The fields
/// act in the run's standardised coordinates; a velocity, like a displacement, goes back to data units by each column's
/// standard deviation.</summary>
/// <param name="Samples">[n, d] in data units, and <paramref name="Positives"/> likewise.</param>
public sealed record FieldView(float[,] Samples, float[,] Positives, IReadOnlyList<FieldArrows> Fields)
{
    /// <param name="samples">[n, d] generated samples in standardised coordinates; <paramref name="positives"/> likewise.</param>
    /// <param name="progress">Where in their runs the fields are: 0 at the first step, 1 at the last (annealed scales).</param>
    public static FieldView Compute(IReadOnlyList<TrainConfig> configs, Tensor samples, Tensor positives, Standardizer scale, double progress)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var std = torch.tensor(scale.Std, dtype: samples.dtype);
        var fields = configs.Select(c =>
        {
            // Each field's n×n matrices go before the next field's are made.
            using var fieldScope = torch.NewDisposeScope();
            var multiplier = c.ScaleAt(progress);
            var v = c.BuildField().Scaled(multiplier).Compute(samples, positives).Velocity;
            return new FieldArrows(c.FieldDescription, string.Join(",", c.FieldScales.Select(s => $"{s * multiplier:g3}")),
                PointData.ToArray(v * std), v.pow(2).mean().sqrt().item<float>());
        }).ToArray();
        return new FieldView(PointData.ToArray(scale.Denormalize(samples)), PointData.ToArray(scale.Denormalize(positives)), fields);
    }
}
