using Drift.Models;
using TorchSharp;
using static Drift.Tests.Tensors;
using static TorchSharp.torch;

namespace Drift.Tests;

public class ConvGeneratorTests
{
    [Theory]
    [InlineData(28, 1, 10)]
    [InlineData(32, 3, 0)]
    [InlineData(64, 3, 5)]
    public void MakesFiniteImagesOfTheAskedShapeAndDependsOnTheLabel(int size, int channels, int classes)
    {
        var (g, seed) = Fresh();
        using var model = new ConvGenerator(16, size, channels, classes, 8);
        var noise = torch.randn([4, 16], generator: g);
        var labels = torch.tensor(new long[] { 0, 0, classes, classes });
        var x = model.forward(noise, labels, torch.ones(4));
        Assert.Equal(new long[] { 4, channels, size, size }, x.shape);
        Assert.True(torch.isfinite(x).all().item<bool>(), $"seed {seed}: non-finite output");
        if (classes > 0)
        {
            var other = model.forward(noise, torch.tensor(new long[] { 1, 1, 1, 1 }), torch.ones(4));
            Assert.False(torch.allclose(x[0], other[0]), $"seed {seed}: the label does not change the image");
        }
    }

    [Fact]
    public void RejectsSizesItCannotReach() =>
        Assert.Throws<ArgumentException>(() => new ConvGenerator(16, 30, 1, 0, 8));
}
