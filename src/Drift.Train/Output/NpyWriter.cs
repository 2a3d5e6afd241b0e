using Drift.Train.RunFolders;
using NumSharp;

namespace Drift.Train.Output;

/// <summary>Writes a NumPy .npy file (through NumSharp), whole or not at all.</summary>
public static class NpyWriter
{
    public static void Write(string path, NDArray array) => AtomicFile.Write(path, tmp =>
    {
        // The stream, not the path: given a path, np.save appends ".npy" to a temporary name without it.
        using var stream = File.Create(tmp);
        np.save(stream, array);
    });
}
