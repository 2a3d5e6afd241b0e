using Drift.Data;
using Drift.Data.Images;
using Drift.Train.Output;
using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Tests;

/// <summary>.npy images against NumPy itself (Debian's python3-numpy, which python3-torch brings): files NumPy writes
/// load with every byte where NumPy put it, files Drift writes load in NumPy as written, and what NumPy can hold but
/// Drift cannot judge is refused in one line naming the file.</summary>
public sealed class NpyImagesTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("drift-npy-").FullName;
    private readonly int seed = Tensors.Seed();
    private readonly Random random;

    public NpyImagesTests() => random = new Random(seed);

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private void Numpy(string code) => NumpyScript.Run(dir, code);

    [Theory]
    [InlineData(3, false, "int64")]
    [InlineData(3, true, "uint8")]
    [InlineData(4, false, "int32")]
    [InlineData(4, true, "int64")]
    public void ImagesNumpyWritesLoadByteForByte(int dims, bool fortranOrder, string labelType)
    {
        var (n, h, w, c) = (random.Next(1, 7), random.Next(1, 9), random.Next(1, 9), dims == 3 ? 1 : 3);
        var pixels = new byte[n * h * w * c];
        random.NextBytes(pixels);
        var labels = Enumerable.Range(0, n).Select(_ => (long)random.Next(0, 10)).ToArray();
        File.WriteAllBytes(Path.Combine(dir, "pixels.raw"), pixels);
        var shape = dims == 3 ? $"({n}, {h}, {w})" : $"({n}, {h}, {w}, {c})";
        Numpy($"""
            a = np.fromfile(d + '/pixels.raw', dtype=np.uint8).reshape({shape})
            np.save(d + '/x.npy', np.asfortranarray(a) if {(fortranOrder ? "True" : "False")} else a)
            np.save(d + '/x.labels.npy', np.array([{string.Join(", ", labels)}], dtype=np.{labelType}))
            """);

        var (read, readLabels) = NpyImages.Read(Path.Combine(dir, "x.npy"));
        using (read)
        {
            Assert.Equal(new long[] { n, c, h, w }, read.shape);
            var got = read.data<byte>().ToArray();
            // NumPy's C order is [n, h, w, c]; Drift's [n, c, h, w].
            for (var i = 0; i < n; i++)
            for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++)
            for (var k = 0; k < c; k++)
                Assert.True(pixels[((i * h + y) * w + x) * c + k] == got[((i * c + k) * h + y) * w + x], $"image {i} ({y}, {x}, {k}), seed {seed}");
        }
        Assert.Equal(labels, readLabels);
    }

    /// <summary>A .npy file as a dataset to train on: every tenth image (indices 9, 19, ...) is the test split, the
    /// rest the training split, each image where NumPy put it, its label with it; the classes are the labels 0..K-1;
    /// without a labels file, one class. Bad labels and shapes are one line naming the file.</summary>
    [Theory]
    [InlineData(false, true)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    public void ANpyFileIsADatasetSplitEveryTenthImage(bool rgb, bool labelled)
    {
        var (n, side, classes) = (random.Next(2, 45), random.Next(2, 9), random.Next(1, 5));
        var c = rgb ? 3 : 1;
        var pixels = new byte[n * side * side * c];
        random.NextBytes(pixels);
        var labels = Enumerable.Range(0, n).Select(i => (long)(i < classes ? i : random.Next(classes))).ToArray();
        File.WriteAllBytes(Path.Combine(dir, "pixels.raw"), pixels);
        Numpy($"""
            a = np.fromfile(d + '/pixels.raw', dtype=np.uint8).reshape({n}, {side}, {side}{(rgb ? ", 3" : "")})
            np.save(d + '/set.npy', a)
            if {(labelled ? "True" : "False")}: np.save(d + '/set.labels.npy', np.array([{string.Join(", ", labels)}], dtype=np.int64))
            """);
        using var data = ImageData.Load(Path.Combine(dir, "set.npy"));
        var test = Enumerable.Range(0, n).Where(i => i % 10 == 9).ToArray();
        var train = Enumerable.Range(0, n).Where(i => i % 10 != 9).ToArray();
        if (test.Length == 0) test = [train[^1]];
        Assert.Equal(labelled ? Math.Min(classes, n) : 1, data.Classes);
        foreach (var (set, indices) in new[] { (data.Train, train), (data.Test, test) })
        {
            Assert.Equal(new long[] { indices.Length, c, side, side }, set.Pixels.shape);
            var got = set.Pixels.data<byte>().ToArray();
            for (var k = 0; k < indices.Length; k++)
            {
                Assert.Equal(labelled ? labels[indices[k]] : 0, set.Labels[k]);
                for (var y = 0; y < side; y++)
                for (var x = 0; x < side; x++)
                for (var ch = 0; ch < c; ch++)
                    Assert.True(pixels[((indices[k] * side + y) * side + x) * c + ch] == got[((k * c + ch) * side + y) * side + x],
                        $"seed {seed}: image {indices[k]} ({y}, {x}, {ch})");
            }
        }
    }

    [Theory]
    [InlineData("np.zeros((5, 6, 7), dtype=np.uint8)", null, "images of 6×7; a generator makes square images")]
    [InlineData("np.zeros((1, 6, 6), dtype=np.uint8)", null, "needs at least 2 images, found 1")]
    [InlineData("np.zeros((4, 6, 6), dtype=np.uint8)", "np.array([0, 1, -2, 0])", "set.labels.npy: label -2 is not a class index 0..K-1 of these 4 images")]
    [InlineData("np.zeros((4, 6, 6), dtype=np.uint8)", "np.array([0, 1, 10**9, 0])", "set.labels.npy: label 1000000000 is not a class index")]
    public void ANpyDatasetThatCannotTrainIsOneLine(string images, string? labels, string expected)
    {
        Numpy($"np.save(d + '/set.npy', {images})" + (labels is null ? "" : $"\nnp.save(d + '/set.labels.npy', {labels})"));
        var e = Assert.Throws<DataError>(() => ImageData.Load(Path.Combine(dir, "set.npy")).Dispose());
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void WithoutALabelsFileTheImagesLoadUnlabelled()
    {
        Numpy("np.save(d + '/x.npy', np.zeros((2, 3, 3), dtype=np.uint8))");
        var (read, labels) = NpyImages.Read(Path.Combine(dir, "x.npy"));
        read.Dispose();
        Assert.Null(labels);
    }

    [Fact]
    public void ImagesDriftWritesLoadInNumpyAsWritten()
    {
        var (n, c, h, w) = (random.Next(1, 6), random.Next(2) == 0 ? 1 : 3, random.Next(1, 9), random.Next(1, 9));
        // Past ±1 too: the file keeps what ToBytes makes of them, clamped.
        using var images = torch.rand([n, c, h, w], generator: new Generator((ulong)seed)).mul_(2.4).sub_(1.2);
        var labels = Enumerable.Range(0, n).Select(_ => (long)random.Next(0, 10)).ToArray();
        ImageFiles.Npy(Path.Combine(dir, "x.npy"), images);
        ImageFiles.NpyLabels(NpyImages.LabelsPath(Path.Combine(dir, "x.npy")), labels);
        Numpy("""
            a = np.load(d + '/x.npy'); l = np.load(d + '/x.labels.npy')
            assert a.dtype == np.uint8 and l.dtype == np.int64 and l.shape == (a.shape[0],), (a.dtype, a.shape, l.dtype, l.shape)
            np.ascontiguousarray(a).tofile(d + '/pixels.raw'); l.tofile(d + '/labels.raw')
            open(d + '/shape.txt', 'w').write(' '.join(map(str, a.shape)))
            """);

        Assert.Equal(c == 1 ? $"{n} {h} {w}" : $"{n} {h} {w} {c}", File.ReadAllText(Path.Combine(dir, "shape.txt")));
        var inNumpy = File.ReadAllBytes(Path.Combine(dir, "pixels.raw"));
        var values = images.data<float>().ToArray();
        for (var i = 0; i < n; i++)
        for (var k = 0; k < c; k++)
        for (var y = 0; y < h; y++)
        for (var x = 0; x < w; x++)
        {
            var v = values[((i * c + k) * h + y) * w + x];
            var expected = (byte)Math.Clamp(Math.Round((v + 1.0) * 127.5, MidpointRounding.ToEven), 0, 255);
            var stored = inNumpy[((i * h + y) * w + x) * c + k];
            // float32 arithmetic may round a value within 1e-4 of a half-step the other way.
            Assert.True(stored == expected || (Math.Abs(stored - expected) == 1 && Math.Abs((v + 1.0) * 127.5 % 1 - 0.5) < 1e-4),
                $"image {i} ({k}, {y}, {x}): {v} stored as {stored}, expected {expected}, seed {seed}");
        }
        var inNumpyLabels = File.ReadAllBytes(Path.Combine(dir, "labels.raw"));
        Assert.Equal(labels, Enumerable.Range(0, n).Select(i => BitConverter.ToInt64(inNumpyLabels, 8 * i)));
    }

    [Fact]
    public void AsStoredIsTheUint8GridClampedToPlusMinusOne()
    {
        using var x = torch.randn([4096], generator: new Generator((ulong)seed)).mul_(1.5);
        using var stored = ImageSet.AsStored(x);
        var (v, s) = (x.data<float>().ToArray(), stored.data<float>().ToArray());
        for (var i = 0; i < v.Length; i++)
        {
            var step = (s[i] + 1.0) * 127.5;
            Assert.True(Math.Abs(step - Math.Round(step)) < 1e-3 && s[i] is >= -1 and <= 1, $"{v[i]} stored as {s[i]}, off the grid, seed {seed}");
            Assert.True(Math.Abs(s[i] - Math.Clamp(v[i], -1f, 1f)) <= 1 / 255.0 + 1e-6, $"{v[i]} stored as {s[i]}, seed {seed}");
        }
        using var again = ImageSet.AsStored(stored);
        Assert.Equal(s, again.data<float>().ToArray());
    }

    [Theory]
    [InlineData("np.save(d + '/x.npy', np.zeros((2, 4, 4), dtype=np.float32))", "expected uint8 images of shape (N, H, W) or (N, H, W, C), found float32 of shape (2, 4, 4)")]
    [InlineData("np.save(d + '/x.npy', np.zeros((4, 4), dtype=np.uint8))", "found uint8 of shape (4, 4)")]
    [InlineData("np.save(d + '/x.npy', np.zeros((2, 4, 4, 2), dtype=np.uint8))", "with 1 or 3 channels, found uint8 of shape (2, 4, 4, 2)")]
    [InlineData("np.save(d + '/x.npy', np.zeros((2, 3, 5, 5), dtype=np.uint8))", "found uint8 of shape (2, 3, 5, 5); channels first (N, C, H, W, as PyTorch keeps them) become channels last with x.transpose(0, 2, 3, 1)")]
    [InlineData("np.save(d + '/x.npy', np.zeros((2, 1, 28, 28), dtype=np.float64))", "found float64 of shape (2, 1, 28, 28); store images as they would be saved, e.g. floats in [0, 1] as np.round(x * 255).astype(np.uint8)")]
    [InlineData("np.save(d + '/x.npy', np.zeros((0, 4, 4), dtype=np.uint8))", "found uint8 of shape (0, 4, 4)")]
    [InlineData("np.save(d + '/x.npy', np.array([{'a': 1}], dtype=object), allow_pickle=True)", "is not a readable .npy file")]
    [InlineData("open(d + '/x.npy', 'wb').write(b'not numpy at all')", "is not a readable .npy file")]
    [InlineData("np.save(d + '/x.npy', np.zeros((3, 4, 4), dtype=np.uint8)); b = open(d + '/x.npy', 'rb').read(); open(d + '/x.npy', 'wb').write(b[:-5])", "is not a readable .npy file")]
    [InlineData("np.save(d + '/x.npy', np.zeros((3, 4, 4), dtype=np.uint8)); np.save(d + '/x.labels.npy', np.zeros(2, dtype=np.int64))", "x.labels.npy: expected 3 integer labels of shape (3,), found int64 of shape (2,)")]
    [InlineData("np.save(d + '/x.npy', np.zeros((3, 4, 4), dtype=np.uint8)); np.save(d + '/x.labels.npy', np.zeros(3, dtype=np.float64))", "found float64 of shape (3,)")]
    // A header that describes 10^15 bytes (past any machine's address space) over a 100-byte body.
    [InlineData("h = b\"{'descr': '|u1', 'fortran_order': False, 'shape': (1000000000000, 1000, 1), }\"; h += b' ' * (63 - (10 + len(h)) % 64) + b'\\n'; "
        + "open(d + '/x.npy', 'wb').write(b'\\x93NUMPY\\x01\\x00' + len(h).to_bytes(2, 'little') + h + bytes(100))", "its header asks for more memory than this machine has")]
    public void WhatDriftCannotJudgeIsRefusedNamingTheFile(string numpy, string message)
    {
        Numpy(numpy);
        var e = Assert.Throws<DataError>(() => NpyImages.Read(Path.Combine(dir, "x.npy")));
        Assert.Contains(message, e.Message);
        Assert.Contains(dir, e.Message);
        Assert.DoesNotContain("\n", e.Message);
    }
}
