using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Train.Bench;

/// <summary>What this device does at best with this libtorch, timed in the same run as the benches it anchors: a
/// large square matmul and a large 3×3 convolution, float32, in GFLOP/s. A field's effective GFLOP/s next to the
/// matmul's says how far its GEMMs are from the machine's limit.</summary>
public static class PeakRate
{
    /// <summary>2·n³ flops of an n×n by n×n product.</summary>
    public static double MatmulGflops(Device dev, int repeats, int n = 2048)
    {
        using var g = new Generator(3);
        using var a = torch.randn([n, n], generator: g).to(dev);
        using var b = torch.randn([n, n], generator: g).to(dev);
        var ms = Timing.MedianMs(() => a.mm(b), dev, repeats);
        return 2.0 * n * n * n / ms / 1e6;
    }

    /// <summary>2·B·C_out·H·W·C_in·9 flops of a 3×3 "same" convolution over a batch of 64 images of 64 channels, 28×28
    /// (the generator's largest stage at the documented width is 32–64 channels at 28×28).</summary>
    public static double ConvolutionGflops(Device dev, int repeats, int batch = 64, int channels = 64, int size = 28)
    {
        using var g = new Generator(4);
        using var x = torch.randn([batch, channels, size, size], generator: g).to(dev);
        using var w = torch.randn([channels, channels, 3, 3], generator: g).to(dev);
        var ms = Timing.MedianMs(() => nn.functional.conv2d(x, w, padding: [1, 1]), dev, repeats);
        return 2.0 * batch * channels * size * size * channels * 9 / ms / 1e6;
    }
}
