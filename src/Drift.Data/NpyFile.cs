using NumSharp;

namespace Drift.Data;

/// <summary>NumPy .npy files, read by NumSharp (header, byte order, Fortran order): what it cannot read is one
/// <see cref="DataError"/> naming the file. Callers check the dtype and shape they need.</summary>
public static class NpyFile
{
    /// <summary>Whether <paramref name="path"/> names a .npy file (by its extension, as every --data that takes one decides).</summary>
    public static bool Names(string path) => path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase);

    /// <param name="what">What the file is, for the message: "image file", "data file".</param>
    public static NDArray Load(string path, string what)
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

    /// <summary>"float64 of shape (3, 2)", for messages.</summary>
    public static string Describe(NDArray a) => $"{a.dtype} of shape ({string.Join(", ", a.shape)}{(a.ndim == 1 ? "," : "")})";
}
