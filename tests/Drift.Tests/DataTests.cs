using Drift.Data;
using Drift.Train.Output;
using TorchSharp;
using static Drift.Tests.Tensors;
using static TorchSharp.torch;

namespace Drift.Tests;

public class DataTests : IDisposable
{
    private readonly string scratch = Directory.CreateTempSubdirectory("drift-data-").FullName;

    public void Dispose() => Directory.Delete(scratch, recursive: true);

    [Theory]
    [MemberData(nameof(ToyNames))]
    public void ToySetsAreSeededAndTwoDimensional(string name)
    {
        var seed = (ulong)Tensors.Seed();
        var a = ToyDatasets.Sample(name, 500, new Generator(seed));
        var b = ToyDatasets.Sample(name, 500, new Generator(seed));
        var c = ToyDatasets.Sample(name, 500, new Generator(seed + 1));
        Assert.Equal([500L, 2L], a.shape);
        Assert.True(a.equal(b).all().item<bool>(), $"seed {seed}: same seed, different points");
        Assert.False(a.equal(c).all().item<bool>(), $"seed {seed}: different seeds, same points");
        Assert.True(torch.isfinite(a).all().item<bool>());
    }

    public static TheoryData<string> ToyNames => new(ToyDatasets.Names);

    [Fact]
    public void CheckerboardPointsLieOnTheDarkSquares()
    {
        var (g, seed) = Fresh();
        var p = ToArray(ToyDatasets.Sample("checkerboard", 2000, g));
        for (var i = 0; i < p.GetLength(0); i++)
        {
            Assert.InRange(p[i, 0], -4, 4);
            Assert.InRange(p[i, 1], -4, 4);
            var cell = (int)Math.Floor(p[i, 0] / 2) + (int)Math.Floor(p[i, 1] / 2);
            Assert.True(((cell % 2) + 2) % 2 == 0, $"seed {seed}: ({p[i, 0]}, {p[i, 1]}) on a light square");
        }
    }

    [Fact]
    public void PinwheelPointsLieOnTheirArms()
    {
        // Undo the construction: radius ≈ the radial coordinate (the 0.05 across it changes it by ~1e-3), so the
        // angle less 0.25·e^radius is a multiple of 2π/5 up to the across offset, whose distance from the arm's axis
        // is N(0, 0.05²): beyond 0.2 (4 sd) only for the few points of negative radial coordinate (0.04 %).
        var (g, seed) = Fresh();
        var p = ToArray(ToyDatasets.Sample("pinwheel", 4000, g));
        var radii = new List<double>();
        var off = 0;
        for (var i = 0; i < p.GetLength(0); i++)
        {
            var (x, y) = (p[i, 0] / 2, p[i, 1] / 2);
            var r = Math.Sqrt(x * x + y * y);
            radii.Add(r);
            var residual = Math.IEEERemainder(Math.Atan2(y, x) - 0.25 * Math.Exp(r), 2 * Math.PI / 5);
            if (Math.Abs(r * Math.Sin(residual)) > 0.2) off++;
        }
        var mean = radii.Average();
        var std = Math.Sqrt(radii.Sum(r => (r - mean) * (r - mean)) / (radii.Count - 1));
        Assert.True(off < 10, $"seed {seed}: {off} of 4000 points off their arms");
        Assert.True(Math.Abs(mean - 1) < 0.03 && Math.Abs(std - 0.3) < 0.03, $"seed {seed}: radius {mean} ± {std}, want 1 ± 0.3");
    }

    [Fact]
    public void MixturePointsStayNearTheirCentres()
    {
        var (g, seed) = Fresh();
        foreach (var (name, std) in new[] { ("8gaussians", 0.35), ("25gaussians", 0.1) })
        {
            var centers = ToyDatasets.Centers(name)!;
            var p = ToArray(ToyDatasets.Sample(name, 2000, g));
            var hits = new int[centers.GetLength(0)];
            for (var i = 0; i < p.GetLength(0); i++)
            {
                var best = Enumerable.Range(0, centers.GetLength(0))
                    .MinBy(k => Math.Pow(p[i, 0] - centers[k, 0], 2) + Math.Pow(p[i, 1] - centers[k, 1], 2));
                var dist = Math.Sqrt(Math.Pow(p[i, 0] - centers[best, 0], 2) + Math.Pow(p[i, 1] - centers[best, 1], 2));
                Assert.True(dist < 6 * std, $"seed {seed}: {name} point {dist} from its nearest centre");
                hits[best]++;
            }
            Assert.True(hits.All(h => h > 0), $"seed {seed}: {name} left a component empty");
        }
    }

