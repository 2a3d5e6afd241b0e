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
/// blocks), computed as one transposed convolution of the input itself, stride 2, 4×4 kernel, padding 1: output row
/// 2i+a sees input rows i−1+a and i+a, with the 3×3 kernel's rows combined as (w₀, w₁+w₂) for a = 0 and (w₀+w₁, w₂)
/// for a = 1, which a 4×4 kernel with rows (w₂, w₁+w₂, w₀+w₁, w₀) holds for both phases at once (likewise for
/// columns). The same sums with 16 multiplies per channel pair and input pixel where the upsampled 3×3 form spends
/// 36, and the upsampled input is never stored. The same function, rounded differently: the combined weights are
/// summed before they multiply. (An earlier form ran four 2×2 kernels as one convolution and interleaved their
/// outputs; oneDNN's transposed convolution does the interleaving itself, and its backward pass was 1.5–2× faster.)
/// It is padded to whole channel blocks as the others are: oneDNN runs a transposed convolution on its convolution
/// kernels (its forward pass on a convolution's backward-data kernel), the ones that fail on partial blocks. The CPU
/// this was written on does not show the fault with or without padding, so that reason is oneDNN's design, not a
/// measurement; the float64 oracle tests check it wherever they run.
/// </para>
/// </summary>
public sealed class SafeConv2d : Module<Tensor, Tensor>
{
    /// <summary>oneDNN's widest float32 channel block (AVX-512); AVX2's 8 divides it.</summary>
    public const int ChannelBlock = 16;

    private readonly TorchSharp.Modules.Parameter weight;
    private readonly TorchSharp.Modules.Parameter bias;
    private readonly long padding;

    /// <summary>The upsampling form's 4 taps per axis as sums of the 3×3 kernel's 3 rows (or columns): [tap, row].</summary>
    private static readonly double[] UpsampleTaps = [0, 0, 1, 0, 1, 1, 1, 1, 0, 1, 0, 0];

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
    /// size² pixels: 2 per weight and output pixel, or for the upsampling form 2 per weight of its 4×4 kernel and
    /// input pixel (the padding's zero channels and the bias not counted).</summary>
    public double ForwardFlops(long images, long size) => Upsample
        ? 2.0 * images * size * size * 16 * InChannels * OutChannels
        : 2.0 * images * size * size * weight.numel();

    /// <summary>Floats of one image's larger map, its input of size² pixels or its output, as computed on the CPU
    /// (channels padded to whole blocks): how much of a batch's memory grows with each image it takes.</summary>
    public long LargestMap(long size)
    {
        var outSize = Upsample ? 2 * size : size;
        return Math.Max(Padded(InChannels) * size * size, Padded(OutChannels) * outSize * outSize);
    }

    public override Tensor forward(Tensor x)
    {
        if (!Upsample) return Convolve(x, weight, bias, padding, transposed: false);
        using var taps = torch.tensor(UpsampleTaps, [4, 3], dtype: weight.dtype, device: weight.device);
        // A transposed convolution's kernel is [in, out, rows, columns].
        var kernel = torch.einsum("ky,ocyx,lx->cokl", taps, weight, taps);
        return Convolve(x, kernel, bias, 1, transposed: true);
    }

    /// <summary>A convolution, or with <paramref name="transposed"/> a transposed one of stride 2, each with
    /// <paramref name="padding"/> rows and columns; on the CPU padded to whole channel blocks (see the class summary).</summary>
    private static Tensor Convolve(Tensor x, Tensor weight, Tensor bias, long padding, bool transposed)
    {
        var (outChannels, inChannels) = transposed ? (weight.shape[1], weight.shape[0]) : (weight.shape[0], weight.shape[1]);
        var (inSpare, outSpare) = (Spare(inChannels), Spare(outChannels));
        Tensor Run(Tensor x, Tensor w, Tensor b) => transposed
            ? functional.conv_transpose2d(x, w, b, strides: [2, 2], padding: [padding, padding])
            : functional.conv2d(x, w, b, padding: [padding, padding]);
        if (x.device_type != DeviceType.CPU || (inSpare, outSpare) == (0, 0))
            return Run(x, weight, bias);
        // pad takes (before, after) pairs from the last dimension backwards: here the weight's second, then first.
        var w = transposed
            ? functional.pad(weight, [0, 0, 0, 0, 0, outSpare, 0, inSpare])
            : functional.pad(weight, [0, 0, 0, 0, 0, inSpare, 0, outSpare]);
        var b = functional.pad(bias, [0, outSpare]);
        var y = Run(functional.pad(x, [0, 0, 0, 0, 0, inSpare]), w, b);
        return outSpare == 0 ? y : y.narrow(1, 0, outChannels);
    }

    private static long Spare(long channels) => (ChannelBlock - channels % ChannelBlock) % ChannelBlock;

    private static long Padded(long channels) => channels + Spare(channels);
}
