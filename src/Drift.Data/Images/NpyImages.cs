using NumSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Data.Images;

/// <summary>
/// Images as NumPy .npy files, the form other tools' samples come in and <c>drift sample</c> writes: uint8
/// [N, H, W] (one channel) or [N, H, W, C], with their class labels, integers, in NAME.labels.npy beside them.
/// <see cref="NpyFile"/> reads them; this class only checks what it found and turns it into Drift's uint8 [N, C, H, W].
/// </summary>
public static class NpyImages
{
    /// <summary>Where the labels of the images in <paramref name="npyPath"/> are kept: NAME.labels.npy beside them.</summary>
    public static string LabelsPath(string npyPath) => Path.ChangeExtension(npyPath, ".labels.npy");

    /// <summary>uint8 images [N, C, H, W] and, when NAME.labels.npy is beside them, their labels (else null).</summary>
    public static (Tensor Pixels, long[]? Labels) Read(string path)
    {
        var array = NpyFile.Load(path, "image file");
        // The two ways a PyTorch user's samples miss: floats, and channels first.
        var floats = array.typecode is NPTypeCode.Single or NPTypeCode.Double or NPTypeCode.Half;
        if (array.typecode != NPTypeCode.Byte || array.ndim is not (3 or 4))
            throw new DataError($"{path}: expected uint8 images of shape (N, H, W) or (N, H, W, C), found {NpyFile.Describe(array)}"
                + (floats ? "; store images as they would be saved, e.g. floats in [0, 1] as np.round(x * 255).astype(np.uint8)" : ""));
        var shape = array.shape.Select(d => (long)d).ToArray();
        if (shape[0] < 1 || shape[1] < 1 || shape[2] < 1 || (shape.Length == 4 && shape[3] is not (1 or 3)))
            throw new DataError($"{path}: expected uint8 images of shape (N, H, W) or (N, H, W, C) with 1 or 3 channels, found {NpyFile.Describe(array)}"
                + (shape.Length == 4 && shape[1] is 1 or 3 ? "; channels first (N, C, H, W, as PyTorch keeps them) become channels last with x.transpose(0, 2, 3, 1)" : ""));
        var labelsPath = LabelsPath(path);
        long[]? labels = null;
        if (File.Exists(labelsPath))
        {
            var read = NpyFile.Load(labelsPath, "labels file");
            if (read.ndim != 1 || read.size != shape[0] || read.typecode is not (NPTypeCode.Byte or NPTypeCode.Int16 or NPTypeCode.UInt16 or NPTypeCode.Int32 or NPTypeCode.UInt32 or NPTypeCode.Int64))
                throw new DataError($"{labelsPath}: expected {shape[0]} integer labels of shape ({shape[0]},), found {NpyFile.Describe(read)}");
            labels = read.astype(typeof(long)).ToArray<long>();
        }
        // ToArray gives C order whatever order the file keeps.
        using var hwc = torch.tensor(array.ToArray<byte>(), shape.Length == 3 ? [.. shape, 1] : shape, ScalarType.Byte);
        return (hwc.permute(0, 3, 1, 2).contiguous(), labels);
    }
}
