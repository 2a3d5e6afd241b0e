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
    public void GridBlocksAreResidualAndLeaveTheSeededWeightsAsTheyWere()
    {
        var (g, seed) = Fresh();
        torch.manual_seed(seed);
        using var plain = new ConvGenerator(16, 28, 1, 10, 8);
        torch.manual_seed(seed);
        using var deep = new ConvGenerator(16, 28, 1, 10, 8, gridBlocks: 2);
        var noise = torch.randn([6, 16], generator: g);
        var labels = torch.tensor(new long[] { 0, 3, 9, 10, 4, 4 });
        var deepParameters = deep.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var plainParameters = plain.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        // Blocks on the grid are drawn after the rest, so a seed gives the other weights unchanged.
        foreach (var (name, p) in plainParameters)
            Assert.True(p.eq(deepParameters[name]).all().item<bool>(), $"seed {seed}: {name} differs");
        Assert.Contains(deepParameters.Keys, n => n.StartsWith("gridBlocks.1.conv2", StringComparison.Ordinal));
        var before = deep.forward(noise, labels, torch.ones(6));
        Assert.False(torch.allclose(before, plain.forward(noise, labels, torch.ones(6))), $"seed {seed}: the grid blocks change nothing");
        // With each block's last norm at zero its branch is SiLU(0) = 0: the block must then pass its input on.
        using (torch.no_grad())
            foreach (var (name, p) in deepParameters.Where(p => p.Key.Contains(".norm2.", StringComparison.Ordinal) && p.Key.StartsWith("gridBlocks", StringComparison.Ordinal)))
                p.zero_();
        var passed = deep.forward(noise, labels, torch.ones(6));
        Assert.True(torch.allclose(passed, plain.forward(noise, labels, torch.ones(6)), 1e-6, 1e-6), $"seed {seed}: a zero branch is not the identity");
    }

    [Fact]
    public void RejectsSizesItCannotReach() =>
        Assert.Throws<ArgumentException>(() => new ConvGenerator(16, 30, 1, 0, 8));
}