    /// <summary>A header names the columns where it has one distinct, non-empty name per column; one of other names is
    /// skipped as before, leaving the columns unnamed.</summary>
    [Fact]
    public void CsvWithHeaderAnyDimension()
    {
        var path = TempFile("a,b,c,d\n1,2,3,4\n\n5.5, -6e-1 ,7,8\n");
        var (points, columns) = CsvPoints.Read(path);
        Assert.Equal(new float[,] { { 1, 2, 3, 4 }, { 5.5f, -0.6f, 7, 8 } }, points);
        Assert.Equal(["a", "b", "c", "d"], columns!);
        // An unnamed first column that does not number the rows from 0 is the data's.
        (points, columns) = CsvPoints.Read(TempFile(",a\n1,2\n2,3\n"));
        Assert.Equal(new float[,] { { 1, 2 }, { 2, 3 } }, points);
        Assert.Null(columns);
        var (single, unnamed) = CsvPoints.Read(TempFile("1\n2\n3\n"));
        Assert.Equal(new float[,] { { 1 }, { 2 }, { 3 } }, single);
        Assert.Null(unnamed);
        foreach (var header in new[] { "a,b,c", "a,a", "a,", "\"a\"\"\",\"\"" })
        {
            var (read, none) = CsvPoints.Read(TempFile($"{header}\n1,2\n3,4\n"));
            Assert.Equal(new float[,] { { 1, 2 }, { 3, 4 } }, read);
            Assert.True(none is null, $"header {header} named the columns {string.Join('|', none ?? [])}");
        }
    }

    /// <summary>A header is read as UTF-8, with or without a byte-order mark; in Latin-1 (Excel's plain CSV on Windows) or
    /// UTF-16 the file is refused, naming the encoding, instead of naming the columns with replacement characters.</summary>
    [Fact]
    public void CsvHeadersAreUtf8AndOtherEncodingsAreRefused()
    {
        const string text = "température,durée\n1,2\n3,4\n";
        string Written(byte[] bytes)
        {
            var path = Path.Combine(scratch, $"{Guid.NewGuid():N}.csv");
            File.WriteAllBytes(path, bytes);
            return path;
        }
        foreach (var utf8 in new[] { new System.Text.UTF8Encoding(false), new System.Text.UTF8Encoding(true) })
        {
            var (points, columns) = CsvPoints.Read(Written([.. utf8.GetPreamble(), .. utf8.GetBytes(text)]));
            Assert.Equal(new float[,] { { 1, 2 }, { 3, 4 } }, points);
            Assert.Equal(["température", "durée"], columns!);
        }
        var latin1 = Written(System.Text.Encoding.Latin1.GetBytes(text));
        var e = Assert.Throws<DataError>(() => CsvPoints.Read(latin1));
        Assert.Equal($"data file {latin1} is not UTF-8 text: line 1 holds the byte 0xE9 (Latin-1 and Windows-1252 text write accented letters so); "
            + "save it as UTF-8 (in Excel, as \"CSV UTF-8\")", e.Message);
        // Further down, the line is counted.
        e = Assert.Throws<DataError>(() => CsvPoints.Read(Written([.. "a,b\n1,2\n"u8, .. System.Text.Encoding.Latin1.GetBytes("3,4 é\n")])));
        Assert.Contains("line 3 holds the byte 0xE9", e.Message);
        foreach (var utf16 in new[] { System.Text.Encoding.Unicode, System.Text.Encoding.BigEndianUnicode })
        {
            e = Assert.Throws<DataError>(() => CsvPoints.Read(Written([.. utf16.GetPreamble(), .. utf16.GetBytes(text)])));
            Assert.EndsWith("is UTF-16 text (as Excel's \"Unicode Text\" writes); save it as UTF-8", e.Message);
        }
    }

