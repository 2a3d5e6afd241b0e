using Drift.Loss;
using TorchSharp;
using static Drift.Tests.Tensors;
using static TorchSharp.torch;

namespace Drift.Tests;

public class ImageFeatureTests
{
    [Theory]
    [InlineData("mean2", 2)]
    [InlineData("mean4", 4)]
    [InlineData("std2", 2)]
    [InlineData("std4", 4)]
    public void PatchStatisticsMatchAnExplicitLoop(string space, int k)
    {
        var (g, seed) = Fresh();
        const int b = 2, c = 3, s = 8;
        var images = torch.randn([b, c, s, s], dtype: float64, generator: g);
        var features = ImageFeatures.Apply(space, images);
        var p = s / k;
        Assert.Equal(new long[] { b, c * p * p }, features.shape);
        var x = images.data<double>().ToArray();
        var f = features.data<double>().ToArray();
        for (var n = 0; n < b; n++)
        for (var ch = 0; ch < c; ch++)
        for (var i = 0; i < p; i++)
        for (var j = 0; j < p; j++)
        {
            var patch = new List<double>();
            for (var u = 0; u < k; u++)
            for (var v = 0; v < k; v++)
                patch.Add(x[((n * c + ch) * s + i * k + u) * s + j * k + v]);
            var mean = patch.Average();
            var expected = space.StartsWith("mean") ? mean : Math.Sqrt(patch.Average(q => (q - mean) * (q - mean)) + 1e-4);
            var got = f[n * c * p * p + (ch * p + i) * p + j];
            Assert.True(Math.Abs(got - expected) < 1e-12, $"seed {seed}: {space} at ({n},{ch},{i},{j}): {got} vs {expected}");
        }
    }

    [Fact]
    public void UnknownOrNonTilingSpacesAreRejected()
    {
        Assert.Throws<ArgumentException>(() => ImageFeatures.Check("median2", 28));
        Assert.Throws<ArgumentException>(() => ImageFeatures.Check("mean3", 28));
        ImageFeatures.Check("mean4", 28);
    }

    [Fact]
    public void FeatureLossIsTheScaledDriftLossPerDimensionAveragedOverGroups()
    {
        // Reference: per group, scale s = mean pair distance / √D (explicit loop), field on x/s and y/s with
        // scales × √D, loss = η² mean‖V‖² / D; gradient wrt the image = −2ηV/(B·D·s) per group, over groups.
        var (g, seed) = Fresh();
        const double eta = 0.7;
        double[] temps = [0.1, 0.3];
        var groups = Enumerable.Range(0, 2).Select(_ => new DriftGroup(
            torch.randn([6, 1, 4, 4], dtype: float64, generator: g).requires_grad_(true),
            torch.randn([5, 1, 4, 4], dtype: float64, generator: g) + 0.5)).ToArray();
        var result = FeatureDriftLoss.Compute(m => new LaplaceField(temps.Select(t => t * m)), ["pixels"], groups, eta);
        result.Loss.backward();

        var expectedLoss = 0.0;
        foreach (var (x, y, _, _) in groups)
        {
            var xf = ToArray(x.detach().reshape(6, 16));
            var yf = ToArray(y.reshape(5, 16));
            var s = Reference.MeanDistance(xf, yf) / 4;
            var v = new LaplaceField(temps.Select(t => t * 4)).Compute(FromArray(xf) / s, FromArray(yf) / s).Velocity;
            expectedLoss += eta * eta * v.pow(2).sum().item<double>() / 6 / 16 / groups.Length;
            var expectedGrad = (-2 * eta * v / (6 * 16 * s * groups.Length)).reshape(6, 1, 4, 4);
            Assert.True(MaxAbs(x.grad! - expectedGrad) < 1e-10, $"seed {seed}: gradient off by {MaxAbs(x.grad! - expectedGrad)}");
        }
        Assert.True(Math.Abs(result.Loss.item<double>() - expectedLoss) < 1e-10 * expectedLoss, $"seed {seed}: loss {result.Loss.item<double>()} vs {expectedLoss}");
        Assert.Equal(new long[] { 1, 2 }, result.ScaleRms.shape);
    }
}
