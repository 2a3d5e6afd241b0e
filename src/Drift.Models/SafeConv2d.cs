using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Drift.Models;

/// <summary>
/// A k×k convolution, stride 1, "same" padding, that is right on every x86-64 CPU.
/// <para>
/// Why: the oneDNN 3.7.1 inside libtorch 2.10 (TorchSharp-cpu 0.107) computes float32 CPU convolutions
/// wrongly, differently on each call and often NaN, when a channel count does not fill its channel block
/// (16 floats with AVX-512, 8 with AVX2): the input gradient when the output channels do not (64→1, 16→8),
/// the output itself when the input channels do (24→24, 24→32). Counts that fill the block are right, in
/// both directions. So on the CPU the input, weight and bias are padded with zero channels to multiples of
/// 16 (a multiple of 8 too), the convolution runs at that size, and the extra output channels are cut off
/// again. The padding adds zeros to every sum and its gradient never reaches a parameter, so training sees
/// exactly the unpadded convolution, at no measurable cost (oneDNN pads to its block internally anyway).
/// Turning oneDNN off instead is also right, but made the generator's forward and backward pass 5–7×
/// slower (measured; see README, Hardware notes). CUDA is not affected and runs unpadded.
/// </para>
/// Parameters are named <c>weight</c> and <c>bias</c> and initialised by <see cref="nn.Conv2d"/> itself, so
/// checkpoints written with <c>nn.Conv2d</c> load and a fixed seed draws the same weights.
/// <para>
/// With <c>upsample</c>, the convolution is of its input upsampled ×2 by nearest neighbour (the generator's
/// blocks), computed on the input's own grid: output pixel (2i+a, 2j+b) sees input rows i−1+a and i+a with the
/// kernel's rows combined as (w₀, w₁+w₂) for a = 0 and (w₀+w₁, w₂) for a = 1, and likewise for columns, so four
/// 2×2 kernels, one per phase (a, b), give the same sums with 16 multiplies per channel pair and input pixel
/// where the upsampled 3×3 form spends 36, and the upsampled input is never stored. The same function, rounded
/// differently: the combined weights are summed before they multiply.
/// </para>
/// </summary>
public sealed class SafeConv2d : Module<Tensor, Tensor>
{
    /// <summary>oneDNN's widest float32 channel block (AVX-512); AVX2's 8 divides it.</summary>
    public const int ChannelBlock = 16;

    private readonly TorchSharp.Modules.Parameter weight;
    private readonly TorchSharp.Modules.Parameter bias;
    private readonly long padding;

    /// <summary>Each upsampling phase's 2 taps as sums of the 3×3 kernel's 3 rows (or columns): [phase, tap, row].</summary>
    private static readonly double[] PhaseTaps = [1, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 1];

    public SafeConv2d(long inChannels, long outChannels, long kernelSize = 3, bool upsample = false) : base(nameof(SafeConv2d))
    {
        if (kernelSize % 2 == 0) throw new ArgumentException($"'same' padding needs an odd kernel size, got {kernelSize}");
        if (upsample && kernelSize != 3) throw new ArgumentException($"an upsampling convolution is 3×3, got {kernelSize}");
        using (var conv = Conv2d(inChannels, outChannels, kernelSize))
        {
            weight = Parameter(conv.weight!.detach().clone());
            bias = Parameter(conv.bias!.detach().clone());
        }
        padding = kernelSize / 2;
        InChannels = inChannels;
        OutChannels = outChannels;
        Upsample = upsample;
        RegisterComponents();
    }

    public long InChannels { get; }
    public long OutChannels { get; }
    /// <summary>Whether the input is upsampled ×2 (nearest) before the convolution; the output then has twice its size.</summary>
    public bool Upsample { get; }

    /// <summary>Multiplies and adds of the convolution as computed, over <paramref name="images"/> input images of
    /// size² pixels: 2 per weight and output pixel, the upsampling form's four 2×2 kernels on its (size+1)² grid
    /// (the padding's zero channels and the bias not counted).</summary>
    public double ForwardFlops(long images, long size) => Upsample
        ? 2.0 * images * (size + 1) * (size + 1) * 16 * InChannels * OutChannels
        : 2.0 * images * size * size * weight.numel();

    public override Tensor forward(Tensor x)
    {
        if (!Upsample) return Convolve(x, weight, bias, padding);
        var (n, h, w) = (x.shape[0], x.shape[2], x.shape[3]);
        using var taps = torch.tensor(PhaseTaps, [2, 2, 3], dtype: weight.dtype, device: weight.device);
        var kernels = torch.einsum("aty,ocyx,bsx->abocts", taps, weight, taps).reshape(4 * OutChannels, InChannels, 2, 2);
        // Padded by one on every side, a 2×2 kernel's output (r, c) covers input rows r−1, r and columns c−1, c:
        // phase (a, b) of output pixel (i, j) is at (i + a, j + b).
        var z = Convolve(x, kernels, bias.repeat(4), 1).view(n, 2, 2, OutChannels, h + 1, w + 1);
        Tensor Phase(int a, int b) => z.select(1, a).select(1, b).narrow(2, a, h).narrow(3, b, w);
        return torch.stack([torch.stack([Phase(0, 0), Phase(0, 1)], -1), torch.stack([Phase(1, 0), Phase(1, 1)], -1)], 3)
            .reshape(n, OutChannels, 2 * h, 2 * w);
    }

    private static Tensor Convolve(Tensor x, Tensor weight, Tensor bias, long padding)
    {
        var (outChannels, inChannels) = (weight.shape[0], weight.shape[1]);
        var (inSpare, outSpare) = (Spare(inChannels), Spare(outChannels));
        if (x.device_type != DeviceType.CPU || (inSpare, outSpare) == (0, 0))
            return functional.conv2d(x, weight, bias, padding: [padding, padding]);
        // pad takes (before, after) pairs from the last dimension backwards: here channels, then filters.
        var w = functional.pad(weight, [0, 0, 0, 0, 0, inSpare, 0, outSpare]);
        var b = functional.pad(bias, [0, outSpare]);
        var y = functional.conv2d(functional.pad(x, [0, 0, 0, 0, 0, inSpare]), w, b, padding: [padding, padding]);
        return outSpare == 0 ? y : y.narrow(1, 0, outChannels);
    }

    private static long Spare(long channels) => (ChannelBlock - channels % ChannelBlock) % ChannelBlock;
}
