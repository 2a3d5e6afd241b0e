using Drift.Data.Images;

namespace Drift.Tests;

/// <summary>An image dataset small enough for a test: IDX files as Fashion-MNIST ships them.</summary>
internal static class TinyImages
{
    /// <summary>Writes into <paramref name="dir"/> two classes of 8×8 images, a bright left half or a bright top half with
    /// noise: 60 to train on, 20 to test, drawn from <paramref name="seed"/> (the test's seed if none). Returns
    /// <paramref name="dir"/>.</summary>
    public static string Write(string dir, int? seed = null)
    {
        Directory.CreateDirectory(dir);
        var random = new Random(seed ?? Tensors.Seed());
        foreach (var (split, n) in new[] { ("train", 60), ("t10k", 20) })
        {
            var labels = Enumerable.Range(0, n).Select(i => (byte)(i % 2)).ToArray();
            var pixels = labels.SelectMany(l => Enumerable.Range(0, 64).Select(p =>
                (byte)Math.Clamp((l == 0 ? p % 8 < 4 : p / 8 < 4) ? 200 + random.Next(-40, 40) : random.Next(0, 50), 0, 255))).ToArray();
            IdxFile.Write(Path.Combine(dir, $"{split}-images-idx3-ubyte"), [n, 8, 8], pixels);
            IdxFile.Write(Path.Combine(dir, $"{split}-labels-idx1-ubyte"), [n], labels);
        }
        return dir;
    }
}
