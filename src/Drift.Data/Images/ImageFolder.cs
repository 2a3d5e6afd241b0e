using StbImageSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Data.Images;

/// <summary>
/// A folder of PNG/JPEG/BMP/GIF/TGA images, either flat (one class) or with one subfolder per class (named by the
/// subfolder). Each image is turned upright (its EXIF orientation), centre-cropped to a square and resized to
/// <c>size</c>. Grey if every image is grey, else RGB. One image in ten is held out as the test split
/// (<see cref="ImageSet.SplitEveryTenth"/>). Hidden files and folders (<see cref="InputFile.Hidden"/>) are not the
/// data's: a notebook's <c>.ipynb_checkpoints/</c> would be a class, macOS's <c>._NAME.png</c> files are not images.
/// </summary>
public static class ImageFolder
{
    /// <summary>What stb_image decodes (a GIF's first frame).</summary>
    private static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tga"];
    private const string Formats = "PNG, JPEG, BMP, GIF or TGA";

    /// <summary>Image formats stb_image does not decode. Other files in the folder (a README, labels) are passed over, but
    /// these are refused: passed over, a class stored as WebP would vanish from the data without a word.</summary>
    private static readonly string[] Undecoded = [".webp", ".tif", ".tiff", ".avif", ".heic", ".heif", ".jxl", ".jp2", ".psd",
        ".pgm", ".ppm", ".pbm", ".pnm", ".ico", ".svg"];

    public static bool Holds(string dir) => new[] { dir }.Concat(Subfolders(dir)).Any(d => Files(d).Any(f => IsImage(f) || IsUndecoded(f)));

    public static (ImageSet Train, ImageSet Test, string[] ClassNames) Load(string dir, int size)
    {
        var (files, classDirs) = Listing(dir);
        if (files.Length < 2) throw new DataError($"{dir}: needs at least 2 images, found {files.Length}");

        // Each image is cropped and resized as soon as it is decoded: a folder of photos needs memory for its small images
        // and one full-size image at a time (decoding them all first held every one at full size: a 2-step run on 240
        // images of 2000×2000 peaked at 3.2 GB, 0.58–0.78 GB now). Decoding a processor's worth in parallel was tried: on 2
        // cores it loaded those images no faster and held more.
        Tensor all;
        using (var scope = torch.NewDisposeScope())
        {
            var grey = true;
            var resized = new Tensor[files.Length];
            for (var i = 0; i < files.Length; i++)
            {
                using var imageScope = torch.NewDisposeScope();
                resized[i] = CropAndResize(Decode(files[i].File), size).MoveToOuterDisposeScope();
                grey &= resized[i].shape[0] == 1;
            }
            // Among RGB images a grey one is equal R, G and B (as stb_image converts it).
            all = torch.stack(grey ? resized : resized.Select(r => r.expand(3, size, size)).ToArray()).MoveToOuterDisposeScope();
        }
        var names = classDirs.Length > 0 ? classDirs : [Path.GetFileName(Path.GetFullPath(dir).TrimEnd('/'))];
        using (all)
        {
            var (train, test) = ImageSet.SplitEveryTenth(all, [.. files.Select(f => (long)f.Class)]);
            // A class whose every image is held out would be named, drawn and exported, but never trained.
            var trained = train.Labels.ToHashSet();
            if (Enumerable.Range(0, names.Length).Where(c => !trained.Contains(c)).Take(1).ToArray() is [var untrained])
            {
                train.Dispose();
                test.Dispose();
                throw new DataError($"{Path.Combine(dir, names[untrained])}: no training image, its {files.Count(f => f.Class == untrained)} held out "
                    + "for testing (every tenth image of the folder in name order is); add images to it");
            }
            return (train, test, names);
        }
    }

