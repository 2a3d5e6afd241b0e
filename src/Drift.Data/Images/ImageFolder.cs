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
        // Either layout alone is clear; both at once would leave one of them out without a word.
        if (classDirs.Length > 0 && Images(dir).Any())
            throw new DataError($"{dir}: holds images both at its top and in class folders ({string.Join(", ", classDirs.Take(3).Select(Path.GetFileName))}"
                + $"{(classDirs.Length > 3 ? ", ..." : "")}): put every image in a class folder, or none in one");
        var files = classDirs.Length > 0
            ? classDirs.SelectMany((sub, c) => Images(sub).Order(StringComparer.Ordinal).Select(f => (File: f, Label: (long)c))).ToArray()
            : Images(dir).Order(StringComparer.Ordinal).Select(f => (File: f, Label: 0L)).ToArray();
        if (files.Length < 2) throw new DataError($"{dir}: needs at least 2 images, found {files.Length}");

        // Each image is cropped and resized as soon as it is decoded: a folder of photos needs memory for its small images
        // and one full-size image at a time (decoding them all first held every one at full size: a 2-step run on 240
        // images of 2000×2000 peaked at 3.2 GB, 0.58–0.78 GB now). Decoding a processor's worth in parallel was tried: on 2
        // cores it loaded those images no faster and held more.
        using var scope = torch.NewDisposeScope();
        var grey = true;
        var resized = new Tensor[files.Length];
        for (var i = 0; i < files.Length; i++)
        {
            using var imageScope = torch.NewDisposeScope();
            var (image, isGrey) = Decode(files[i].File);
            grey &= isGrey;
            resized[i] = CropAndResize(image, size).MoveToOuterDisposeScope();
        }
        // A grey file decodes to equal R, G and B, and resizing treats channels apart: its first channel is the grey image.
        var stacked = torch.stack(resized);
        var all = grey ? stacked.narrow(1, 0, 1) : stacked;

        var test = Enumerable.Range(0, files.Length).Where(i => i % TestEvery == TestEvery - 1).Select(i => (long)i).ToArray();
        var train = Enumerable.Range(0, files.Length).Where(i => i % TestEvery != TestEvery - 1).Select(i => (long)i).ToArray();
        ImageSet Subset(long[] idx)
        {
            using var index = torch.tensor(idx);
            return new ImageSet(all.index_select(0, index).MoveToOuterDisposeScope(), idx.Select(i => files[i].Label).ToArray());
        }
        var names = classDirs.Length > 0 ? classDirs.Select(d => Path.GetFileName(d)!).ToArray() : [Path.GetFileName(Path.GetFullPath(dir).TrimEnd('/'))];
        // Under ten images there is no tenth: the last training image stands in as the test split.
        return (Subset(train), Subset(test.Length > 0 ? test : [train[^1]]), names);
    }

    private static IEnumerable<string> Images(string dir) =>
        Directory.EnumerateFiles(dir).Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()));

    /// <summary>The image as uint8 [H, W, 3] (RGB), and whether its file was grey.</summary>
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
        return (torch.tensor(image.Data, [image.Height, image.Width, 3], ScalarType.Byte), grey);
    }

    /// <summary>Centre square crop of an [H, W, 3] image, then area averaging down (or bilinear up) to [3, size, size].</summary>
    private static Tensor CropAndResize(Tensor hwc, int size)
    {
        using var scope = torch.NewDisposeScope();
        var (h, w) = (hwc.shape[0], hwc.shape[1]);
        var side = Math.Min(h, w);
        var square = hwc.narrow(0, (h - side) / 2, side).narrow(1, (w - side) / 2, side).permute(2, 0, 1).contiguous();
        return ImageSet.Resize(square.unsqueeze(0), size).squeeze(0).MoveToOuterDisposeScope();
    }
}
