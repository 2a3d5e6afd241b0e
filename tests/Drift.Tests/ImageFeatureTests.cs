using Drift.Loss;
using TorchSharp;
using static Drift.Tests.Tensors;
using static TorchSharp.torch;

namespace Drift.Tests;

[Trait("Category", "Numerics")]
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

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void FeatureLossIsTheScaledDriftLossPerDimensionAveragedOverGroups(bool guided)
    {
        // Reference, group by group with the 2-D field: scale s = mean pair distance / √D (explicit loop),
        // field on x/s and y/s (and the unconditional u/s at weight γ) with scales × √D; loss = η² mean‖V‖² / D
        // averaged over groups; gradient wrt the image = −2ηV/(B·D·s·G).
        var (g, seed) = Fresh();
        const double eta = 0.7;
        const int groups = 3, b = 6, p = 5, u = 4;
        double[] temps = [0.1, 0.3];
        double[] gammas = [0.2, 0.5, 0.7];
        var generated = torch.randn([groups * b, 1, 4, 4], dtype: float64, generator: g).requires_grad_(true);
        var data = torch.randn([groups * p, 1, 4, 4], dtype: float64, generator: g) + 0.5;
        var unconditional = torch.randn([groups * u, 1, 4, 4], dtype: float64, generator: g) - 0.3;
        var result = FeatureDriftLoss.Compute(new LaplaceField(temps), [FeatureSpace.Of(ImageFeatures.Map("pixels"))], groups, generated, new DataImages(data), eta,
            guided ? new DataImages(unconditional) : null, guided ? gammas : null);
        result.Loss.backward();

        var expectedLoss = 0.0;
        for (var k = 0; k < groups; k++)
        {
            var xf = ToArray(generated.detach().narrow(0, k * b, b).reshape(b, 16));
            var yf = ToArray(data.narrow(0, k * p, p).reshape(p, 16));
            var s = Reference.MeanDistance(xf, yf) / 4;
            var guidance = guided ? new GuidanceNegatives(unconditional.narrow(0, k * u, u).reshape(u, 16) / s, gammas[k]) : null;
            var v = new LaplaceField(temps.Select(t => t * 4)).Compute(FromArray(xf) / s, FromArray(yf) / s, null, guidance).Velocity;
            expectedLoss += eta * eta * v.pow(2).sum().item<double>() / b / 16 / groups;
            var expectedGrad = (-2 * eta * v / (b * 16 * s * groups)).reshape(b, 1, 4, 4);
            var grad = generated.grad!.narrow(0, k * b, b);
            Assert.True(MaxAbs(grad - expectedGrad) < 1e-10, $"seed {seed}: group {k} gradient off by {MaxAbs(grad - expectedGrad)}");
        }
        Assert.True(Math.Abs(result.Loss.item<double>() - expectedLoss) < 1e-10 * expectedLoss, $"seed {seed}: loss {result.Loss.item<double>()} vs {expectedLoss}");
        Assert.Equal(new long[] { 1, 2 }, result.ScaleRms.shape);
    }

    /// <summary>A space named twice in --features is a weight: computed twice, its loss and gradient count twice
    /// (README; docs/quality.md, "The pixel space counted twice").</summary>
    [Fact]
    public void ASpaceNamedTwiceCountsTwice()
    {
        var (g, seed) = Fresh();
        const int groups = 2, b = 5, p = 7;
        var data = new DataImages(torch.randn([groups * p, 1, 4, 4], dtype: float64, generator: g));
        var x = torch.randn([groups * b, 1, 4, 4], dtype: float64, generator: g);
        (double Loss, Tensor Grad) LossAndGradient(params string[] names)
        {
            var generated = x.clone().requires_grad_(true);
            var loss = FeatureDriftLoss.Compute(new LaplaceField([0.05, 0.2]), names.Select(n => FeatureSpace.Of(ImageFeatures.Map(n))).ToList(), groups,
                generated, data, 0.9).Loss;
            loss.backward();
            return (loss.item<double>(), generated.grad!);
        }
        var (once, onceGrad) = LossAndGradient("pixels", "mean2");
        var (pixels, pixelsGrad) = LossAndGradient("pixels");
        var (twice, twiceGrad) = LossAndGradient("pixels", "pixels", "mean2");
        Assert.True(Math.Abs(twice - (once + pixels)) < 1e-12 * twice, $"seed {seed}: loss {twice} vs {once} + {pixels}");
        Assert.True(MaxAbs(twiceGrad - (onceGrad + pixelsGrad)) < 1e-12 * MaxAbs(twiceGrad), $"seed {seed}: gradients differ");
    }
}