    /// <summary>NumPy's savetxt writes its header as a comment ("# lon,lat,depth"), which its loadtxt skips: the columns are
    /// named by it (they were "#lon", carried into config.json and every samples CSV), and every value is loadtxt's, with
    /// comma and space separators, a comment in words above it, or above a plain header; a comment that names no columns
    /// names none.</summary>
    [Fact]
    public void CsvReadsNumPyCommentsAndSavetxtHeaders()
    {
        var dir = Directory.CreateDirectory(Path.Combine(scratch, Guid.NewGuid().ToString("N"))).FullName;
        string[] files = ["comma.csv", "space.txt", "words.csv", "above.csv", "unnamed.csv"];
        NumpyScript.Run(dir, """
            rng = np.random.default_rng()
            a = rng.normal(size=(50, 3)) * rng.uniform(0.1, 10, size=3)
            np.savetxt(d + "/comma.csv", a, delimiter=",", header="lon,lat,depth")
            np.savetxt(d + "/space.txt", a, header="lon lat depth")
            np.savetxt(d + "/words.csv", a, delimiter=",", header="surveyed in 2026\nlon,lat,depth")
            with open(d + "/above.csv", "w") as f:
                f.write("# from the field notes\nlon,lat,depth\n")
                np.savetxt(f, a, delimiter=",")
            np.savetxt(d + "/unnamed.csv", a, delimiter=",", header="surveyed in 2026")
            for name in ["comma.csv", "space.txt", "words.csv", "above.csv", "unnamed.csv"]:
                skip = 2 if name == "above.csv" else 0
                np.save(d + "/" + name + ".npy", np.loadtxt(d + "/" + name, delimiter="," if name.endswith(".csv") else None, skiprows=skip).astype(np.float32))
            """);
        Assert.StartsWith("# surveyed in 2026\n# lon,lat,depth\n", File.ReadAllText(Path.Combine(dir, "words.csv")));
        foreach (var file in files)
        {
            var (points, columns) = CsvPoints.Read(Path.Combine(dir, file));
            var reference = NpyPoints.Read(Path.Combine(dir, file + ".npy"));
            Assert.Equal(reference.GetLength(0), points.GetLength(0));
            Assert.Equal(reference.GetLength(1), points.GetLength(1));
            // loadtxt reads float64 and then rounds to float32: a value may land one float32 step away.
            for (var i = 0; i < points.GetLength(0); i++)
                for (var j = 0; j < points.GetLength(1); j++)
                    Assert.True(Math.Abs(points[i, j] - reference[i, j]) <= 1e-6 * Math.Abs(reference[i, j]), $"{file} [{i},{j}]: {points[i, j]} vs {reference[i, j]}");
            if (file == "unnamed.csv") Assert.Null(columns);
            else Assert.Equal(["lon", "lat", "depth"], columns!);
        }
        // Further down, a line starting with '#' is not a comment: Excel writes #N/A for a missing value, and the row
        // would be lost without a word.
        var missing = Path.Combine(dir, "missing.csv");
        File.WriteAllText(missing, "# exported\nx,y\n1,2\n#N/A,3\n4,5\n");
        Assert.Equal($"{missing}:4: not a row of numbers: '#N/A,3'", Assert.Throws<DataError>(() => CsvPoints.Read(missing)).Message);
    }

    [Fact]
    public void CsvRoundTripsThroughWrite()
    {
        var (g, _) = Fresh();
        var points = Drift.Data.PointData.ToArray(torch.randn([20, 3], generator: g));
        var path = Path.Combine(scratch, $"{Guid.NewGuid():N}.csv");
        PointFiles.Csv(path, points);
        var (read, columns) = CsvPoints.Read(path);
        Assert.Equal(points, read);
        Assert.Equal(["x0", "x1", "x2"], columns!);
        // Names with the separator and quotes in them are quoted.
        string[] names = ["longitude", "latitude, north", "\"depth\""];
        PointFiles.Csv(Path.ChangeExtension(path, ".named.csv"), points, names);
        (read, columns) = CsvPoints.Read(Path.ChangeExtension(path, ".named.csv"));
        Assert.Equal(points, read);
        Assert.Equal(names, columns!);
    }

