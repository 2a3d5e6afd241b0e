using System.Runtime.InteropServices;
using System.Security.Cryptography;
using static TorchSharp.torch;

namespace Drift.Data;

/// <summary>A short SHA-256 of a dataset's values (and labels), kept in each checkpoint: resuming on data that
/// changed since (another CSV under the same name, a relabelled folder) would quietly train on something else.</summary>
public static class DataFingerprint
{
    public static string Of(Tensor values, long[]? labels = null)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Add(hash, values, labels);
        return Finish(hash);
    }

    public static void Add(IncrementalHash hash, Tensor values, long[]? labels = null)
    {
        using var scope = NewDisposeScope();
        hash.AppendData(MemoryMarshal.AsBytes(values.shape.AsSpan()));
        hash.AppendData(values.cpu().contiguous().bytes);
        if (labels is not null) hash.AppendData(MemoryMarshal.AsBytes(labels.AsSpan()));
    }

    public static string Finish(IncrementalHash hash) => Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
}
