using Drift.Data;
using Drift.Data.Images;
using StbImageWriteSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Tests;

public sealed class ImageDataTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("drift-images-").FullName;
    private readonly int seed = Random.Shared.Next();
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

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void IdxFolderLoadsAsWritten(bool gzip)
    {
        var (trainPixels, trainLabels) = WriteIdx("train", 7, 5, 4, gzip);
        var (testPixels, testLabels) = WriteIdx("t10k", 3, 5, 4, gzip);
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

    private void WritePng(string path, int width, int height, byte[] pixels, ColorComponents components)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var stream = File.Create(path);
        new ImageWriter().WritePng(pixels, width, height, components, stream);
    }

    [Fact]
    public void ImageFolderTakesClassesFromSubfoldersCropsAndResizes()
    {
        // Flat-coloured images keep their colour through crop and resize; a 12×8 image is cropped to 8×8.
        var colours = new Dictionary<string, byte[]> { ["cat"] = [200, 10, 30], ["dog"] = [5, 90, 250] };
        foreach (var (name, rgb) in colours)
            for (var i = 0; i < 10; i++)
                WritePng(Path.Combine(dir, name, $"{i}.png"), 12, 8, Enumerable.Repeat(rgb, 12 * 8).SelectMany(c => c).ToArray(), ColorComponents.RedGreenBlue);
        using var data = ImageData.Load(dir, 4);
        Assert.Equal(["cat", "dog"], data.ClassNames);
        Assert.Equal(new long[] { 18, 3, 4, 4 }, data.Train.Pixels.shape);
        Assert.Equal(2, data.Test.Count);
        for (var i = 0; i < data.Train.Count; i++)
        {
            var rgb = colours[data.ClassNames[data.Train.Labels[i]]];
            var image = data.Train.Pixels[i];
            for (var c = 0; c < 3; c++)
                Assert.True(image[c].eq(rgb[c]).all().item<bool>(), $"image {i} channel {c} changed colour");
        }
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
        var broken = Path.Combine(dir, "broken.png");
        File.WriteAllBytes(broken, Bytes(100));
        AssertFails("not a readable image", broken);
    }

    [Fact]
    public void MissingAndEmptyFoldersFailInOneLine()
    {
        Assert.Contains("not found", Assert.Throws<DataError>(() => ImageData.Load(Path.Combine(dir, "nothing"))).Message);
        Assert.Contains("no image data", Assert.Throws<DataError>(() => ImageData.Load(dir)).Message);
    }
}
