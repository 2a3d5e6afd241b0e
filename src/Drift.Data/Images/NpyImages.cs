using NumSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Data.Images;

/// <summary>
/// Images as NumPy .npy files, the form other tools' samples come in and <c>drift sample</c> writes: uint8
/// [N, H, W] (one channel) or [N, H, W, C], with their class labels, integers, in NAME.labels.npy beside them.
/// NumSharp reads and writes the format (header, byte order, Fortran order); this class only checks what it found
/// and turns it into Drift's uint8 [N, C, H, W].
/// </summary>
public static class NpyImages
{
    /// <summary>Where the labels of the images in <paramref name="npyPath"/> are kept: NAME.labels.npy beside them.</summary>
    public static string LabelsPath(string npyPath) => Path.ChangeExtension(npyPath, ".labels.npy");

    /// <summary>uint8 images [N, C, H, W] and, when NAME.labels.npy is beside them, their labels (else null).</summary>
    public static (Tensor Pixels, long[]? Labels) Read(string path)
    {
        var array = Load(path, "image file");
        if (array.typecode != NPTypeCode.Byte || array.ndim is not (3 or 4))
            throw new DataError($"{path}: expected uint8 images of shape (N, H, W) or (N, H, W, C), found {Describe(array)}");
        var shape = array.shape.Select(d => (long)d).ToArray();
        if (shape[0] < 1 || shape[1] < 1 || shape[2] < 1 || (shape.Length == 4 && shape[3] is not (1 or 3)))
            throw new DataError($"{path}: expected uint8 images of shape (N, H, W) or (N, H, W, C) with 1 or 3 channels, found {Describe(array)}");
        var labelsPath = LabelsPath(path);
        long[]? labels = null;
        if (File.Exists(labelsPath))
        {
            var read = Load(labelsPath, "labels file");
            if (read.ndim != 1 || read.size != shape[0] || read.typecode is not (NPTypeCode.Byte or NPTypeCode.Int16 or NPTypeCode.UInt16 or NPTypeCode.Int32 or NPTypeCode.UInt32 or NPTypeCode.Int64))
                throw new DataError($"{labelsPath}: expected {shape[0]} integer labels of shape ({shape[0]},), found {Describe(read)}");
            labels = read.astype(typeof(long)).ToArray<long>();
        }
        // ToArray gives C order whatever order the file keeps.
        using var hwc = torch.tensor(array.ToArray<byte>(), shape.Length == 3 ? [.. shape, 1] : shape, ScalarType.Byte);
        return (hwc.permute(0, 3, 1, 2).contiguous(), labels);
    }

    private static NDArray Load(string path, string what)
    {
        var bytes = InputFile.ReadAllBytes(path, what, InputFile.Largest);
        try
        {
            return np.load_npy(bytes, allow_pickle: false);
        }
        catch (Exception e) when (e is FormatException or NotSupportedException or ArgumentException or InvalidDataException or OverflowException)
        {
            throw new DataError($"{path} is not a readable .npy file: {e.Message.Split('\n')[0].Trim()}", e);
        }
        // NumSharp allocates the array its header describes before it reads the data, so a header that describes more
        // than memory holds fails here, not as a short read: the file's own size says which of the two is wrong.
        catch (OutOfMemoryException e)
        {
            throw new DataError($"{path}: its header asks for more memory than this machine has ({e.Message.Split('\n')[0].Trim()}); the file holds {bytes.Length:N0} bytes", e);
        }
    }

    private static string Describe(NDArray a) => $"{a.dtype} of shape ({string.Join(", ", a.shape)}{(a.ndim == 1 ? "," : "")})";
}
