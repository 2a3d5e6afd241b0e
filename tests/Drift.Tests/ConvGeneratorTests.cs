using Drift.Models;
using TorchSharp;
using static Drift.Tests.Tensors;
using static TorchSharp.torch;

namespace Drift.Tests;

[Collection(SeededWeights.Name)]
[Trait("Category", "Numerics")]
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

    [Theory]
    [InlineData(3, 5, 5, 7)]
    [InlineData(16, 4, 1, 1)]
    [InlineData(2, 32, 4, 3)]
    public void TheUpsamplingConvolutionIsNearestUpsamplingThenTheConvolution(int inChannels, int outChannels, int height, int width)
    {
        // Float64 on both sides: the reference upsamples and convolves as the generator did before the transposed form.
        var (g, seed) = Fresh();
        torch.manual_seed(seed);
        using var conv = new SafeConv2d(inChannels, outChannels, upsample: true);
        conv.to(float64);
        var x = torch.randn([3, inChannels, height, width], dtype: float64, generator: g).requires_grad_();
        var y = conv.call(x);
        var upstream = torch.randn(y.shape, dtype: float64, generator: g);
        y.backward([upstream]);
        var (weight, bias) = (conv.get_parameter("weight")!, conv.get_parameter("bias")!);
        var xRef = x.detach().requires_grad_();
        var wRef = weight.detach().clone().requires_grad_();
        var bRef = bias.detach().clone().requires_grad_();
        var yRef = nn.functional.conv2d(nn.functional.interpolate(xRef, scale_factor: [2, 2], mode: InterpolationMode.Nearest), wRef, bRef, padding: [1, 1]);
        yRef.backward([upstream]);
        Assert.Equal(new long[] { 3, outChannels, 2 * height, 2 * width }, y.shape);
        foreach (var (name, actual, reference) in new[] { ("output", y, yRef), ("input gradient", x.grad!, xRef.grad!),
                     ("weight gradient", weight.grad!, wRef.grad!), ("bias gradient", bias.grad!, bRef.grad!) })
        {
            var error = MaxAbs(actual.detach() - reference.detach()) / MaxAbs(reference.detach());
            Assert.True(error < 1e-12, $"seed {seed}: {name} off by {error:E2} (relative)");
        }
    }

    [Fact]
    public void ForwardFlopsCountEveryLinearMapAndConvolutionAsComputed()
    {
        using var model = new ConvGenerator(64, 28, 1, 10, 32);
        const double images = 320;
        // Two per multiply-add: guidance 1→128, stem (64 + 128)→128·7²; block 1: the transposed 4×4 kernel
        // (128→64) on the 7² input pixels, 3×3 64→64 on 14², FiLM 128→2·64; block 2 likewise from 14 to 28;
        // the output convolution 32→1 on 28².
        var perImage = 2.0 * (128 + 192 * 128 * 49
            + 7 * 7 * 16 * 128 * 64 + 14 * 14 * 9 * 64 * 64 + 128 * 128
            + 14 * 14 * 16 * 64 * 32 + 28 * 28 * 9 * 32 * 32 + 128 * 64
            + 28 * 28 * 9 * 32);
        Assert.Equal(images * perImage, model.ForwardFlops((long)images), 6);
        using var mlp = new MlpGenerator(2, 256, 3, 2);
        Assert.Equal(2.0 * 1024 * (2 * 256 + 256 * 256 * 2 + 256 * 2), mlp.ForwardFlops(1024), 6);
    }

    [Fact]
    public void RejectsSizesItCannotReach() =>
        Assert.Throws<ArgumentException>(() => new ConvGenerator(16, 30, 1, 0, 8));
}
