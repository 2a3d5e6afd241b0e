using Drift.Metrics;
using Drift.Data;
using TorchSharp;
using Drift.Train.RunFolders;
using static TorchSharp.torch;

namespace Drift.Train.Training.Points;

/// <summary>The low-dimensional evaluation shared by <c>drift eval</c> and <c>drift compare</c>.</summary>
public static class PointEvaluation
{
    /// <summary>n samples in data units from a checkpoint's generator, computed on <paramref name="device"/> (default the CPU),
    /// from noise of scale <paramref name="noiseScale"/> (<see cref="SamplingNoise"/>; 1: the distribution it trained on).</summary>
    public static float[,] Generate(Checkpoint checkpoint, int n, long seed, Device? device = null, double noiseScale = 1)
    {
        var config = checkpoint.Config<TrainConfig>();
        using var model = PointComponents.Generator(config, checkpoint.Scale.Mean.Length);
        checkpoint.LoadWeights(model);
        model.to(device ?? CPU);
        using var rng = new Generator((ulong)seed);
        using var noise = SamplingNoise.Draw(n, config.NoiseDim, rng, noiseScale);
        var samples = PointsTrainer.Generate(model, checkpoint.Scale, noise, device ?? CPU);
        using (var check = torch.tensor(samples))
            DivergenceGuard.CheckSamples(check, checkpoint.FilePath);
        return samples;
    }

    /// <summary>Energy distance, unbiased MMD² (Gaussian kernels at 0.2, 0.5 and 1 times the held-out median
    /// distance), sliced W2² over 200 directions, the 1-NN two-sample accuracy, for the toy mixtures mode coverage, and
    /// for data from a file whether the samples copy its training rows (<see cref="DataCopying"/>: each sample's distance
    /// to its nearest training row against the same for half the held-out rows; the other half, judged the same way, is
    /// the floor).</summary>
    public static IReadOnlyList<EvaluatedMetric> LowDimensional(float[,] generated, PointData data, long seed)
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.tensor(generated);
        var heldOut = data.HeldOut;
        var reference = data.Reference;
        using var rng = new Generator((ulong)seed);
        var distances = torch.cdist(heldOut, heldOut).flatten();
        var median = distances.median().item<float>();
        // With many repeated points the median is 0, and so would every bandwidth be: take distinct pairs' then.
        if (!(median > 0) && distances.masked_select(distances > 0) is var distinct && distinct.numel() > 0)
            median = distinct.median().item<float>();
        if (!(median > 0)) median = 1f;
        double[] sigmas = [0.2 * median, 0.5 * median, median];
        var rows = new List<EvaluatedMetric>
        {
            new("energy distance", EnergyDistance.Compute(x, heldOut), EnergyDistance.Compute(reference, heldOut)),
            new("MMD² (unbiased)", Mmd.Compute(x, heldOut, sigmas), Mmd.Compute(reference, heldOut, sigmas)),
            new("sliced W2²", SlicedWasserstein.Compute(x, heldOut, 200, rng), SlicedWasserstein.Compute(reference, heldOut, 200, rng)),
            new("1-NN two-sample accuracy", NearestNeighbourTest.Accuracy(x, heldOut), NearestNeighbourTest.Accuracy(reference, heldOut)),
        };
        if (ToyDatasets.Centers(data.Name) is { } centers)
        {
            var std = ToyDatasets.ComponentStd(data.Name);
            var g = ModeCoverage.Compute(x, centers, std);
            var f = ModeCoverage.Compute(reference, centers, std);
            rows.Add(new($"modes covered (of {g.Modes})", g.Covered, f.Covered));
            rows.Add(new("mode mass error (TV)", g.MassError, f.MassError));
            rows.Add(new("off-mode share", g.OffMode, f.OffMode));
        }
        if (data.Training is { } training)
        {
            var (copying, floor) = DataCopying.Compute(training, heldOut, x);
            rows.Add(new("copying z, distance (below -3: copies or blur)", copying.Z, floor.Z));
            rows.Add(new("copying z, 1st/2nd ratio (below -3: copies)", copying.RatioZ, floor.RatioZ));
            rows.Add(new("near copies (share)", copying.NearShare, floor.NearShare));
        }
        return rows;
    }
}
