using Drift.Models;
using TorchSharp;

namespace Drift.Tests;

[Trait("Category", "Numerics")]
public class MlpGeneratorTests
{
    [Theory]
    [InlineData(8, 64, 3, 2)]
    [InlineData(1, 5, 1, 7)]
    public void MapsNoiseToSamplesWithTheExpectedParameterCount(int noise, int width, int depth, int outDim)
    {
        using var g = new MlpGenerator(noise, width, depth, outDim);
        var y = g.forward(torch.randn(13, noise));
        Assert.Equal([13L, outDim], y.shape);
        long expected = (noise + 1) * width + (depth - 1) * (width + 1) * width + (width + 1) * outDim;
        Assert.Equal(expected, g.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void RejectsEmptySizes() => Assert.Throws<ArgumentException>(() => new MlpGenerator(8, 0, 2, 2));
}
