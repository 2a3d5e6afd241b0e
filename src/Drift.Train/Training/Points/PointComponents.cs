using Drift.Models;

namespace Drift.Train.Training.Points;

/// <summary>Builds the generator of a points config, as <c>ImageComponents</c> does for images.</summary>
public static class PointComponents
{
    public static MlpGenerator Generator(TrainConfig c, int dim) => new(c.NoiseDim, c.Width, c.Depth, dim);
}