    /// <summary>The images of <paramref name="dir"/> exactly as stored, for judging samples made elsewhere (or by
    /// <c>drift sample --out DIR</c>): uint8 [N, C, H, W], no crop or resize, every image the same size, files in name order
    /// (class folders in name order). Grey if every image is grey or stores equal red, green and blue (torchvision's
    /// <c>save_image</c> writes grey images so); alpha is dropped. With class folders, each image's folder name.</summary>
    public static (Tensor Pixels, string[]? ClassFolders) ReadAsStored(string dir)
    {
        var (files, classDirs) = Listing(dir);
        if (files.Length == 0) throw new DataError($"{dir}: no {Formats} images, at its top or in class folders");
        using var scope = torch.NewDisposeScope();
        var images = new Tensor[files.Length];
        for (var i = 0; i < files.Length; i++)
        {
            images[i] = Decode(files[i].File);
            if (i > 0 && (images[i].shape[0] != images[0].shape[0] || images[i].shape[1] != images[0].shape[1]))
                throw new DataError($"{files[i].File}: {images[i].shape[1]}×{images[i].shape[0]} pixels, {files[0].File} {images[0].shape[1]}×{images[0].shape[0]}: "
                    + "images judged as stored must share one size");
        }
        var colour = images.Any(image => image.shape[2] == 3);
        var hwc = torch.stack(colour ? images.Select(image => image.expand(-1, -1, 3)).ToArray() : images);
        if (colour && hwc.eq(hwc.narrow(3, 0, 1)).all().item<bool>()) hwc = hwc.narrow(3, 0, 1);
        var folders = classDirs.Length > 0 ? files.Select(f => classDirs[f.Class]).ToArray() : null;
        return (hwc.permute(0, 3, 1, 2).contiguous().MoveToOuterDisposeScope(), folders);
    }

    /// <summary>The images of <paramref name="dir"/> in name order, each with its class (the index of its class folder
    /// among them, in name order; 0 in a flat folder), and the class folders' names (none in a flat folder).</summary>
    private static ((string File, int Class)[] Files, string[] ClassFolders) Listing(string dir)
    {
        var classDirs = Subfolders(dir).Where(sub => Images(sub).Any()).Order(StringComparer.Ordinal).ToArray();
        // Either layout alone is clear; both at once would leave one of them out without a word.
        if (classDirs.Length > 0 && Images(dir).Any())
            throw new DataError($"{dir}: holds images both at its top and in class folders ({string.Join(", ", classDirs.Take(3).Select(Path.GetFileName))}"
                + $"{(classDirs.Length > 3 ? ", ..." : "")}): put every image in a class folder, or none in one");
        var files = classDirs.Length > 0
            ? classDirs.SelectMany((sub, c) => Images(sub).Order(StringComparer.Ordinal).Select(f => (File: f, Class: c))).ToArray()
            : Images(dir).Order(StringComparer.Ordinal).Select(f => (File: f, Class: 0)).ToArray();
        // Every image below the folder is read, or the folder is refused: an image format stb_image does not decode, or an
        // image further down than the layout reads (in a folder inside a class folder), left out, could take a class with it.
        var read = files.Select(f => f.File).ToHashSet();
        foreach (var file in FilesBelow(dir, followLinks: true))
        {
            if (IsUndecoded(file))
                throw new DataError($"{file}: {Path.GetExtension(file).TrimStart('.').ToUpperInvariant()} images are not read "
                    + $"(only {Formats}); convert them first, e.g. to PNG");
            if (IsImage(file) && !read.Contains(file))
                throw new DataError($"{file}: only images at the top of {(classDirs.Length > 0 ? $"{dir}'s class folders" : dir)} are read, "
                    + "and this one is further down; move it up, or out of the folder");
        }
        return (files, classDirs.Select(d => Path.GetFileName(d)!).ToArray());
    }

    /// <summary>The files below <paramref name="dir"/> but hidden ones, in name order; the folder's own subfolders may be
    /// links (a class folder kept elsewhere), those further down are not followed, so that a link cannot lead round in a loop.</summary>
    private static IEnumerable<string> FilesBelow(string dir, bool followLinks) =>
        Files(dir).Order(StringComparer.Ordinal).Concat(Subfolders(dir)
            .Where(sub => followLinks || new DirectoryInfo(sub).LinkTarget is null)
            .Order(StringComparer.Ordinal).SelectMany(sub => FilesBelow(sub, followLinks: false)));

    private static IEnumerable<string> Images(string dir) => Files(dir).Where(IsImage);

    private static bool IsImage(string file) => Extensions.Contains(Path.GetExtension(file).ToLowerInvariant());
    private static bool IsUndecoded(string file) => Undecoded.Contains(Path.GetExtension(file).ToLowerInvariant());
    private static IEnumerable<string> Files(string dir) => Directory.EnumerateFiles(dir).Where(f => !InputFile.Hidden(f));
    private static IEnumerable<string> Subfolders(string dir) => Directory.EnumerateDirectories(dir).Where(d => !InputFile.Hidden(d));

