using StbImageSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Data.Images;

/// <summary>
/// A folder of PNG/JPEG/BMP images, either flat (one class) or with one subfolder per class (named by the
/// subfolder). Each image is centre-cropped to a square and resized to <c>size</c>. Grey if every image
/// is grey, else RGB. One image in ten (a fixed draw) is held out as the test split.
/// </summary>
public static class ImageFolder
{
    private static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".bmp"];
    private const int TestEvery = 10;

    public static bool Holds(string dir) => Images(dir).Any() ||
        Directory.EnumerateDirectories(dir).Any(sub => Images(sub).Any());

    public static (ImageSet Train, ImageSet Test, string[] ClassNames) Load(string dir, int size)
    {
        var classDirs = Directory.GetDirectories(dir).Where(sub => Images(sub).Any()).Order(StringComparer.Ordinal).ToArray();
        var files = classDirs.Length > 0
            ? classDirs.SelectMany((sub, c) => Images(sub).Order(StringComparer.Ordinal).Select(f => (File: f, Label: (long)c))).ToArray()
            : Images(dir).Order(StringComparer.Ordinal).Select(f => (File: f, Label: 0L)).ToArray();
        if (files.Length < 2) throw new DataError($"{dir}: needs at least 2 images, found {files.Length}");

        var decoded = files.Select(f => Decode(f.File)).ToArray();
        var channels = decoded.All(d => d.Grey) ? 1 : 3;
        using var all = torch.stack(decoded.Select(d => CropAndResize(d.Image, channels, size)).ToArray());
        foreach (var d in decoded) d.Image.Dispose();

        var test = Enumerable.Range(0, files.Length).Where(i => i % TestEvery == TestEvery - 1).Select(i => (long)i).ToArray();
        var train = Enumerable.Range(0, files.Length).Where(i => i % TestEvery != TestEvery - 1).Select(i => (long)i).ToArray();
        ImageSet Subset(long[] idx)
        {
            using var index = torch.tensor(idx);
            return new ImageSet(all.index_select(0, index), idx.Select(i => files[i].Label).ToArray());
        }
        var names = classDirs.Length > 0 ? classDirs.Select(d => Path.GetFileName(d)!).ToArray() : [Path.GetFileName(Path.GetFullPath(dir).TrimEnd('/'))];
        // Under ten images there is no tenth: the last training image stands in as the test split.
        return (Subset(train), Subset(test.Length > 0 ? test : [train[^1]]), names);
    }

    private static IEnumerable<string> Images(string dir) =>
        Directory.EnumerateFiles(dir).Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()));

    /// <summary>The image as uint8 [3, H, W] (RGB), and whether its file was grey.</summary>
    private static (Tensor Image, bool Grey) Decode(string file)
    {
        ImageResult image;
        try
        {
            image = ImageResult.FromMemory(InputFile.ReadAllBytes(file, "image", 256 * InputFile.MiB), ColorComponents.RedGreenBlue);
        }
        catch (Exception e) when (e is not (OutOfMemoryException or DataError))
        {
            throw new DataError($"{file}: not a readable image ({e.Message})");
        }
        var grey = image.SourceComp is ColorComponents.Grey or ColorComponents.GreyAlpha;
        using var hwc = torch.tensor(image.Data, [image.Height, image.Width, 3], ScalarType.Byte);
        return (hwc.permute(2, 0, 1).contiguous(), grey);
    }

    /// <summary>Centre square crop, then area averaging down (or bilinear up) to size×size.</summary>
    private static Tensor CropAndResize(Tensor chw, int channels, int size)
    {
        using var scope = torch.NewDisposeScope();
        var (h, w) = (chw.shape[1], chw.shape[2]);
        var side = Math.Min(h, w);
        var square = chw.narrow(1, (h - side) / 2, side).narrow(2, (w - side) / 2, side);
        var image = channels == 1 ? square.narrow(0, 0, 1) : square;
        return ImageSet.Resize(image.unsqueeze(0), size).squeeze(0).MoveToOuterDisposeScope();
    }
}
