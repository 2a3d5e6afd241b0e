using Drift.Data;
using Drift.Data.Images;
using StbImageWriteSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Tests;

public sealed class ImageDataTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("drift-images-").FullName;
    private readonly int seed = Tensors.Seed();
    private readonly Random random;

    public ImageDataTests() => random = new Random(seed);

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private byte[] Bytes(int n)
    {
        var b = new byte[n];
        random.NextBytes(b);
        return b;
    }

    private (byte[] Pixels, byte[] Labels) WriteIdx(string split, int n, int rows, int cols, bool gzip)
    {
        var pixels = Bytes(n * rows * cols);
        // Every class 0..K−1 present (K ≤ 10), in a random order.
        var labels = Enumerable.Range(0, n).Select(i => (byte)(i % Math.Min(n, 10))).OrderBy(_ => random.Next()).ToArray();
        var ext = gzip ? ".gz" : "";
        IdxFile.Write(Path.Combine(dir, $"{split}-images-idx3-ubyte{ext}"), [n, rows, cols], pixels);
        IdxFile.Write(Path.Combine(dir, $"{split}-labels-idx1-ubyte{ext}"), [n], labels);
        return (pixels, labels);
    }

    /// <summary>Samples judged from a folder are read exactly as stored: every byte, no crop or resize (a 5×7 image stays
    /// so), files in name order within class folders in name order, each image's folder; grey where the images are grey
    /// or store equal red, green and blue, else colour with the grey images' value in every channel.</summary>
    [Fact]
    public void AFolderReadAsStoredKeepsEveryByteAndItsClassFolder()
    {
        var (w, h) = (5, 7);
        var grey = Enumerable.Range(0, 5).Select(_ => Bytes(w * h)).ToArray();
        var places = new[] { "b/x.png", "b/a.png", "a/z.png", "a/m.png", "a/n.png" };
        var greyDir = Path.Combine(dir, "grey");
        // Three written grey, two as RGB with equal channels.
        for (var i = 0; i < places.Length; i++)
            WritePng(Path.Combine(greyDir, places[i]), w, h, i % 2 == 0 ? grey[i] : grey[i].SelectMany(b => new[] { b, b, b }).ToArray(),
                i % 2 == 0 ? ColorComponents.Grey : ColorComponents.RedGreenBlue);
        var order = new[] { 3, 4, 2, 1, 0 }; // a/m, a/n, a/z, b/a, b/x
        var (pixels, folders) = ImageFolder.ReadAsStored(greyDir);
        using (pixels)
        {
            Assert.Equal(new long[] { 5, 1, h, w }, pixels.shape);
            Assert.Equal(order.SelectMany(i => grey[i]), pixels.data<byte>().ToArray());
            Assert.Equal(["a", "a", "a", "b", "b"], folders!);
        }

        var colourDir = Path.Combine(dir, "colour");
        var colour = Bytes(w * h * 3);
        WritePng(Path.Combine(colourDir, "0.png"), w, h, grey[0], ColorComponents.Grey);
        WritePng(Path.Combine(colourDir, "1.png"), w, h, colour, ColorComponents.RedGreenBlue);
        (pixels, folders) = ImageFolder.ReadAsStored(colourDir);
        using (pixels)
        {
            Assert.Null(folders);
            Assert.Equal(new long[] { 2, 3, h, w }, pixels.shape);
            using var hwc = pixels.permute(0, 2, 3, 1).contiguous();
            Assert.Equal(grey[0].SelectMany(b => new[] { b, b, b }).Concat(colour), hwc.data<byte>().ToArray());
        }

        WritePng(Path.Combine(colourDir, "2.png"), h, w, Bytes(h * w * 3), ColorComponents.RedGreenBlue);
        var error = Assert.Throws<DataError>(() => ImageFolder.ReadAsStored(colourDir));
        Assert.Contains("2.png: 7×5 pixels", error.Message);
        Assert.Equal("T-shirt_top", ImageData.ClassFolder("T-shirt/top"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void IdxFolderLoadsAsWritten(bool gzip)
    {
        var (trainPixels, trainLabels) = WriteIdx("train", 7, 5, 4, gzip);
        var (testPixels, testLabels) = WriteIdx("t10k", 3, 5, 4, gzip);
        // macOS's copies beside each file (._NAME, not IDX) are hidden, so not a second set of files.
        foreach (var file in Directory.GetFiles(dir)) File.WriteAllBytes(Path.Combine(dir, "._" + Path.GetFileName(file)), Bytes(40));
        using var data = ImageData.Load(dir);
        Assert.Equal(new long[] { 7, 1, 5, 4 }, data.Train.Pixels.shape);
        Assert.Equal(trainPixels, data.Train.Pixels.data<byte>().ToArray());
        Assert.Equal(trainLabels.Select(l => (long)l), data.Train.Labels);
        Assert.Equal(testPixels, data.Test.Pixels.data<byte>().ToArray());
        Assert.Equal(testLabels.Select(l => (long)l), data.Test.Labels);
        // Batches are the bytes mapped to [−1, 1].
        var batch = data.Train.Batch([2, 0]);
        Assert.Equal(trainPixels[(2 * 20)..(3 * 20)].Select(b => b / 127.5f - 1), batch[0].flatten().data<float>().ToArray());
    }

    [Fact]
    public void IdxErrorsNameTheFile()
    {
        WriteIdx("train", 4, 3, 3, gzip: false);
        WriteIdx("t10k", 2, 3, 3, gzip: false);
        var images = Path.Combine(dir, "train-images-idx3-ubyte");
        var labels = Path.Combine(dir, "train-labels-idx1-ubyte");

        var good = File.ReadAllBytes(images);
        File.WriteAllBytes(images, good[..^5]);
        AssertFails("truncated", images);
        File.WriteAllBytes(images, [0x12, 0x34, .. good[2..]]);
        AssertFails("bad magic", images);
        File.WriteAllBytes(images, good);

        IdxFile.Write(labels, [3], [1, 2, 3]);
        AssertFails("3 labels for the 4 images", labels);
    }

    [Fact]
    public void ALabelPastTheClassesIsRefused()
    {
        WriteIdx("train", 30, 3, 3, gzip: false);
        WriteIdx("t10k", 5, 3, 3, gzip: false);
        var labels = Path.Combine(dir, "train-labels-idx1-ubyte");
        var (_, good) = IdxFile.Read(labels);
        var bad = (byte[])good.Clone();
        bad[random.Next(bad.Length)] = 200;
        IdxFile.Write(labels, [bad.Length], bad);
        var e = Assert.Throws<DataError>(() => ImageData.Load(dir).Dispose());
        Assert.Contains("labels run up to 200", e.Message);
        // One empty class is a dataset that counts from 1 (EMNIST letters).
        IdxFile.Write(labels, [good.Length], good.Select(l => (byte)(l + 1)).ToArray());
        using var data = ImageData.Load(dir);
        Assert.Equal(11, data.Classes);
    }

    private void AssertFails(string what, string file)
    {
        var e = Assert.Throws<DataError>(() => ImageData.Load(dir).Dispose());
        Assert.Contains(what, e.Message);
        Assert.Contains(file, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Cifar10BatchesLoadAsWritten()
    {
        const int record = 1 + 3 * 32 * 32;
        var batches = new[] { "data_batch_1.bin", "data_batch_2.bin", "test_batch.bin" }.ToDictionary(f => f, f =>
        {
            var bytes = Bytes(3 * record);
            for (var r = 0; r < 3; r++) bytes[r * record] = (byte)r;
            File.WriteAllBytes(Path.Combine(dir, f), bytes);
            return bytes;
        });
        using (var data = ImageData.Load(dir))
        {
            Assert.Equal(new long[] { 6, 3, 32, 32 }, data.Train.Pixels.shape);
            var second = batches["data_batch_2.bin"];
            Assert.Equal(second[1..record], data.Train.Pixels[3].flatten().data<byte>().ToArray());
            Assert.Equal(second[0], data.Train.Labels[3]);
            Assert.Equal(batches["test_batch.bin"][record], data.Test.Labels[1]);
        }
        File.WriteAllBytes(Path.Combine(dir, "data_batch_2.bin"), batches["data_batch_2.bin"][..^1]);
        AssertFails("not a whole number", Path.Combine(dir, "data_batch_2.bin"));
    }

    private static void WritePng(string path, int width, int height, byte[] pixels, ColorComponents components) =>
        WriteFile(path, stream => new ImageWriter().WritePng(pixels, width, height, components, stream));

    private static void WriteFile(string path, Action<Stream> write)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var stream = File.Create(path);
        write(stream);
    }

    /// <summary>A GIF of one frame laid out as the GIF89a specification has it, written here rather than by a library: a
    /// global table of 256 colours and the pixels' indices in LZW codes of 9 bits, each an index itself, with a clear
    /// code before the decoder's table would grow past 9 bits (every 254 codes): the "uncompressed GIF" form.</summary>
    internal static byte[] Gif(int width, int height, byte[] palette, byte[] indices)
    {
        const int Clear = 256, End = 257, Bits = 9;
        var codes = new List<int> { Clear };
        for (var i = 0; i < indices.Length; i++)
        {
            if (i > 0 && i % 254 == 0) codes.Add(Clear);
            codes.Add(indices[i]);
        }
        codes.Add(End);
        var packed = new List<byte>();
        var (buffer, held) = (0, 0);
        foreach (var code in codes) // least significant bit first
        {
            buffer |= code << held;
            for (held += Bits; held >= 8; held -= 8, buffer >>= 8) packed.Add((byte)buffer);
        }
        if (held > 0) packed.Add((byte)buffer);
        var gif = new List<byte>("GIF89a"u8.ToArray());
        byte[] Short(int v) => [(byte)v, (byte)(v >> 8)];
        gif.AddRange([.. Short(width), .. Short(height), 0xF7, 0, 0]); // a global table of 2^(7+1) colours of 8 bits
        gif.AddRange(palette);
        gif.AddRange([0x2C, 0, 0, 0, 0, .. Short(width), .. Short(height), 0, 8]); // the image at (0, 0), no local table; 8-bit LZW
        for (var k = 0; k < packed.Count; k += 255) // sub-blocks of at most 255 bytes
        {
            var n = Math.Min(255, packed.Count - k);
            gif.Add((byte)n);
            gif.AddRange(packed.GetRange(k, n));
        }
        gif.AddRange([0, 0x3B]);
        return [.. gif];
    }

    /// <summary>GIF and TGA files are read as their pixels (a GIF's palette entries, written by <see cref="Gif"/>; a TGA by
    /// stb_image_write, RLE-compressed); hidden files and folders are passed over, so a notebook's
    /// <c>.ipynb_checkpoints/</c> is no class, macOS's <c>._NAME</c> files are not decoded and a hidden image at the top
    /// is no second layout; a README is passed over too, and a link inside a class folder is not followed. What would be
    /// left out without a word is refused, naming the file: an image further down than the layout reads, an image format
    /// stb_image does not decode, and a folder holding only such images, where passed over it would have lost its class.</summary>
    [Fact]
    public void GifAndTgaAreReadHiddenEntriesPassedOverAndUndecodedFormatsRefused()
    {
        var side = random.Next(8, 40);
        byte[] Rgb() => Bytes(side * side * 3);
        var palette = Bytes(256 * 3);
        var indices = Bytes(side * side);
        var expected = new[] { Rgb(), indices.SelectMany(i => palette[(3 * i)..(3 * i + 3)]).ToArray(), Rgb(), Rgb(), Rgb() };
        WritePng(Path.Combine(dir, "cat", "a.png"), side, side, expected[0], ColorComponents.RedGreenBlue);
        File.WriteAllBytes(Path.Combine(dir, "cat", "b.gif"), Gif(side, side, palette, indices));
        WriteFile(Path.Combine(dir, "cat", "c.TGA"), s => new ImageWriter().WriteTga(expected[2], side, side, ColorComponents.RedGreenBlue, s));
        WritePng(Path.Combine(dir, "dog", "a.png"), side, side, expected[3], ColorComponents.RedGreenBlue);
        WriteFile(Path.Combine(dir, "dog", "b.tga"), s => new ImageWriter().WriteTga(expected[4], side, side, ColorComponents.RedGreenBlue, s));
        WritePng(Path.Combine(dir, ".ipynb_checkpoints", "a.png"), side, side, Rgb(), ColorComponents.RedGreenBlue);
        WritePng(Path.Combine(dir, ".top.png"), side, side, Rgb(), ColorComponents.RedGreenBlue);
        File.WriteAllBytes(Path.Combine(dir, "cat", "._b.gif"), Bytes(100));
        File.WriteAllText(Path.Combine(dir, "dog", "README.txt"), "not an image");

        var (pixels, folders) = ImageFolder.ReadAsStored(dir);
        using (pixels)
        {
            Assert.Equal(["cat", "cat", "cat", "dog", "dog"], folders!);
            Assert.Equal(new long[] { 5, 3, side, side }, pixels.shape);
            for (var i = 0; i < expected.Length; i++)
                Assert.Equal(expected[i], pixels[i].permute(1, 2, 0).flatten().data<byte>().ToArray());
        }
        Directory.CreateSymbolicLink(Path.Combine(dir, "dog", "loop"), dir); // not followed: no class of its own, no loop
        using (var data = ImageData.Load(dir, side))
            Assert.Equal(["cat", "dog"], data.ClassNames);
        Directory.Delete(Path.Combine(dir, "dog", "loop"));

        // An image in a folder inside a class folder is not read, so refused; so is one below a flat folder's top.
        var nested = Path.Combine(dir, "dog", "puppies", "x", "c.png");
        WritePng(nested, side, side, Rgb(), ColorComponents.RedGreenBlue);
        AssertFails("only images at the top of", nested);
        Assert.Throws<DataError>(() => ImageFolder.ReadAsStored(dir));
        var flat = Path.Combine(dir, "dog");
        var deeper = Assert.Throws<DataError>(() => ImageFolder.ReadAsStored(flat));
        Assert.Contains($"{nested}: only images at the top of {flat} are read", deeper.Message);
        Directory.Delete(Path.Combine(dir, "dog", "puppies"), recursive: true);

        File.WriteAllBytes(Path.Combine(dir, "dog", "c.webp"), Bytes(100));
        AssertFails("WEBP images are not read", Path.Combine(dir, "dog", "c.webp"));
        Assert.Throws<DataError>(() => ImageFolder.ReadAsStored(dir));
        foreach (var sub in new[] { "cat", "dog" }) Directory.Delete(Path.Combine(dir, sub), recursive: true);
        WriteFile(Path.Combine(dir, "bird", "a.heic"), stream => stream.Write(Bytes(100)));
        AssertFails("HEIC images are not read", Path.Combine(dir, "bird", "a.heic"));
        File.Delete(Path.Combine(dir, "bird", "a.heic"));
        AssertFails("no image data found", dir);
    }

    /// <summary>Every image of a folder against an explicit loop over its file's pixels: the centre square (offsets
    /// (h − side)/2 and (w − side)/2), then the mean over each output pixel's box [⌊i·side/size⌋, ⌈(i+1)·side/size⌉)
    /// when it shrinks, bilinear interpolation at (i + ½)·side/size − ½ (clamped at 0) when it grows, rounded. Random
    /// pixels and sizes, smaller and larger than the target and equal to it, and one large; grey files among RGB ones are RGB with
    /// equal channels, a folder of grey files alone is one channel. Classes are the subfolders; every tenth image is
    /// the test split.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ImageFolderImagesAreTheirFilesCentreCroppedAndResized(bool allGrey)
    {
        var size = random.Next(6, 14);
        var files = new List<(int H, int W, byte[] Rgb, long Label)>();
        foreach (var (name, label) in new[] { ("cat", 0L), ("dog", 1L) })
            for (var i = 0; i < 11; i++)
            {
                var (h, w) = i switch
                {
                    0 => (size, size),
                    1 => (size + 3, size),
                    // A photo large enough to be resized a channel at a time (a channel in floats ≥ 32 MiB).
                    2 when label == 1 => (random.Next(2900, 3000), random.Next(2900, 3000)),
                    _ => (random.Next(3, 3 * size), random.Next(3, 3 * size)),
                };
                var grey = allGrey || random.Next(3) == 0;
                var pixels = Bytes(h * w * (grey ? 1 : 3));
                WritePng(Path.Combine(dir, name, $"{i:D2}.png"), w, h, pixels, grey ? ColorComponents.Grey : ColorComponents.RedGreenBlue);
                files.Add((h, w, grey ? pixels.SelectMany(p => new[] { p, p, p }).ToArray() : pixels, label));
            }
        using var data = ImageData.Load(dir, size);
        var channels = allGrey ? 1 : 3;
        Assert.Equal(["cat", "dog"], data.ClassNames);
        Assert.Equal(new long[] { 20, channels, size, size }, data.Train.Pixels.shape);
        Assert.Equal(new long[] { 2, channels, size, size }, data.Test.Pixels.shape);
        var train = Enumerable.Range(0, files.Count).Where(i => i % 10 != 9).ToArray();
        var test = Enumerable.Range(0, files.Count).Where(i => i % 10 == 9).ToArray();
        foreach (var (set, indices) in new[] { (data.Train, train), (data.Test, test) })
            for (var k = 0; k < indices.Length; k++)
            {
                var f = files[indices[k]];
                Assert.Equal(f.Label, set.Labels[k]);
                var loaded = set.Pixels[k].data<byte>().ToArray();
                var expected = CropAndResize(f.Rgb, f.H, f.W, channels, size);
                for (var j = 0; j < loaded.Length; j++)
                    Assert.True(Math.Abs(loaded[j] - expected[j]) <= 0.51,
                        $"seed {seed}: file {indices[k]} ({f.H}×{f.W} → {size}), value {j}: loaded {loaded[j]}, expected {expected[j]:F3}");
            }
    }

    /// <summary>A whole set is resized a chunk of images at a time (a few images here: large ones), and each comes out as
    /// the float64 reference makes it alone, down (area) and up (bilinear), whatever chunk it fell in.</summary>
    [Theory]
    [InlineData(17, 1200, 9)]
    [InlineData(20, 40, 1100)]
    public void ASetIsResizedAChunkAtATimeAsEachImageAlone(int n, int side, int size)
    {
        var rgb = Enumerable.Range(0, n).Select(_ => Bytes(side * side * 3)).ToArray();
        using var hwc = torch.tensor(rgb.SelectMany(b => b).ToArray(), [n, side, side, 3], ScalarType.Byte);
        using var bytes = hwc.permute(0, 3, 1, 2).contiguous();
        using var resized = ImageSet.Resize(bytes, size);
        Assert.Equal(new long[] { n, 3, size, size }, resized.shape);
        for (var i = 0; i < n; i++)
        {
            using var image = resized[i];
            var (loaded, expected) = (image.data<byte>().ToArray(), CropAndResize(rgb[i], side, side, 3, size));
            var worst = Enumerable.Range(0, loaded.Length).Max(j => Math.Abs(loaded[j] - expected[j]));
            Assert.True(worst <= 0.51, $"seed {seed}: image {i} of {n} ({side} → {size}): off by {worst:F3}");
        }
    }

    /// <summary>The reference of <see cref="ImageFolderImagesAreTheirFilesCentreCroppedAndResized"/>: [C, size, size] in float64, unrounded.</summary>
    internal static double[] CropAndResize(byte[] rgb, int h, int w, int channels, int size)
    {
        var side = Math.Min(h, w);
        var (top, left) = ((h - side) / 2, (w - side) / 2);
        double Pixel(int c, int y, int x) => rgb[((top + y) * w + left + x) * 3 + c];
        var scale = (double)side / size;
        (int Low, int High, double Weight) Source(int i)
        {
            var at = Math.Max(0, scale * (i + 0.5) - 0.5);
            var low = (int)at;
            return (low, Math.Min(low + 1, side - 1), at - low);
        }
        var result = new double[channels * size * size];
        for (var c = 0; c < channels; c++)
            for (var i = 0; i < size; i++)
                for (var j = 0; j < size; j++)
                {
                    double value;
                    if (side == size)
                        value = Pixel(c, i, j);
                    else if (side > size)
                    {
                        int y0 = i * side / size, y1 = ((i + 1) * side + size - 1) / size;
                        int x0 = j * side / size, x1 = ((j + 1) * side + size - 1) / size;
                        var sum = 0.0;
                        for (var y = y0; y < y1; y++)
                            for (var x = x0; x < x1; x++)
                                sum += Pixel(c, y, x);
                        value = sum / ((y1 - y0) * (x1 - x0));
                    }
                    else
                    {
                        var (ya, yb, wy) = Source(i);
                        var (xa, xb, wx) = Source(j);
                        value = (1 - wy) * ((1 - wx) * Pixel(c, ya, xa) + wx * Pixel(c, ya, xb))
                            + wy * ((1 - wx) * Pixel(c, yb, xa) + wx * Pixel(c, yb, xb));
                    }
                    result[(c * size + i) * size + j] = value;
                }
        return result;
    }

    [Fact]
    public void GreyImageFolderIsOneChannelAndBadImagesAreNamed()
    {
        var pixels = Bytes(6 * 6);
        for (var i = 0; i < 3; i++)
            WritePng(Path.Combine(dir, $"{i}.png"), 6, 6, pixels, ColorComponents.Grey);
        using (var data = ImageData.Load(dir, 6))
        {
            Assert.Equal(new long[] { 1, 6, 6 }, data.Train.Pixels.shape[1..]);
            Assert.Equal(pixels, data.Train.Pixels[0].flatten().data<byte>().ToArray());
        }
        // Images beside a class folder as well as in it: refused, not one layout silently left out.
        WritePng(Path.Combine(dir, "more", "0.png"), 6, 6, pixels, ColorComponents.Grey);
        AssertFails("holds images both at its top and in class folders (more)", dir);
        Directory.Delete(Path.Combine(dir, "more"), recursive: true);
        // A class whose only image falls in the test split (the tenth of the folder) would never be trained.
        foreach (var i in Enumerable.Range(0, 10))
            WritePng(Path.Combine(dir, "classes", i < 9 ? "a" : "b", $"{i}.png"), 6, 6, pixels, ColorComponents.Grey);
        var untrained = Assert.Throws<DataError>(() => ImageData.Load(Path.Combine(dir, "classes")).Dispose());
        Assert.Contains($"{Path.Combine(dir, "classes", "b")}: no training image, its 1 held out for testing", untrained.Message);
        Directory.Delete(Path.Combine(dir, "classes"), recursive: true);
        var broken = Path.Combine(dir, "broken.png");
        File.WriteAllBytes(broken, Bytes(100));
        AssertFails("not a readable image", broken);
    }

    /// <summary>An image is judged by its header before it is decoded: a PNG of 33 bytes that claims 50000×50000 pixels is
    /// refused in one line that says so, and so is one that would take more memory than the machine has (decoding and
    /// resizing take about 13 bytes a pixel in RGB, 7 in grey).</summary>
    [Fact]
    public void ImagesTooLargeToDecodeAreRefusedFromTheirHeader()
    {
        WritePng(Path.Combine(dir, "small.png"), 6, 6, Bytes(6 * 6), ColorComponents.Grey);
        var bomb = Path.Combine(dir, "bomb.png");
        File.WriteAllBytes(bomb, ImageHeaders.Png(50000, 50000));
        AssertFails("has more pixels than stb_image decodes", bomb);
        File.Delete(bomb);
        bomb = Path.Combine(dir, "bomb.jpg");
        File.WriteAllBytes(bomb, ImageHeaders.Jpeg(60000, 50000));
        AssertFails("60000×50000 pixels (3000 megapixels) is more than stb_image decodes", bomb);

        // Within what stb_image decodes (2^31 bytes): 15000² RGB is 675 MB.
        var (w, h) = (random.Next(1000, 15000), random.Next(1000, 15000));
        foreach (var (components, bytesPerPixel) in new[] { (StbImageSharp.ColorComponents.RedGreenBlue, 13L), (StbImageSharp.ColorComponents.GreyAlpha, 7L) })
        {
            var info = new StbImageSharp.ImageInfo { Width = w, Height = h, ColorComponents = components };
            var need = (long)w * h * bytesPerPixel;
            ImageFolder.CheckSize("photo.png", info, need);
            var e = Assert.Throws<DataError>(() => ImageFolder.CheckSize("photo.png", info, need - 1));
            Assert.StartsWith($"photo.png: {w}×{h} pixels", e.Message);
            Assert.Contains("more than the", e.Message);
        }
    }

    [Fact]
    public void MissingAndEmptyFoldersFailInOneLine()
    {
        Assert.Contains("not found", Assert.Throws<DataError>(() => ImageData.Load(Path.Combine(dir, "nothing"))).Message);
        Assert.Contains("no image data", Assert.Throws<DataError>(() => ImageData.Load(dir)).Message);
    }
}