    /// <summary>The image as uint8 [H, W, C], upright as its EXIF orientation says: one channel for a grey file, else three
    /// (RGB; alpha is dropped).</summary>
    private static Tensor Decode(string file)
    {
        var bytes = InputFile.ReadAllBytes(file, "image", 256 * InputFile.MiB);
        ImageResult image;
        try
        {
            // No header (null) is a file stb_image refuses; decoding it anyway gets its reason, at once.
            var info = ImageInfo.FromStream(new MemoryStream(bytes));
            if (info is { } header) CheckSize(file, header, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);
            var grey = info is { } known && Channels(known) == 1;
            image = ImageResult.FromMemory(bytes, grey ? ColorComponents.Grey : ColorComponents.RedGreenBlue);
        }
        catch (Exception e) when (e.Message == "too large")
        {
            throw new DataError($"{file}: has more pixels than stb_image decodes; shrink it first");
        }
        catch (Exception e) when (e is not (OutOfMemoryException or DataError))
        {
            throw new DataError($"{file}: not a readable image ({e.Message})");
        }
        var stored = torch.tensor(image.Data, [image.Height, image.Width, image.Comp == ColorComponents.Grey ? 1 : 3], ScalarType.Byte);
        return ExifOrientation.Upright(stored, ExifOrientation.Read(bytes));
    }

    private static int Channels(ImageInfo info) => info.ColorComponents is ColorComponents.Grey or ColorComponents.GreyAlpha ? 1 : 3;

    /// <summary>Refuses, from its header alone, an image too large to decode: a few hundred kilobytes of PNG can claim
    /// 26000×26000 pixels. Decoding and resizing C channels peaks at about (3C + 4) bytes a pixel: the decoded bytes in
    /// stb_image's array and in the tensor copied from it, a third time while stb_image copies them out (or as one
    /// channel's crop), beside one channel in floats (measured above the process's own: 12.3 bytes a pixel for a
    /// 225-megapixel RGB PNG, 5.7 for a 676-megapixel grey one).</summary>
    internal static void CheckSize(string file, ImageInfo info, long memoryBytes)
    {
        var pixels = (long)info.Width * info.Height;
        var channels = Channels(info);
        var need = pixels * (3 * channels + 4);
        var size = $"{file}: {info.Width}×{info.Height} pixels ({pixels / 1e6:F0} megapixels)";
        // stb_image decodes into one buffer of at most 2^31 bytes (PNG headers past 2^30 it refuses itself, above).
        if (pixels * channels > int.MaxValue)
            throw new DataError($"{size} is more than stb_image decodes; shrink it first");
        if (need > memoryBytes)
            throw new DataError($"{size} takes about {InputFile.Size(need)} to decode and resize, more than the {InputFile.Size(memoryBytes)} "
                + "this machine has; shrink it first");
    }

    /// <summary>Centre square crop of an [H, W, C] image, then area averaging down (or bilinear up) to [C, size, size].</summary>
    private static Tensor CropAndResize(Tensor hwc, int size)
    {
        using var scope = torch.NewDisposeScope();
        var (h, w) = (hwc.shape[0], hwc.shape[1]);
        var side = Math.Min(h, w);
        var square = hwc.narrow(0, (h - side) / 2, side).narrow(1, (w - side) / 2, side);
        // Channels are resized apart either way (same bits). A large image goes a channel at a time, so that it is held in
        // floats one channel at a time; smaller ones whole: planes under glibc's 32 MiB mmap ceiling come from its heap,
        // which a folder of photos fragmented (240 of 2000×2000 a channel at a time: peak 1.16–1.75 GB; whole, 0.59–0.67 GB).
        if (side * side * sizeof(float) < LargePlane)
            return ImageSet.Resize(square.permute(2, 0, 1).contiguous().unsqueeze(0), size).squeeze(0).MoveToOuterDisposeScope();
        var channels = Enumerable.Range(0, (int)hwc.shape[2])
            .Select(c => ImageSet.Resize(square.select(2, c).contiguous().view(1, 1, side, side), size)[0]).ToArray();
        return torch.cat(channels).MoveToOuterDisposeScope();
    }

    private const long LargePlane = 32 * InputFile.MiB;
}