    /// <summary>Files other tools write: semicolons, tabs, pipes or single spaces (NumPy's savetxt default) between the
    /// values, quoted values (spreadsheets), Windows line ends; each with and without a header. Random values written
    /// as .NET writes floats back exactly ("R"); the header's names (quoted when values are) read back.</summary>
    [Theory]
    [InlineData(";", false, "\n")]
    [InlineData("\t", true, "\n")]
    [InlineData("|", true, "\r\n")]
    [InlineData(" ", false, "\n")]
    [InlineData(" ", true, "\r\n")]
    [InlineData(",", true, "\r\n")]
    public void CsvReadsOtherSeparatorsAndQuotedValues(string separator, bool quoted, string lineEnd)
    {
        var seed = Seed();
        var random = new Random(seed);
        var (n, d) = (random.Next(1, 30), random.Next(1, 5));
        var points = new float[n, d];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < d; j++)
                points[i, j] = (float)((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-6, 7)));
        string Cell(string v) => quoted ? $"\"{v}\"" : v;
        foreach (var header in new[] { false, true })
        {
            var lines = Enumerable.Range(0, n).Select(i => string.Join(separator,
                Enumerable.Range(0, d).Select(j => Cell(points[i, j].ToString("R", System.Globalization.CultureInfo.InvariantCulture)))));
            var names = Enumerable.Range(0, d).Select(j => $"c{j}_{random.Next(1000)}").ToArray();
            if (header) lines = lines.Prepend(string.Join(separator, names.Select(Cell)));
            var (read, columns) = CsvPoints.Read(TempFile(string.Join(lineEnd, lines) + lineEnd));
            Assert.True(points.Cast<float>().SequenceEqual(read.Cast<float>()), $"seed {seed}: separator '{separator}', quoted {quoted}, header {header}");
            Assert.Equal(header ? names : null, columns);
        }
    }

    [Theory]
    [InlineData("1,2\n3,x\n", ":2: not a row of numbers")]
    [InlineData("1,2\n3,4,5\n", ":2: 3 columns where earlier rows have 2")]
    [InlineData("x,y\n", "no rows of numbers")]
    [InlineData("", "no rows of numbers")]
    [InlineData("1,2\nNaN,4\n", ":2: non-finite value")]
    [InlineData("NaN,4\n1,2\n", ":1: non-finite value")]
    [InlineData("1,2\n3,inf\n", ":2: non-finite value")]
    [InlineData("x y\n1 2\n-inf 3\n", ":3: non-finite value")]
    [InlineData("1 2\n3  4\n", ":2: not a row of numbers")]
    [InlineData("\n\n1;2\n3;x\n", ":4: not a row of numbers")]
    [InlineData("a,b\nc,d\n", ":2: not a row of numbers")]
    [InlineData("x;y\n0,5;-1,25\n", ":2: not a row of numbers: '0,5;-1,25'; write decimals with a point (1.5, not 1,5)")]
    [InlineData("0,25\t3,5\n1,5\t-2,75\n", ":2: not a row of numbers: '1,5\t-2,75'; write decimals with a point")]
    [InlineData(",a,b\n0,1.5,2\n1,3,4\n2,-5,6\n", ": its first column, unnamed, numbers the rows 0, 1, 2, ...: a pandas index")]
    [InlineData("\"Unnamed: 0\";a\n0;5\n1;6\n", ": its first column, 'Unnamed: 0', numbers the rows")]
    public void CsvProblemsNameTheFileAndLine(string text, string message)
    {
        var path = TempFile(text);
        var e = Assert.Throws<DataError>(() => CsvPoints.Read(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void MissingCsvAndUnknownNamesAreDataErrors()
    {
        Assert.Contains("not found", Assert.Throws<DataError>(() => CsvPoints.Read("/nonexistent/points.csv")).Message);
        Assert.Contains("unknown dataset 'spiral'", Assert.Throws<DataError>(() => PointData.Load("spiral", 100, true)).Message);
        Assert.Contains("not found", Assert.Throws<DataError>(() => PointData.Load("/nonexistent/p.csv", 100, true)).Message);
    }

    [Fact]
    public void CsvDataHoldsOutAFifthAndStandardisesOnTheRest()
    {
        var (g, seed) = Fresh();
        var raw = Drift.Data.PointData.ToArray(torch.randn([100, 3], generator: g) * 5 + 10);
        var path = Path.Combine(scratch, $"{Guid.NewGuid():N}.csv");
        PointFiles.Csv(path, raw);
        var data = PointData.Load(path, 1000, standardize: true);
        Assert.Equal(3, data.Dim);
        Assert.Equal(20, data.HeldOut.shape[0]);
        Assert.Equal(20, data.Reference.shape[0]);
        // Training draws, standardised, come out with mean ≈ 0 and std ≈ 1.
        var train = data.Sample(20000, g);
        Assert.True(train.mean([0]).abs().max().item<float>() < 0.05, $"seed {seed}");
        Assert.True((train.std(0) - 1).abs().max().item<float>() < 0.05, $"seed {seed}");
    }

    [Fact]
    public void StandardizerFitsMeanAndStdAndRoundTrips()
    {
        var (g, seed) = Fresh();
        var x = torch.randn([500, 2], generator: g) * torch.tensor(new float[] { 3, 0.5f }) + torch.tensor(new float[] { -1, 4 });
        var s = Standardizer.Fit(x);
        var xs = ToArray(x);
        for (var k = 0; k < 2; k++)
        {
            var col = Enumerable.Range(0, 500).Select(i => xs[i, k]).ToArray();
            var mean = col.Average();
            var std = Math.Sqrt(col.Sum(v => (v - mean) * (v - mean)) / 499);
            Assert.Equal(mean, s.Mean[k], 4);
            Assert.Equal(std, s.Std[k], 4);
        }
        Assert.True((s.Denormalize(s.Normalize(x)) - x).abs().max().item<float>() < 1e-5, $"seed {seed}");
    }

    private string TempFile(string text)
    {
        var path = Path.Combine(scratch, $"{Guid.NewGuid():N}.csv");
        File.WriteAllText(path, text);
        return path;
    }
}
