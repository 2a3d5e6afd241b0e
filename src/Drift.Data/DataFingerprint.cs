using System.Runtime.InteropServices;
using System.Security.Cryptography;
using static TorchSharp.torch;

namespace Drift.Data;

/// <summary>A short SHA-256 of a dataset's values (and labels), kept in each checkpoint: resuming on data that
/// changed since (another CSV under the same name, a relabelled folder) would quietly train on something else.</summary>
public static class DataFingerprint
{
    /// <summary>The fingerprint of one or more arrays of values, each with its labels or none.</summary>
    public static string Of(params (Tensor Values, long[]? Labels)[] parts)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var scope = NewDisposeScope();
        foreach (var (values, labels) in parts)
        {
            hash.AppendData(MemoryMarshal.AsBytes(values.shape.AsSpan()));
            hash.AppendData(values.cpu().contiguous().bytes);
            if (labels is not null) hash.AppendData(MemoryMarshal.AsBytes(labels.AsSpan()));
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
    }
}
