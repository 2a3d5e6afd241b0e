using Drift.Data.Images;
using StbImageWriteSharp;

namespace Drift.Tests;

/// <summary>An image dataset small enough for a test: two classes of 8×8 grey images, a bright left half or a bright top
/// half with noise.</summary>
internal static class TinyImages
{
    /// <summary>Writes into <paramref name="dir"/> IDX files as Fashion-MNIST ships them: 60 images to train on, 20 to test,
    /// drawn from <paramref name="seed"/> (the test's seed if none). Returns <paramref name="dir"/>.</summary>
    public static string Write(string dir, int? seed = null)
    {
        Directory.CreateDirectory(dir);
        var random = new Random(seed ?? Tensors.Seed());
        foreach (var (split, n) in new[] { ("train", 60), ("t10k", 20) })
        {
            var labels = Enumerable.Range(0, n).Select(i => (byte)(i % 2)).ToArray();
            IdxFile.Write(Path.Combine(dir, $"{split}-images-idx3-ubyte"), [n, 8, 8], labels.SelectMany(l => Image(l, random)).ToArray());
            IdxFile.Write(Path.Combine(dir, $"{split}-labels-idx1-ubyte"), [n], labels);
        }
        return dir;
    }

    /// <summary>Writes the same classes as a folder of PNGs with a subfolder per class, named "left" and "top", 60 images
    /// each. Returns <paramref name="dir"/>.</summary>
    public static string WriteFolder(string dir, int? seed = null)
    {
        var random = new Random(seed ?? Tensors.Seed());
        foreach (var (name, label) in new[] { ("left", 0), ("top", 1) })
        {
            Directory.CreateDirectory(Path.Combine(dir, name));
            for (var i = 0; i < 60; i++)
            {
                using var file = File.Create(Path.Combine(dir, name, $"{i:D2}.png"));
                new ImageWriter().WritePng(Image(label, random), 8, 8, ColorComponents.Grey, file);
            }
        }
        return dir;
    }

    private static byte[] Image(int label, Random random) => Enumerable.Range(0, 64).Select(p =>
        (byte)Math.Clamp((label == 0 ? p % 8 < 4 : p / 8 < 4) ? 200 + random.Next(-40, 40) : random.Next(0, 50), 0, 255)).ToArray();
}
