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
/// </summary>
public sealed class SafeConv2d : Module<Tensor, Tensor>
{
    /// <summary>oneDNN's widest float32 channel block (AVX-512); AVX2's 8 divides it.</summary>
    public const int ChannelBlock = 16;

    private readonly TorchSharp.Modules.Parameter weight;
    private readonly TorchSharp.Modules.Parameter bias;
    private readonly long padding;

    public SafeConv2d(long inChannels, long outChannels, long kernelSize = 3) : base(nameof(SafeConv2d))
    {
        if (kernelSize % 2 == 0) throw new ArgumentException($"'same' padding needs an odd kernel size, got {kernelSize}");
        using (var conv = Conv2d(inChannels, outChannels, kernelSize))
        {
            weight = Parameter(conv.weight!.detach().clone());
            bias = Parameter(conv.bias!.detach().clone());
        }
        padding = kernelSize / 2;
        InChannels = inChannels;
        OutChannels = outChannels;
        RegisterComponents();
    }

    public long InChannels { get; }
    public long OutChannels { get; }

    public override Tensor forward(Tensor x)
    {
        var (inSpare, outSpare) = (Spare(InChannels), Spare(OutChannels));
        if (x.device_type != DeviceType.CPU || (inSpare, outSpare) == (0, 0))
            return functional.conv2d(x, weight, bias, padding: [padding, padding]);
        // pad takes (before, after) pairs from the last dimension backwards: here channels, then filters.
        var w = functional.pad(weight, [0, 0, 0, 0, 0, inSpare, 0, outSpare]);
        var b = functional.pad(bias, [0, outSpare]);
        var y = functional.conv2d(functional.pad(x, [0, 0, 0, 0, 0, inSpare]), w, b, padding: [padding, padding]);
        return outSpare == 0 ? y : y.narrow(1, 0, OutChannels);
    }

    private static long Spare(long channels) => (ChannelBlock - channels % ChannelBlock) % ChannelBlock;
}
