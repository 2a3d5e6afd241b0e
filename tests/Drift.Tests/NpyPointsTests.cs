using Drift.Data;
using Drift.Train.Output;

namespace Drift.Tests;

/// <summary>.npy points against NumPy itself: arrays NumPy writes (floats of either width, integers, C or Fortran order)
/// load as NumPy holds them, points Drift writes load in NumPy bit for bit, and what is no set of points is refused in
/// one line naming the file.</summary>
public sealed class NpyPointsTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("drift-npy-points-").FullName;
    private readonly int seed = Tensors.Seed();
    private readonly Random random;

    public NpyPointsTests() => random = new Random(seed);

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private string At(string name) => Path.Combine(dir, name);

    /// <summary>Random float64 values (spread over many magnitudes) go to NumPy as raw bytes; NumPy casts them to the
    /// dtype and saves them in the order asked; Drift must read the float32 of what NumPy saved.</summary>
    [Theory]
    [InlineData("float64", false)]
    [InlineData("float64", true)]
    [InlineData("float32", true)]
    [InlineData("float16", false)]
    [InlineData("int32", false)]
    [InlineData("int64", true)]
    [InlineData("dtype('>f8')", false)]
    public void PointsNumpyWritesLoadAsNumpyHoldsThem(string dtype, bool fortranOrder)
    {
        var (n, d) = (random.Next(1, 40), random.Next(1, 6));
        var values = Enumerable.Range(0, n * d).Select(_ => (random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-3, 6))).ToArray();
        File.WriteAllBytes(At("values.raw"), values.SelectMany(BitConverter.GetBytes).ToArray());
        NumpyScript.Run(dir, $"""
            a = np.fromfile(d + '/values.raw', dtype=np.float64).reshape({n}, {d}).astype(np.{dtype})
            assert {(dtype.StartsWith("dtype('>") ? "a.dtype.byteorder == '>'" : "True")}
            np.save(d + '/x.npy', np.asfortranarray(a) if {(fortranOrder ? "True" : "False")} else a)
            """);

        var read = NpyPoints.Read(At("x.npy"));
        Assert.Equal([n, d], new[] { read.GetLength(0), read.GetLength(1) });
        for (var i = 0; i < n; i++)
            for (var j = 0; j < d; j++)
            {
                var v = values[i * d + j];
                // NumPy's casts: to float32 or float16 rounds to nearest; to an integer truncates toward zero.
                var expected = dtype switch { "float16" => (float)(Half)v, _ when dtype.StartsWith("int") => (float)Math.Truncate(v), _ => (float)v };
                Assert.True(expected == read[i, j], $"seed {seed}: ({i}, {j}) read {read[i, j]:R}, NumPy holds {expected:R}");
            }
    }

    [Fact]
    public void PointsDriftWritesLoadInNumpyBitForBit()
    {
        var (n, d) = (random.Next(1, 50), random.Next(1, 5));
        var points = new float[n, d];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < d; j++)
                points[i, j] = (float)((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-3, 6)));
        PointFiles.Npy(At("x.npy"), points);
        NumpyScript.Run(dir, $"""
            a = np.load(d + '/x.npy')
            assert a.dtype == np.float32 and a.shape == ({n}, {d}), (a.dtype, a.shape)
            a.tofile(d + '/back.raw')
            """);
        var back = File.ReadAllBytes(At("back.raw"));
        var expected = new byte[n * d * sizeof(float)];
        Buffer.BlockCopy(points, 0, expected, 0, expected.Length);
        Assert.Equal(expected, back);
        Assert.Equal(points, NpyPoints.Read(At("x.npy")));
    }

    /// <summary>The same points from a .npy file and from a CSV file are the same data: the same split, held-out points
    /// and fingerprint.</summary>
    [Fact]
    public void ANpyFileAndACsvFileOfTheSamePointsAreTheSameData()
    {
        var points = new float[random.Next(30, 200), 2];
        for (var i = 0; i < points.GetLength(0); i++)
            for (var j = 0; j < 2; j++)
                points[i, j] = (float)(random.NextDouble() * 10 - 5);
        PointFiles.Npy(At("p.npy"), points);
        PointFiles.Csv(At("p.csv"), points);
        var (npy, csv) = (PointData.Load(At("p.npy"), 100, standardize: true), PointData.Load(At("p.csv"), 100, standardize: true));
        Assert.Equal(csv.Fingerprint, npy.Fingerprint);
        Assert.True(csv.HeldOut.equal(npy.HeldOut).all().item<bool>(), $"seed {seed}");
        Assert.Equal(csv.Scale.Mean, npy.Scale.Mean);
    }

    [Theory]
    [InlineData("np.zeros(5)", "found float64 of shape (5,); one value a point is shape (N, 1)")]
    [InlineData("np.zeros((3, 2, 2))", "found float64 of shape (3, 2, 2)")]
    [InlineData("np.zeros((0, 2))", "found float64 of shape (0, 2)")]
    [InlineData("np.ones((4, 2), dtype=bool)", "found bool of shape (4, 2)")]
    public void WhatIsNoSetOfPointsIsRefusedInOneLine(string array, string expected)
    {
        NumpyScript.Run(dir, $"np.save(d + '/x.npy', {array})");
        var e = Assert.Throws<DataError>(() => NpyPoints.Read(At("x.npy")));
        Assert.StartsWith($"{At("x.npy")}: expected points as a 2-D array (N, d)", e.Message);
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData("np.nan", "a non-finite value (NaN)")]
    [InlineData("-np.inf", "a non-finite value (-Infinity)")]
    [InlineData("3e20", "3e+20, beyond ±1e+15")]
    public void ABadValueIsNamedWithItsRow(string value, string expected)
    {
        var n = random.Next(2, 30);
        var row = random.Next(n);
        NumpyScript.Run(dir, $"a = np.ones(({n}, 2)); a[{row}, {random.Next(2)}] = {value}; np.save(d + '/x.npy', a)");
        var e = Assert.Throws<DataError>(() => NpyPoints.Read(At("x.npy")));
        Assert.StartsWith($"{At("x.npy")}: row {row} holds {expected}", e.Message);
    }
}
