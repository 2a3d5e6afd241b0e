using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using Drift.Data.Images;
using StbImageSharp;
using StbImageWriteSharp;

namespace Drift.Tests;

public sealed class ExifOrientationTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("drift-exif-").FullName;
    private readonly int seed = Tensors.Seed();
    private readonly Random random;

    public ExifOrientationTests() => random = new Random(seed);

    public void Dispose() => Directory.Delete(dir, recursive: true);

    /// <summary>A tag no orientation names, no EXIF at all, and an EXIF block that is not one: each shown as stored.</summary>
    private const int None = 0, Broken = -1;

    /// <summary>PNGs (an eXIf chunk) and JPEGs (an APP1 segment) with each of the eight orientations, in either byte
    /// order, against an explicit loop that places each pixel where the EXIF standard's table puts the stored first row
    /// and column (formulas checked once against Pillow's <c>ImageOps.exif_transpose</c>): turned upright first, then
    /// cropped and resized as any other image. Orientations 0 and 9, none, and a broken block: as stored, no error.</summary>
    [Fact]
    public void FolderImagesAreTurnedUprightAsTheirExifOrientationSays()
    {
        var size = random.Next(5, 10);
        var files = new List<(int H, int W, byte[] Rgb, long Label, string What)>();
        foreach (var (format, label) in new[] { ("jpeg", 0L), ("png", 1L) }) // class folders load in name order
            foreach (var tag in new[] { 1, 2, 3, 4, 5, 6, 7, 8, 0, 9, None, Broken })
            {
                var (h, w) = (random.Next(3, 3 * size), random.Next(3, 3 * size));
                var pixels = new byte[h * w * 3];
                random.NextBytes(pixels);
                var exif = tag switch
                {
                    None => null,
                    Broken => [(byte)'I', (byte)'I', 42, 0, 0xFF, 0xFF, 0xFF, 0x7F, .. "garbage"u8], // its IFD far past its end
                    _ => Tiff(tag, bigEndian: random.Next(2) == 0),
                };
                var bytes = format == "png" ? PngWithExif(Png(w, h, pixels), exif) : JpegWithExif(Jpeg(w, h, pixels), exif);
                var path = Path.Combine(dir, format, $"{files.Count:D2}.{format}");
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllBytes(path, bytes);
                // A JPEG's stored pixels are what stb_image decodes (lossy); a PNG's are the ones written.
                var stored = ImageResult.FromMemory(bytes, StbImageSharp.ColorComponents.RedGreenBlue).Data;
                if (format == "png") Assert.Equal(pixels, stored);
                var (uh, uw, upright) = Upright(stored, h, w, tag is >= 1 and <= 8 ? tag : 1);
                files.Add((uh, uw, upright, label, $"{format} with orientation {tag} ({h}×{w} stored)"));
            }
        using var data = ImageData.Load(dir, size);
        var train = Enumerable.Range(0, files.Count).Where(i => i % 10 != 9).ToArray();
        var test = Enumerable.Range(0, files.Count).Where(i => i % 10 == 9).ToArray();
        foreach (var (set, indices) in new[] { (data.Train, train), (data.Test, test) })
            for (var k = 0; k < indices.Length; k++)
            {
                var f = files[indices[k]];
                Assert.Equal(f.Label, set.Labels[k]);
                var loaded = set.Pixels[k].data<byte>().ToArray();
                var expected = ImageDataTests.CropAndResize(f.Rgb, f.H, f.W, 3, size);
                for (var j = 0; j < loaded.Length; j++)
                    Assert.True(Math.Abs(loaded[j] - expected[j]) <= 0.51,
                        $"seed {seed}: {f.What}, value {j}: loaded {loaded[j]}, expected {expected[j]:F3}");
            }
    }

    /// <summary>The stored [H, W, 3] pixels as shown: the EXIF table gives where the stored first row and first column
    /// go (1 top and left, 2 top and right, 3 bottom and right, 4 bottom and left; 5 left and top, 6 right and top,
    /// 7 right and bottom, 8 left and bottom), so each shown pixel (y, x) comes from one stored pixel.</summary>
    private static (int H, int W, byte[] Rgb) Upright(byte[] stored, int h, int w, int orientation)
    {
        var turned = orientation >= 5;
        var (uh, uw) = turned ? (w, h) : (h, w);
        var result = new byte[stored.Length];
        for (var y = 0; y < uh; y++)
            for (var x = 0; x < uw; x++)
            {
                var (r, c) = orientation switch
                {
                    1 => (y, x),
                    2 => (y, w - 1 - x),
                    3 => (h - 1 - y, w - 1 - x),
                    4 => (h - 1 - y, x),
                    5 => (x, y),
                    6 => (h - 1 - x, y),
                    7 => (h - 1 - x, w - 1 - y),
                    _ => (x, w - 1 - y),
                };
                Array.Copy(stored, (r * w + c) * 3, result, (y * uw + x) * 3, 3);
            }
        return (uh, uw, result);
    }

    /// <summary>A TIFF block of one IFD with one entry: the orientation (tag 0x0112, one SHORT).</summary>
    private static byte[] Tiff(int orientation, bool bigEndian)
    {
        var b = new byte[26];
        void Put16(int at, int v) { if (bigEndian) BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(at), (ushort)v); else BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(at), (ushort)v); }
        void Put32(int at, int v) { if (bigEndian) BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(at), v); else BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(at), v); }
        b[0] = b[1] = (byte)(bigEndian ? 'M' : 'I');
        Put16(2, 42);
        Put32(4, 8);       // the first IFD's offset
        Put16(8, 1);       // entries
        Put16(10, 0x0112); // orientation
        Put16(12, 3);      // SHORT
        Put32(14, 1);      // count
        Put16(18, orientation);
        Put32(22, 0);      // no next IFD
        return b;
    }

    private static byte[] Png(int width, int height, byte[] rgb)
    {
        using var stream = new MemoryStream();
        new ImageWriter().WritePng(rgb, width, height, StbImageWriteSharp.ColorComponents.RedGreenBlue, stream);
        return stream.ToArray();
    }

    private static byte[] Jpeg(int width, int height, byte[] rgb)
    {
        using var stream = new MemoryStream();
        new ImageWriter().WriteJpg(rgb, width, height, StbImageWriteSharp.ColorComponents.RedGreenBlue, stream, 90);
        return stream.ToArray();
    }

    /// <summary>The PNG with an eXIf chunk after its header chunk (signature 8 bytes, IHDR 25).</summary>
    private static byte[] PngWithExif(byte[] png, byte[]? tiff)
    {
        if (tiff is null) return png;
        var chunk = new byte[12 + tiff.Length];
        BinaryPrimitives.WriteInt32BigEndian(chunk, tiff.Length);
        Encoding.ASCII.GetBytes("eXIf").CopyTo(chunk, 4);
        tiff.CopyTo(chunk, 8);
        BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(8 + tiff.Length), Crc32.HashToUInt32(chunk.AsSpan(4, 4 + tiff.Length)));
        return [.. png[..33], .. chunk, .. png[33..]];
    }

    /// <summary>The JPEG with an APP1 segment ("Exif\0\0" and the TIFF block) after its start marker.</summary>
    private static byte[] JpegWithExif(byte[] jpeg, byte[]? tiff)
    {
        if (tiff is null) return jpeg;
        var length = 2 + 6 + tiff.Length;
        byte[] segment = [0xFF, 0xE1, (byte)(length >> 8), (byte)length, .. Encoding.ASCII.GetBytes("Exif\0\0"), .. tiff];
        return [.. jpeg[..2], .. segment, .. jpeg[2..]];
    }
}
