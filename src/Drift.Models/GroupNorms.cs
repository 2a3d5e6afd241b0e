using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Drift.Models;

/// <summary>Group norms with their affine weights set as PyTorch sets them (scale 1, shift 0): TorchSharp 0.107's
/// GroupNorm leaves them uninitialised (garbage, often NaN or 1e27 at the first forward pass), and a network
/// trained from that garbage stays at chance.</summary>
internal static class GroupNorms
{
    public static GroupNorm Create(long groups, long channels, double epsilon = 1e-5)
    {
        var norm = GroupNorm(groups, channels, epsilon);
        using var noGrad = torch.no_grad();
        norm.weight!.fill_(1);
        norm.bias!.zero_();
        return norm;
    }
}
