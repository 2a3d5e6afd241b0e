using System.Globalization;
using System.Diagnostics;
using System.Security.Cryptography;
using Drift.Train.RunFolders;
using Drift.Train.Training.Points;

namespace Drift.Tests;

/// <summary>The drift program as a user meets it: bad input gives one line on stderr, a non-zero exit,
/// and leaves what was saved untouched.</summary>
public class CliTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("drift-cli-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    internal static (int Code, string Out, string Err) Run(params string[] args) => DriftProcess.Run(args);

    private static void AssertOneLineError(string[] args, string expected)
    {
        var (code, stdout, stderr) = Run(args);
        Assert.True(code != 0, $"exit 0 for {string.Join(' ', args)}");
        var lines = stderr.Trim().Split('\n');
        Assert.True(lines.Length == 1, $"stderr for {string.Join(' ', args)} has {lines.Length} lines:\n{stderr}");
        Assert.StartsWith("drift: error:", lines[0]);
        Assert.Contains(expected, lines[0]);
        Assert.DoesNotContain("   at ", stdout + stderr);
    }

    private string TempDir() => Directory.CreateDirectory(Path.Combine(root, Guid.NewGuid().ToString("N"))).FullName;

    [Theory]
    [InlineData("unknown dataset 'spiral'", "train", "--data", "spiral")]
    [InlineData("data file not found", "train", "--data", "/nonexistent/points.csv")]
    [InlineData("--eta must be positive", "train", "--eta", "0")]
    [InlineData("--eta must be positive", "train", "--eta", "-1")]
    [InlineData("--bandwidth must be positive", "train", "--bandwidth", "0.1", "0")]
    [InlineData("--temperature must be positive", "train", "--field", "laplace", "--temperature", "-0.5")]
    [InlineData("--bandwidth must be positive", "train", "--field", "sinkhorn", "--bandwidth", "-1")]
    [InlineData("--temperature is read only by the laplace field", "train", "--temperature", "0.1")]
    [InlineData("--bandwidth is read only by the conservative, sinkhorn and mmd fields", "train-images", "--field", "laplace", "--bandwidth", "0.1")]
    [InlineData("--self-term is read only by the conservative and mmd fields", "train", "--field", "sinkhorn", "--self-term", "include")]
    [InlineData("--temperature is read only by the laplace field; none of --fields reads it", "compare", "--fields", "conservative,sinkhorn", "--temperature", "0.1")]
    [InlineData("--self-term is read only by the conservative and mmd fields; none of --fields reads it", "compare-images", "--fields", "laplace", "sinkhorn", "--self-term", "exclude")]
    [InlineData("--unconditional-negatives is read only with guidance (--guidance-max above 1)", "train-images", "--unconditional-negatives", "8")]
    [InlineData("--encoder is read only by the encoder's feature spaces", "train-images", "--encoder", "/nonexistent/encoder")]
    [InlineData("--classes-per-step is read only by a conditional generator (--conditional true)", "compare-images", "--conditional", "false", "--classes-per-step", "3")]
    [InlineData("--classes-per-step 11 is more than the 10 classes of fashion-mnist", "train-images", "--classes-per-step", "11", "--steps", "1")]
    [InlineData("the sinkhorn field takes no guidance negatives", "train-images", "--field", "sinkhorn", "--guidance-max", "2")]
    [InlineData("--through-field is an ablation of the conservative field", "train", "--field", "laplace", "--through-field")]
    [InlineData("--gaussian-kernel is a variant of the laplace field, not of conservative", "train", "--gaussian-kernel")]
    [InlineData("--rows-only is a variant of the laplace field, not of sinkhorn", "train-images", "--field", "sinkhorn", "--rows-only")]
    [InlineData("--cross-weights false is a variant of the laplace field, not of mmd", "train", "--field", "mmd", "--cross-weights", "false")]
    [InlineData("over rows only it has no cross weights: give --rows-only false with it", "train-images", "--field", "laplace", "--cross-weights", "false")]
    [InlineData("--sinkhorn-iterations caps the sinkhorn field's plans, not the laplace field's", "train-images", "--field", "laplace", "--sinkhorn-iterations", "10")]
    [InlineData("--sinkhorn-iterations must be between 0 and 100000", "train", "--field", "sinkhorn", "--sinkhorn-iterations", "-1")]
    [InlineData("--steps must be at least 1", "train", "--steps", "0")]
    [InlineData("--batch must be between 2 and 4194304", "train", "--batch", "0")]
    [InlineData("--batch must be between 2 and 4194304", "train", "--batch", "100000000")]
    [InlineData("this run needs at least", "train", "--batch", "4000000", "--width", "16384", "--depth", "64")]
    [InlineData("unknown device 'tpu'", "train", "--device", "tpu")]
    [InlineData("no CUDA libtorch could be loaded", "train", "--device", "cuda")]
    [InlineData("unknown field 'curl'", "train", "--field", "curl")]
    [InlineData("'abc'", "train", "--steps", "abc")]
    [InlineData("unknown command 'trian'; the commands are train, train-images, sample,", "trian", "--steps", "5")]
    [InlineData("no command given; the commands are train, train-images, sample,")]
    [InlineData("no command given before --data; the commands are train,", "--data", "moons")]
    [InlineData("drift train-images has no option --feature; did you mean --features? (see drift train-images --help)", "train-images", "--feature", "pixels")]
    [InlineData("drift train has no option --banana (see drift train --help)", "train", "--banana", "3")]
    [InlineData("drift train has no option --stesp; did you mean --steps?", "train", "--stesp", "3")]
    [InlineData("--standardize takes true or false (or nothing, for true), got 'maybe'", "train", "--standardize", "maybe")]
    [InlineData("--steps takes one value, and 'extra' is one more", "train", "--steps", "5", "extra")]
    [InlineData("--seeds takes one value, and '3' is one more (see drift compare --help)", "compare", "--seeds", "2", "3")]
    [InlineData("--batch is given twice; give it once (see drift train --help)", "train", "--batch", "32", "--steps", "3", "--batch", "1")]
    [InlineData("--n is given 3 times; give it once", "sample", "--checkpoint", "x", "--out", "x.csv", "--n", "1", "--n", "2", "--n", "3")]
    [InlineData("unknown field 'curl'", "compare", "--fields", "conservative", "curl")]
    [InlineData("--out is required (see drift export --help)", "export", "--checkpoint", "x")]
    [InlineData("--fields needs a value (see drift compare --help)", "compare", "--seeds", "1", "--fields")]
    [InlineData("unknown format 'pdf'", "export", "--checkpoint", "x", "--out", "y", "--format", "onnx,web", "pdf")]
    [InlineData("drift sample takes options only, and 'run' follows none that takes it", "sample", "run", "--out", "x.csv")]
    [InlineData("--seed takes a whole number, got '1e3' (see drift sample --help)", "sample", "--checkpoint", "x", "--out", "x.csv", "--seed", "1e3")]
    [InlineData("--n takes a whole number, got '1e3' (see drift sample --help)", "sample", "--checkpoint", "x", "--out", "x.csv", "--n", "1e3")]
    [InlineData("--n takes a whole number of at most 2147483647, got '3000000000'", "sample", "--checkpoint", "x", "--out", "x.csv", "--n", "3000000000")]
    [InlineData("--steps takes a whole number of at least -2147483648, got '-9999999999'", "train", "--steps", "-9999999999")]
    [InlineData("--temperature needs a value before --steps", "train", "--field", "laplace", "--temperature", "--steps", "2")]
    [InlineData("--steps needs a value before --bandwidth", "train", "--steps", "--bandwidth", "1")]
    [InlineData("--out needs a value before --n", "sample", "--checkpoint", "/nonexistent/run", "--out", "--n", "3")]
    [InlineData("--classifier needs a value before --n", "eval", "--classifier", "--n", "10", "--checkpoint", "/nonexistent/run")]
    [InlineData("--features needs a value before --steps", "train-images", "--features", "--steps", "1")]
    [InlineData("unknown device 'cuda:x'", "train", "--device", "cuda:x")]
    [InlineData("--device cuda:1: no CUDA libtorch could be loaded", "train", "--device", "cuda:1")]
    [InlineData("config file not found", "train", "--config", "/nonexistent/run.json")]
    [InlineData("checkpoint folder not found", "sample", "--checkpoint", "/nonexistent/run", "--out", "/tmp/x.csv")]
    [InlineData("run folder not found", "train", "--resume", "/nonexistent/run")]
    [InlineData("use a .csv, .png or .npy file", "sample", "--checkpoint", "/nonexistent/run", "--out", "/tmp/x.txt")]
    [InlineData("checkpoint folder not found", "eval", "--checkpoint", "/nonexistent/run")]
    [InlineData("--noise-scale must be positive and at most 10", "sample", "--checkpoint", "/nonexistent/run", "--out", "/tmp/x.csv", "--noise-scale", "-1")]
    [InlineData("--noise-scale must be positive and at most 10", "eval", "--checkpoint", "/nonexistent/run", "--noise-scale", "11")]
    [InlineData("unknown field 'curl'", "particles", "--field", "curl")]
    [InlineData("--n must be between 2 and 65536", "particles", "--n", "1")]
    [InlineData("--n must be between 2 and 65536", "particles", "--n", "10000000")]
    [InlineData("--time 1000000000 at step size 0.1 is 1e+10 steps, past the 10,000,000 a run may take", "particles", "--field", "laplace", "--time", "1e9")]
    [InlineData("--time must be positive", "particles", "--time", "0")]
    [InlineData("--tf32 is for CUDA devices (--device cuda); on the CPU every matmul is float32", "check", "--tf32")]
    [InlineData("--tf32 is for CUDA devices (--device cuda)", "bench", "--tf32", "--image-steps", "none")]
    [InlineData("--temperature is read only by the laplace field", "particles", "--temperature", "0.1")]
    [InlineData("--self-term is read only by the conservative and mmd fields", "particles", "--field", "laplace", "--self-term", "exclude")]
    [InlineData("--spacing is read only with --target line", "particles", "--spacing", "3")]
    [InlineData("--anneal-time is read only with --anneal", "particles", "--anneal-time", "1")]
    [InlineData("--bandwidth-scale is read only by the automatic bandwidth (no --bandwidth)", "particles", "--bandwidth", "0.3", "--bandwidth-scale", "2")]
    [InlineData("--dims is read only by a rate study (--sweep-n)", "particles", "--dims", "1,2")]
    [InlineData("--n is not read by a rate study: --sweep-n and --dims set its runs' sizes", "particles", "--sweep-n", "8,16", "--n", "64")]
    [InlineData("--beta must be in [0, 2)", "particles", "--beta", "2")]
    [InlineData("unknown target 'cube'", "particles", "--target", "cube")]
    [InlineData("--modes must be between 1 and 1024", "particles", "--target", "line", "--modes", "0")]
    [InlineData("the laplace field is a displacement already", "particles", "--field", "laplace", "--displacement")]
    [InlineData("--spacing must be positive", "particles", "--target", "line", "--spacing", "-1")]
    [InlineData("--anneal-time must be 0 (automatic) or positive", "particles", "--anneal-time", "-2")]
    [InlineData("--sweep-n takes integers from 2 to 65536, separated by commas or spaces, got '64,abc'", "particles", "--sweep-n", "64,abc")]
    [InlineData("--sweep-n takes integers from 2 to 65536, separated by commas or spaces, got '64 1000000'", "particles", "--sweep-n", "64", "1000000")]
    [InlineData("is not an integer from 1 to 262144", "bench", "--sizes", "1000000x64x2")]
    [InlineData("--sizes takes NxMxd triples", "bench", "--sizes", "64x64")]
    [InlineData("--anneal must be between 0 and 100", "train", "--anneal", "-1")]
    [InlineData("separate several values with spaces, not commas", "train", "--bandwidth", "1,2")]
    [InlineData("--lr must be positive and at most 1e+30", "train", "--lr", "1e300")]
    [InlineData("image data folder not found", "train-images", "--data", "/nonexistent/images")]
    [InlineData("is image data: train on it with drift train-images", "train", "--data", "/tmp")]
    [InlineData("unknown feature space 'median2'", "train-images", "--features", "pixels", "median2")]
    [InlineData("--features encoder-map2 needs --encoder DIR", "train-images", "--features", "pixels", "encoder-map2")]
    [InlineData("unknown encoder space 'encoder-map0': use encoder or encoder-mapK", "train-images", "--features", "encoder-map0")]
    [InlineData("unknown encoder space 'encoder-map1-median2'", "train-images", "--features", "encoder-map1-median2")]
    [InlineData("--guidance-max must be between 1 and 100", "train-images", "--guidance-max", "0.5")]
    [InlineData("--ema must be in [0, 1)", "train-images", "--ema", "1")]
    [InlineData("--class-batch must be between 2 and 65536", "train-images", "--class-batch", "1")]
    [InlineData("--class-batch must be between 2 and 65536", "train-images", "--class-batch", "100000000")]
    [InlineData("this run needs at least", "train-images", "--class-batch", "65536", "--width", "4096")]
    [InlineData("--image-size must be between 8 and 512", "train-images", "--image-size", "0")]
    [InlineData("--image-size must be between 8 and 512", "classifier", "--image-size", "0")]
    [InlineData("--image-steps takes WIDTHxCLASS_BATCH pairs", "bench", "--image-steps", "64")]
    [InlineData("config file not found: /nonexistent", "bench", "--image-steps", "none", "--image-config", "/nonexistent")]
    [InlineData("--epochs must be between 1 and 1000", "classifier", "--epochs", "0")]
    [InlineData("--out f.txt: use a .png or .csv file", "field", "--out", "f.txt")]
    [InlineData("unknown format 'pytorch': PyTorch loads the safetensors export", "export", "--checkpoint", "/nonexistent", "--out", "x", "--format", "onnx,pytorch")]
    [InlineData("--temperature is read only by the laplace field; none of --fields reads it", "field", "--fields", "conservative,mmd", "--temperature", "0.1", "--out", "f.csv")]
    [InlineData("--bandwidth must be positive", "field", "--bandwidth", "0.5", "-1", "--out", "f.csv")]
    [InlineData("drift compare has no option --field; did you mean --fields?", "compare", "--field", "laplace")]
    [InlineData("drift compare-images has no option --field; did you mean --fields?", "compare-images", "--field", "laplace")]
    [InlineData("--n must be between 2 and 4096", "field", "--n", "1", "--out", "f.csv")]
    [InlineData("--n must be between 2 and 4096", "field", "--n", "4097", "--out", "f.csv")]
    [InlineData("--step: only with --checkpoint", "field", "--step", "5", "--out", "f.csv")]
    [InlineData("unknown field 'curl'", "field", "--fields", "conservative,curl", "--out", "f.csv")]
    public void BadInputIsOneLineAndNonZero(string expected, params string[] args) => AssertOneLineError(args, expected);

    [Fact]
    public void OutputLocationsAreCheckedBeforeAnyWork()
    {
        var file = Path.Combine(TempDir(), "a-file");
        File.WriteAllText(file, "keep me");
        AssertOneLineError(["train", "--out", file], "is a file, not a folder");
        AssertOneLineError(["classifier", "--out", file], "is a file, not a folder");
        AssertOneLineError(["particles", "--out", file], "is a file, not a folder");
        AssertOneLineError(["bench", "--out", Path.Combine(file, "bench.md")], "is a file, not a folder");
        var run = Path.Combine(TempDir(), "run");
        var (code, _, err) = Run(["train", "--data", "moons", "--steps", "2", "--batch", "32", "--width", "16", "--eval-samples", "100", "--out", run]);
        Assert.True(code == 0, err);
        AssertOneLineError(["sample", "--checkpoint", run, "--out", Path.Combine(file, "s.csv")], "is a file, not a folder");
        AssertOneLineError(["eval", "--checkpoint", run, "--out", Path.Combine(file, "eval.json")], "is a file, not a folder");
        Assert.Equal("keep me", File.ReadAllText(file));
        // A file's name ending in '/' made that folder and then failed to write in it, in .NET's words.
        var slashed = Path.Combine(TempDir(), "s.csv") + "/";
        AssertOneLineError(["sample", "--checkpoint", run, "--out", slashed], "ends with a '/', which names a folder; name a file");
        AssertOneLineError(["eval", "--checkpoint", run, "--out", slashed], "ends with a '/', which names a folder; name a file");
        Assert.False(Directory.Exists(slashed));
    }

    [Fact]
    public void AnOutputThatIsADeviceIsWrittenToNotReplaced()
    {
        var (code, output, err) = Run("bench", "--sizes", "8x8x2", "--repeats", "1", "--step-batches", "8", "--image-steps", "none", "--out", "/dev/null");
        Assert.True(code == 0, err);
        Assert.Matches(@"matmul 2048³ [0-9.]+ GFLOP/s, 3×3 convolution .* [0-9.]+ GFLOP/s", output);
        Assert.Matches(@"\| 8 \| 8 \| 2 \| one pass over the kernel \(CPU\) \| -?[0-9]+ \|", output);
        Assert.Empty(File.ReadAllBytes("/dev/null")); // still the device: a file renamed over it would hold the table
    }

    [Fact]
    public void PointsOfNoSpreadOrOverflowingScaleAreRefused()
    {
        var dir = TempDir();
        var same = Path.Combine(dir, "same.csv");
        File.WriteAllLines(same, Enumerable.Repeat("1.5,2", 50));
        AssertOneLineError(["train", "--data", same], "every row is the same point");
        var huge = Path.Combine(dir, "huge.csv");
        File.WriteAllLines(huge, Enumerable.Range(0, 50).Select(i => $"{i}e30,{i}"));
        AssertOneLineError(["train", "--data", huge], "rescale the data");
    }

    [Fact]
    public void EvalOfMostlyRepeatedPointsHasPositiveBandwidths()
    {
        var dir = TempDir();
        var csv = Path.Combine(dir, "repeated.csv");
        // Four points in five are one point: the median pairwise distance is 0.
        File.WriteAllLines(csv, Enumerable.Range(0, 200).Select(i => i % 5 == 0 ? $"{i * 0.01},{-i * 0.02}" : "0.5,0.5"));
        var run = Path.Combine(dir, "run");
        var (code, _, err) = Run("train", "--data", csv, "--steps", "3", "--batch", "32", "--width", "16", "--out", run);
        Assert.True(code == 0, err);
        (code, var table, err) = Run("eval", "--checkpoint", run, "--n", "100");
        Assert.True(code == 0, err);
        Assert.Contains("| MMD² (unbiased) |", table);
    }

    [Fact]
    public void MalformedCsvNamesTheLine()
    {
        var csv = Path.Combine(TempDir(), "bad.csv");
        File.WriteAllText(csv, "x,y\n1,2\n3,oops\n");
        AssertOneLineError(["train", "--data", csv], "bad.csv:3: not a row of numbers");
    }

    [Fact]
    public void ExistingRunsAreNeitherOverwrittenNorResumedWithAnotherConfig()
    {
        var dir = Path.Combine(TempDir(), "run");
        var (code, _, err) = Run("train", "--data", "moons", "--steps", "4", "--batch", "32", "--width", "16",
            "--eval-samples", "100", "--out", dir);
        Assert.True(code == 0, err);
        var before = Snapshot(dir);

        AssertOneLineError(["train", "--data", "moons", "--steps", "4", "--out", dir], "already holds a run");
        AssertOneLineError(["train", "--resume", dir, "--field", "laplace", "--steps", "8"], "different config (field)");
        AssertOneLineError(["train", "--resume", dir, "--steps", "4"], "already at step 4");
        Assert.Equal(before, Snapshot(dir));

        File.WriteAllText(Path.Combine(dir, "checkpoint.bin"), "garbage");
        AssertOneLineError(["sample", "--checkpoint", dir, "--out", Path.Combine(dir, "s.csv")], "corrupt or incomplete");
        AssertOneLineError(["train", "--resume", dir, "--steps", "8"], "corrupt or incomplete");
    }

    /// <summary>A run on a CSV file with a header keeps its column names: in config.json, in <c>drift sample</c>'s CSV
    /// (read back as the same names and points as the .npy of the same draw), and in the export's card. A toy set has none
    /// (x0, x1 in the CSV; none in config.json).</summary>
    [Fact]
    public void ACsvRunsColumnNamesReachItsSamplesAndExport()
    {
        var dir = TempDir();
        var random = new Random(Tensors.Seed());
        var data = Path.Combine(dir, "stations.csv");
        string Value() => random.NextDouble().ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        File.WriteAllLines(data, ["longitude;\"latitude, north\"", .. Enumerable.Range(0, 100).Select(_ => $"{Value()};{Value()}")]);
        var run = Path.Combine(dir, "run");
        var (code, _, err) = Run("train", "--data", data, "--batch", "32", "--width", "16", "--eval-samples", "20", "--steps", "3", "--out", run);
        Assert.True(code == 0, err);
        string[] names = ["longitude", "latitude, north"];
        Assert.Equal(names, Drift.Train.RunFolders.ConfigJson.Load<Drift.Train.Training.Points.TrainConfig>(Path.Combine(run, "config.json")).Columns!);
        var (csv, npy) = (Path.Combine(dir, "s.csv"), Path.Combine(dir, "s.npy"));
        Assert.Equal(0, Run("sample", "--checkpoint", run, "--n", "50", "--out", csv).Code);
        Assert.Equal(0, Run("sample", "--checkpoint", run, "--n", "50", "--out", npy).Code);
        Assert.StartsWith("longitude,\"latitude, north\"\n", File.ReadAllText(csv).ReplaceLineEndings("\n"));
        var (points, columns) = Drift.Data.CsvPoints.Read(csv);
        Assert.Equal(names, columns!);
        Assert.Equal(Drift.Data.NpyPoints.Read(npy), points);
        var export = Path.Combine(dir, "export");
        Assert.Equal(0, Run("export", "--checkpoint", run, "--out", export, "--format", "onnx").Code);
        Assert.Equal(names, Drift.Export.GeneratorCard.FromJson(File.ReadAllText(Path.Combine(export, "generator.json"))).ColumnNames!);

        var toy = Path.Combine(dir, "toy");
        Assert.Equal(0, Run("train", "--data", "rings", "--batch", "32", "--width", "16", "--eval-samples", "20", "--steps", "2", "--out", toy).Code);
        Assert.DoesNotContain("columns", File.ReadAllText(Path.Combine(toy, "config.json")));
        Assert.Equal(0, Run("sample", "--checkpoint", toy, "--n", "5", "--out", Path.Combine(dir, "toy.csv")).Code);
        Assert.StartsWith("x0,x1\n", File.ReadAllText(Path.Combine(dir, "toy.csv")).ReplaceLineEndings("\n"));
    }

    /// <summary>The pace a log line reports reads back as the steps over the seconds, and the time left as the steps left
    /// at that rate (to the second, or the minute once it is hours).</summary>
    [Fact]
    public void ALogLineSaysTheRateAndTheTimeLeft()
    {
        var seed = Tensors.Seed();
        var random = new Random(seed);
        Assert.Equal("", Drift.Train.Cli.Cli.Pace(0, 3, 10));
        for (var i = 0; i < 500; i++)
        {
            var (done, seconds, left) = (random.NextInt64(1, 100_000), Math.Exp(12 * random.NextDouble() - 3), random.NextInt64(0, 200_000));
            var text = Drift.Train.Cli.Cli.Pace(done, seconds, left);
            var m = System.Text.RegularExpressions.Regex.Match(text,
                @"^ \((?<v>[\d.,]+) (?<unit>steps/s|s/step)(, ((?<h>\d+) h (?<hm>\d\d) min|(?<m>\d+) min (?<ms>\d\d) s|(?<s>\d+) s) left)?\)$");
            Assert.True(m.Success, $"seed {seed}: '{text}'");
            var rate = done / seconds;
            var shown = double.Parse(m.Groups["v"].Value, CultureInfo.CurrentCulture);
            Assert.True(Math.Abs(shown - (m.Groups["unit"].Value == "steps/s" ? rate : 1 / rate)) <= 0.05 + 1e-9, $"seed {seed}: {done} steps in {seconds} s: '{text}'");
            Assert.Equal(rate < 1, m.Groups["unit"].Value == "s/step");
            Assert.Equal(left > 0, m.Groups[3].Success);
            if (left == 0) continue;
            int Group(string name) => m.Groups[name].Success ? int.Parse(m.Groups[name].Value) : 0;
            var parsed = 3600 * Group("h") + 60 * (Group("hm") + Group("m")) + Group("ms") + Group("s");
            var expected = Math.Round(left / rate);
            Assert.True(m.Groups["h"].Success ? expected - parsed is >= 0 and < 60 : parsed == expected, $"seed {seed}: {left} steps at {rate} a second: '{text}'");
        }
    }

    /// <summary>A long count (images drawn) writes a line when ten seconds of its clock have passed since the last line
    /// (or the start) and never otherwise, none once complete; each line the count reached and its pace in images.</summary>
    [Fact]
    public void ALongCountSaysHowFarItIsEveryTenSeconds()
    {
        var seed = Tensors.Seed();
        var random = new Random(seed);
        var (lines, now, done, lastLine) = (new List<string>(), 0.0, 0L, 0.0);
        var total = random.Next(1000, 100_000);
        var counter = new Drift.Train.Cli.CountLines("drawing images", total, "image", lines.Add, () => now);
        while (done < total)
        {
            now += 4 * random.NextDouble();
            done = Math.Min(total, done + random.Next(1, total / 50 + 2));
            var before = lines.Count;
            counter.Report(done);
            var due = done < total && now - lastLine >= Drift.Train.Cli.CountLines.Every;
            Assert.True(lines.Count == before + (due ? 1 : 0), $"seed {seed}: {done}/{total} at {now:f1} s, last line at {lastLine:f1} s: {lines.Count - before} line(s)");
            if (!due) continue;
            lastLine = now;
            var m = System.Text.RegularExpressions.Regex.Match(lines[^1], @"^drawing images (\d+)/(\d+) \((?<v>[\d.,]+) (images/s|s/image), .* left\)$");
            Assert.True(m.Success && m.Groups[1].Value == $"{done}" && m.Groups[2].Value == $"{total}", $"seed {seed}: '{lines[^1]}' at {done}/{total}");
        }
        Assert.True(lines.Count >= 1 || now < Drift.Train.Cli.CountLines.Every, $"seed {seed}: no line in {now:f0} s");
        var written = lines.Count;
        now += Drift.Train.Cli.CountLines.Every;
        counter.Report(total);
        Assert.True(lines.Count == written, $"seed {seed}: a line after the count was complete");
    }

    /// <summary>Under variables that cap libtorch's instruction sets (tests/as-other-cpus.sh), the log says so beside the CPU,
    /// whose own flags no longer tell how the run computed.</summary>
    [Fact]
    public void ARunsLogNamesTheInstructionSetCaps()
    {
        var run = Path.Combine(TempDir(), "run");
        var caps = new Dictionary<string, string>
        {
            ["ATEN_CPU_CAPABILITY"] = "avx2", ["ONEDNN_MAX_CPU_ISA"] = "AVX2", ["DNNL_MAX_CPU_ISA"] = "AVX2", ["MKL_ENABLE_INSTRUCTIONS"] = "AVX2",
        };
        var (code, _, err) = DriftProcess.Run(["train", "--batch", "32", "--width", "16", "--eval-samples", "20", "--steps", "2", "--out", run],
            environment: caps);
        Assert.True(code == 0, err);
        var provenance = File.ReadAllText(Path.Combine(run, "log.txt")).ReplaceLineEndings("\n").Split('\n')[1];
        Assert.Contains(", capped by ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 DNNL_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2, "
            + $"{Environment.ProcessorCount} CPU threads", provenance);
    }

    /// <summary>`drift check` on this CPU: every row of its float32-against-float64 table within its bound, under the name of
    /// the machine and build that made it (tests/as-other-cpus.sh runs it under capped instruction sets too).</summary>
    [Fact]
    [Trait("Category", "Numerics")]
    public void CheckPassesOnThisCpuAndNamesIt()
    {
        var (code, stdout, err) = Run("check", "--seed", Tensors.Seed().ToString());
        Assert.True(code == 0, stdout + err);
        var lines = stdout.ReplaceLineEndings("\n").Split('\n');
        Assert.StartsWith($"drift {System.Diagnostics.FileVersionInfo.GetVersionInfo(typeof(Drift.Train.Provenance).Assembly.Location).ProductVersion}, ",
            lines[0]);
        var rows = lines.Where(l => l.StartsWith("| ") && !l.StartsWith("| check ")).ToArray();
        Assert.True(rows.Length >= 10, stdout);
        Assert.All(rows, row => Assert.EndsWith("| ok |", row));
    }

    /// <summary>A run's log.txt holds each session's command and lines in order, a resumed session's appended after the
    /// first's (left as it was), and the error that ended a session; a new run that fails before it starts leaves no folder.</summary>
    [Fact]
    public void ARunsLogHoldsEverySessionAndTheErrorThatEndedOne()
    {
        var dir = TempDir();
        var (data, run) = (Path.Combine(dir, "points.csv"), Path.Combine(dir, "run"));
        var random = new Random(Tensors.Seed());
        File.WriteAllLines(data, Enumerable.Range(0, 100).Select(_ => $"{random.NextDouble():R},{random.NextDouble():R}"));
        var (code, _, err) = Run("train", "--data", data, "--batch", "32", "--width", "16", "--eval-samples", "20", "--steps", "4", "--out", run);
        Assert.True(code == 0, err);
        var log = Path.Combine(run, "log.txt");
        var first = File.ReadAllText(log);
        Assert.Matches($@"^\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d INF drift train --data {System.Text.RegularExpressions.Regex.Escape(data)} .*--out ", first);
        Assert.Contains(" INF step 4/4 loss ", first);
        // Each session's second line says what ran it: the builds of drift and TorchSharp (as their files say), libtorch, the CPU.
        static string Product(Type type) => System.Diagnostics.FileVersionInfo.GetVersionInfo(type.Assembly.Location).ProductVersion!;
        var provenance = $"INF drift {Product(typeof(Drift.Train.Provenance))}, TorchSharp {Product(typeof(TorchSharp.torch))} with libtorch {TorchSharp.torch.__version__}, ";
        Assert.Contains(provenance, first.ReplaceLineEndings("\n").Split('\n')[1]);
        Assert.Contains($", {Environment.ProcessorCount} CPU threads, libtorch threads ", first);
        Assert.Contains($" INF wrote {run}: checkpoint.bin, config.json, metrics.csv, samples.png, curves.png, log.txt\n", first.ReplaceLineEndings("\n"));

        Assert.Equal(0, Run("train", "--resume", run, "--steps", "6").Code);
        File.AppendAllText(data, "0.5,0.5\n");
        (code, _, err) = Run("train", "--resume", run, "--steps", "8");
        Assert.Equal(2, code);
        var all = File.ReadAllText(log);
        Assert.StartsWith(first, all);
        var later = all[first.Length..].ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');
        Assert.EndsWith($"INF drift train --resume {run} --steps 6", later[0]);
        Assert.Contains(provenance, later[1]);
        Assert.Contains(later, l => l.EndsWith($"INF resuming {run} at step 4"));
        Assert.Contains(later, l => l.Contains(" INF step 6/6 loss "));
        var third = Array.FindIndex(later, l => l.EndsWith($"INF drift train --resume {run} --steps 8"));
        Assert.True(third > 0, all);
        Assert.EndsWith($"ERR {err.Trim()["drift: ".Length..]}", later[^1]);

        // Refused after its folder was made (every row the same point): no folder, so no log, is left.
        var same = Path.Combine(dir, "same.csv");
        File.WriteAllLines(same, Enumerable.Repeat("1,2", 20));
        (code, _, err) = Run("train", "--data", same, "--steps", "2", "--out", Path.Combine(dir, "refused"));
        Assert.True(code == 2 && err.Contains("every row is the same point"), err);
        Assert.False(Directory.Exists(Path.Combine(dir, "refused")));
    }

    /// <summary>A snapshot is the checkpoint of its step, byte for byte, and stays so when the run resumes (with another
    /// schedule); sample, eval and export read it with --step, and a step with none names those kept.</summary>
    [Fact]
    public void SnapshotsKeepTheirStepsCheckpointForSampleEvalAndExport()
    {
        var run = Path.Combine(TempDir(), "run");
        string[] small = ["--data", "rings", "--batch", "32", "--width", "16", "--eval-samples", "20", "--seed", $"{Tensors.Seed()}"];
        var (code, stdout, err) = Run(["train", .. small, "--steps", "4", "--snapshot-every", "2", "--out", run]);
        Assert.True(code == 0, err);
        Assert.Contains("snapshots/", stdout);
        var snapshots = Path.Combine(run, "snapshots");
        Assert.Equal(["step-000002.bin", "step-000004.bin"], Directory.GetFiles(snapshots).Select(Path.GetFileName).Order());
        var atFour = File.ReadAllBytes(Path.Combine(run, "checkpoint.bin"));
        Assert.Equal(atFour, File.ReadAllBytes(Path.Combine(snapshots, "step-000004.bin")));
        var (before, after) = (Path.Combine(run, "..", "before.npy"), Path.Combine(run, "..", "after.npy"));
        Assert.Equal(0, Run("sample", "--checkpoint", run, "--n", "50", "--out", before).Code);

        (code, _, err) = Run("train", "--resume", run, "--steps", "6", "--snapshot-every", "3");
        Assert.True(code == 0, err);
        Assert.Equal(["step-000002.bin", "step-000004.bin", "step-000006.bin"], Directory.GetFiles(snapshots).Select(Path.GetFileName).Order());
        Assert.Equal(atFour, File.ReadAllBytes(Path.Combine(snapshots, "step-000004.bin")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(run, "checkpoint.bin")), File.ReadAllBytes(Path.Combine(snapshots, "step-000006.bin")));
        Assert.Equal(0, Run("sample", "--checkpoint", run, "--step", "4", "--n", "50", "--out", after).Code);
        Assert.Equal(File.ReadAllBytes(before), File.ReadAllBytes(after));

        (code, var table, err) = Run("eval", "--checkpoint", run, "--step", "2", "--n", "100", "--out", Path.Combine(run, "..", "two.json"));
        Assert.True(code == 0, err);
        Assert.Contains("step 2, 100 samples", table);
        // Without --out, a snapshot's figures are shown and not written: the run's eval.json stays that of its last checkpoint.
        Assert.Equal(0, Run("eval", "--checkpoint", run, "--n", "100").Code);
        var last = File.ReadAllBytes(Path.Combine(run, RunFiles.Eval));
        (code, table, err) = Run("eval", "--checkpoint", run, "--step", "4", "--n", "100");
        Assert.True(code == 0, err);
        Assert.Contains("step 4, 100 samples", table);
        Assert.DoesNotContain("wrote", table);
        Assert.Equal(last, File.ReadAllBytes(Path.Combine(run, RunFiles.Eval)));
        var export = Path.Combine(run, "..", "export");
        Assert.Equal(0, Run("export", "--checkpoint", run, "--step", "2", "--out", export, "--format", "onnx").Code);
        Assert.Equal(2, Drift.Export.GeneratorCard.FromJson(File.ReadAllText(Path.Combine(export, "generator.json"))).Source.Step);
        AssertOneLineError(["sample", "--checkpoint", run, "--step", "5", "--out", Path.Combine(run, "..", "x.csv")], "it keeps 2, 4, 6");
    }

    /// <summary>An export or particle folder has one writer, as a run folder has: while another process holds it (here this
    /// test, through the same lock), a second <c>drift export</c> or <c>drift particles</c> into it is refused in one line
    /// naming the holder (and what to do: wait) and writes nothing; once it is free, the same command writes.</summary>
    [Fact]
    public void ExportAndParticleFoldersHaveOneWriter()
    {
        var dir = TempDir();
        var run = Path.Combine(dir, "run");
        Assert.True(Run("train", "--data", "rings", "--batch", "32", "--width", "16", "--eval-samples", "20", "--steps", "2", "--out", run).Code == 0);
        var (export, particles) = (Path.Combine(dir, "export"), Path.Combine(dir, "particles"));
        foreach (var (folder, args) in new[]
        {
            (export, new[] { "export", "--checkpoint", run, "--out", export, "--format", "onnx" }),
            (particles, ["particles", "--n", "32", "--dim", "1", "--time", "0.1", "--out", particles]),
        })
        {
            using (RunLock.Acquire(folder))
            {
                AssertOneLineError(args, $"{folder} is in use by process {Environment.ProcessId}");
                // Neither writes a checkpoint, so the line does not suggest stopping one with Ctrl+C as a run's does.
                Assert.EndsWith("; wait for it to finish", Run(args).Err.Trim());
                Assert.Equal([RunFiles.Lock, RunFiles.LockOwner], Directory.GetFileSystemEntries(folder).Select(Path.GetFileName).Order());
            }
            var (code, _, err) = Run(args);
            Assert.True(code == 0, err);
        }
    }

    /// <summary>Every file a card names is beside it (the page's card, in web/, names the page's files), and an export into
    /// an earlier one that would leave files of another format, here another run's weights, beside its card is refused
    /// with nothing changed; with those formats too it replaces them all. One stopped part way leaves no card.</summary>
    [Fact]
    public void AnExportsCardNamesWhatIsBesideItAndNoOtherExportsFilesAreLeftThere()
    {
        var dir = TempDir();
        string Train(string name, string seed)
        {
            var run = Path.Combine(dir, name);
            var (code, _, err) = Run("train", "--data", "rings", "--batch", "32", "--width", "16", "--eval-samples", "20", "--steps", "2", "--seed", seed, "--out", run);
            Assert.True(code == 0, err);
            return run;
        }
        var (first, second) = (Train("first", "0"), Train("second", "1"));
        Drift.Export.GeneratorCard Card(string folder) => Drift.Export.GeneratorCard.FromJson(File.ReadAllText(Path.Combine(folder, "generator.json")));
        void AssertCardNamesWhatIsThere(string folder, params string[] keys)
        {
            var card = Card(folder);
            Assert.Equal(keys.Order(), card.Files.Keys.Order());
            Assert.All(card.Files.Values, f => Assert.True(File.Exists(Path.Combine(folder, f)), $"{folder}: the card names {f}, which is not there"));
        }

        var page = Path.Combine(dir, "page");
        Assert.Equal(0, Run("export", "--checkpoint", first, "--out", page, "--format", "web").Code);
        AssertCardNamesWhatIsThere(page, "web");
        AssertCardNamesWhatIsThere(Path.Combine(page, "web"), "onnx", "web");

        var export = Path.Combine(dir, "export");
        Assert.Equal(0, Run("export", "--checkpoint", first, "--out", export, "--format", "onnx,safetensors").Code);
        AssertCardNamesWhatIsThere(export, "onnx", "safetensors", "pytorch");
        var before = Snapshot(export);
        AssertOneLineError(["export", "--checkpoint", second, "--out", export, "--format", "onnx"],
            "holds an earlier export's generator.safetensors, drift_generator.py, which this one would not replace; export with --format onnx,safetensors");
        AssertOneLineError(["export", "--checkpoint", second, "--out", page, "--format", "safetensors"], "earlier export's web/");
        Assert.Equal(before, Snapshot(export));
        Assert.Equal(0, Run("export", "--checkpoint", second, "--out", export, "--format", "safetensors", "onnx").Code);
        AssertCardNamesWhatIsThere(export, "onnx", "safetensors", "pytorch");
        Assert.Equal(second, Card(export).Source.Run);
        Assert.NotEqual(before["generator.safetensors"], Snapshot(export)["generator.safetensors"]);

        // An export stopped part way, here by a folder where the page's last runtime file goes, has replaced some of the
        // first run's files with the second's: it leaves no card, at the top or in web/, to pass the mix off as either.
        var last = Path.Combine(page, "web", Drift.Train.Export.WebPage.RuntimeFiles[^1]);
        File.Delete(last);
        Directory.CreateDirectory(last);
        var (stopped, _, why) = Run("export", "--checkpoint", second, "--out", page, "--format", "web");
        Assert.True(stopped == 2 && why.Trim().Split('\n').Length == 1, why);
        Assert.False(File.Exists(Path.Combine(page, "generator.json")), "the card outlived a stopped export");
        Assert.False(File.Exists(Path.Combine(page, "web", "generator.json")), "the page's card outlived a stopped export");
        Directory.Delete(last);
        Assert.Equal(0, Run("export", "--checkpoint", second, "--out", page, "--format", "web").Code);
        AssertCardNamesWhatIsThere(page, "web");
        AssertCardNamesWhatIsThere(Path.Combine(page, "web"), "onnx", "web");
        Assert.Equal(second, Card(Path.Combine(page, "web")).Source.Run);
    }

    /// <summary><c>drift field</c> on a run: its arrows sit at the samples <c>drift sample</c> draws with the same seed, a
    /// column of velocity per field and data column follows, the run's own field is at the scales its last step used
    /// (the default bandwidths annealed to 1/8) and another at its defaults; the picture has a panel a field. Without a
    /// run, arrows of 1-D data are refused, a CSV of them written; a run's --data is refused.</summary>
    [Fact]
    public void FieldDrawsEachFieldAtTheRunsSamples()
    {
        var dir = TempDir();
        var run = Path.Combine(dir, "run");
        var (code, output, err) = Run("train", "--data", "moons", "--steps", "4", "--batch", "32", "--width", "16", "--eval-samples", "100", "--out", run);
        Assert.True(code == 0, err);
        var seed = new Random(Tensors.Seed()).Next(1000).ToString();
        var (fieldCsv, sampleCsv) = (Path.Combine(dir, "field.csv"), Path.Combine(dir, "samples.csv"));
        (code, output, err) = Run("field", "--checkpoint", run, "--n", "64", "--seed", seed, "--out", fieldCsv);
        Assert.True(code == 0, err);
        Assert.Contains("conservative field (0.05,0.1,0.2,0.4): velocity RMS", output);
        Assert.Contains("laplace field (0.05,0.2,0.5): velocity RMS", output);
        (code, _, err) = Run("sample", "--checkpoint", run, "--n", "64", "--seed", seed, "--out", sampleCsv);
        Assert.True(code == 0, err);
        var (arrows, names) = Drift.Data.CsvPoints.Read(fieldCsv);
        var (samples, _) = Drift.Data.CsvPoints.Read(sampleCsv);
        Assert.Equal(["x0", "x1", "conservative_x0", "conservative_x1", "laplace_x0", "laplace_x1"], names!);
        Assert.Equal(64, arrows.GetLength(0));
        for (var i = 0; i < 64; i++)
            for (var c = 0; c < 2; c++)
                Assert.True(Math.Abs(arrows[i, c] - samples[i, c]) < 1e-5 * (1 + Math.Abs(samples[i, c])), $"seed {seed}: sample {i}, column {c}");
        Assert.Contains(Enumerable.Range(0, 64), i => arrows[i, 2] != 0 && arrows[i, 4] != arrows[i, 2]);

        var png = Path.Combine(dir, "field.png");
        (code, _, err) = Run("field", "--checkpoint", run, "--fields", "conservative,laplace,mmd", "--out", png);
        Assert.True(code == 0, err);
        using (var image = File.OpenRead(png))
            Assert.Equal((2100, 700), StbImageSharp.ImageInfo.FromStream(image) is { } info ? (info.Width, info.Height) : default);

        var line = Path.Combine(dir, "line.csv");
        var random = new Random(Tensors.Seed());
        File.WriteAllLines(line, ["t", .. Enumerable.Range(0, 50).Select(_ => (random.NextDouble() * 4).ToString("R", CultureInfo.InvariantCulture))]);
        AssertOneLineError(["field", "--data", line, "--out", Path.Combine(dir, "line.png")], "arrows need 2 or more dimensions");
        (code, _, err) = Run("field", "--data", line, "--n", "10", "--out", Path.Combine(dir, "line-field.csv"));
        Assert.True(code == 0, err);
        Assert.Equal(["t", "conservative_t", "laplace_t"], Drift.Data.CsvPoints.Read(Path.Combine(dir, "line-field.csv")).Columns!);

        // A data column named as a velocity column would be: every column kept, the velocities' names prefixed, the
        // numbers those of the same data under other names.
        var rows = Enumerable.Range(0, 60).Select(_ => string.Join(",", random.NextDouble().ToString("R", CultureInfo.InvariantCulture),
            (3 * random.NextDouble()).ToString("R", CultureInfo.InvariantCulture))).ToArray();
        File.WriteAllLines(Path.Combine(dir, "named.csv"), ["t,conservative_t", .. rows]);
        File.WriteAllLines(Path.Combine(dir, "plain.csv"), ["a,b", .. rows]);
        foreach (var name in new[] { "named", "plain" })
        {
            (code, _, err) = Run("field", "--data", Path.Combine(dir, name + ".csv"), "--n", "10", "--seed", seed, "--out", Path.Combine(dir, name + "-field.csv"));
            Assert.True(code == 0, err);
        }
        var (named, namedColumns) = Drift.Data.CsvPoints.Read(Path.Combine(dir, "named-field.csv"));
        Assert.Equal(["t", "conservative_t", "velocity_conservative_t", "velocity_conservative_conservative_t", "velocity_laplace_t",
            "velocity_laplace_conservative_t"], namedColumns!);
        Assert.Equal(Drift.Data.CsvPoints.Read(Path.Combine(dir, "plain-field.csv")).Points, named);
        AssertOneLineError(["field", "--checkpoint", run, "--data", "moons", "--out", Path.Combine(dir, "x.png")], "--data: only without --checkpoint");
        Assert.False(File.Exists(Path.Combine(dir, "line.png")) || File.Exists(Path.Combine(dir, "x.png")));
    }

    /// <summary>A knob of one field of --fields is that field's alone: the laplace field with the Gaussian kernel over rows
    /// only, at the conservative field's scales as temperatures, draws the conservative field's arrows (the identity the
    /// README states: τ²·(∇log ν_τ − ∇log μ_τ), each scale at unit RMS), and a comparison of the two trains the conservative
    /// run without the knobs beside the laplace run with them, to the same energy distance (within 1 %). A knob no field of the list
    /// takes is refused as for one run.</summary>
    [Fact]
    public void AKnobOfOneFieldOfSeveralIsThatFieldsAlone()
    {
        var dir = TempDir();
        var random = new Random(Tensors.Seed());
        var scales = new[] { 0.3 + random.NextDouble(), 1.5 + random.NextDouble() }.Select(h => h.ToString("R", CultureInfo.InvariantCulture)).ToArray();
        var csv = Path.Combine(dir, "same.csv");
        var (code, _, err) = Run(["field", "--data", "moons", "--fields", "conservative,laplace", "--gaussian-kernel", "true", "--rows-only", "true",
            "--bandwidth", .. scales, "--temperature", .. scales, "--n", "200", "--seed", random.Next(1000).ToString(), "--out", csv]);
        Assert.True(code == 0, err);
        var (arrows, names) = Drift.Data.CsvPoints.Read(csv);
        Assert.Equal(["x0", "x1", "conservative_x0", "conservative_x1", "laplace_x0", "laplace_x1"], names!);
        var largest = Enumerable.Range(0, 200).Max(i => Math.Abs(arrows[i, 2]));
        for (var i = 0; i < 200; i++)
            for (var c = 0; c < 2; c++)
                Assert.True(Math.Abs(arrows[i, 2 + c] - arrows[i, 4 + c]) < 1e-5 * largest, $"scales {string.Join(",", scales)}: sample {i}, column {c}");

        var compare = Path.Combine(dir, "compare");
        (code, _, err) = Run(["compare", "--data", "moons", "--fields", "conservative,laplace", "--gaussian-kernel", "true", "--rows-only", "true",
            "--bandwidth", .. scales, "--temperature", .. scales, "--anneal", "1", "--seeds", "1", "--steps", "20", "--batch", "32", "--width", "16",
            "--eval-every", "20", "--eval-samples", "100", "--out", compare]);
        Assert.True(code == 0, err);
        var conservative = ConfigJson.Load<TrainConfig>(Path.Combine(compare, "runs", "conservative-seed0"));
        var laplace = ConfigJson.Load<TrainConfig>(Path.Combine(compare, "runs", "laplace-seed0"));
        Assert.Equal((false, false), (conservative.GaussianKernel, conservative.RowsOnly!.Value));
        Assert.Equal((true, true), (laplace.GaussianKernel, laplace.RowsOnly!.Value));
        // The same run but for float32 rounding in two computations of one field, which Adam's steps carry on (as in
        // FieldVariantRunTests, 1e-2).
        var energy = File.ReadLines(Path.Combine(compare, "report.md")).Single(l => l.StartsWith("| energy distance |")).Split('|')
            .Skip(2).Take(2).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        Assert.True(Math.Abs(energy[0] - energy[1]) < 1e-2 * energy[0], $"scales {string.Join(",", scales)}: energy {energy[0]} against {energy[1]}");

        AssertOneLineError(["compare", "--fields", "conservative,mmd", "--gaussian-kernel", "true", "--out", Path.Combine(dir, "refused")],
            "--gaussian-kernel is a variant of the laplace field, not of conservative");
        Assert.False(Directory.Exists(Path.Combine(dir, "refused")));
    }

    [Fact]
    public void TrainResumeAndSampleEndToEnd()
    {
        var dir = Path.Combine(TempDir(), "run");
        var common = new[] { "--data", "rings", "--batch", "32", "--width", "16", "--eval-samples", "100" };
        var (code, _, err) = Run(["train", .. common, "--steps", "6", "--out", dir]);
        Assert.True(code == 0, err);
        (code, _, err) = Run("train", "--resume", dir, "--steps", "9");
        Assert.True(code == 0, err);
        Assert.Contains("\n9,", File.ReadAllText(Path.Combine(dir, "metrics.csv")));

        var csv = Path.Combine(dir, "samples.csv");
        (code, _, err) = Run("sample", "--checkpoint", dir, "--n", "123", "--out", csv, "--seed", "5");
        Assert.True(code == 0, err);
        var (points, _) = Drift.Data.CsvPoints.Read(csv);
        Assert.Equal(123, points.GetLength(0));
        Assert.Equal(2, points.GetLength(1));
        var png = Path.Combine(dir, "samples-5.png");
        (code, _, err) = Run("sample", "--checkpoint", dir, "--n", "500", "--out", png);
        Assert.True(code == 0, err);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(png)[..4]);

        (code, var table, err) = Run("eval", "--checkpoint", dir, "--n", "200");
        Assert.True(code == 0, err);
        Assert.Contains("| energy distance |", table);
        Assert.Contains("\"metric\": \"sliced W2", File.ReadAllText(Path.Combine(dir, "eval.json")));
        // The image options were dropped without a word for a run of points.
        AssertOneLineError(["eval", "--checkpoint", dir, "--classifier", dir], "--classifier is for image runs; this checkpoint holds a run of points");
        AssertOneLineError(["eval", "--checkpoint", dir, "--guidance", "2"], "--guidance is for image runs; this checkpoint holds a run of points");
        AssertOneLineError(["eval", "--checkpoint", dir, "--ema", "false"], "--ema is for image runs; this checkpoint holds a run of points");
        AssertOneLineError(["sample", "--checkpoint", dir, "--ema", "false", "--out", Path.Combine(dir, "s.csv")], "--ema is for image runs; this checkpoint holds a run of points");
        // The same table under a locale of decimal commas: numbers are written the same everywhere (the table mixed
        // "0,075" from the locale with "0.108" written invariantly).
        var german = DriftProcess.Run(["eval", "--checkpoint", dir, "--n", "200"], environment: new Dictionary<string, string> { ["LC_ALL"] = "de_DE.UTF-8", ["LANG"] = "de_DE.UTF-8" });
        Assert.True(german.Code == 0, german.Err);
        Assert.Equal(table, german.Out);
        // --device draws a points run's samples there (it was read for image runs only).
        var onCpu = Run("eval", "--checkpoint", dir, "--n", "200", "--device", "cpu");
        Assert.True(onCpu.Code == 0, onCpu.Err);
        Assert.Equal(table, onCpu.Out);
        // Points from a file are judged as a run's samples: drift sample's .npy (the same seed, so the same points) scores
        // every metric and floor as eval of the run does.
        var npy = Path.Combine(dir, "samples.npy");
        (code, _, err) = Run("sample", "--checkpoint", dir, "--n", "200", "--out", npy);
        Assert.True(code == 0, err);
        Assert.Equal(Drift.Data.NpyPoints.Read(npy), Drift.Train.Training.Points.PointEvaluation.Generate(Drift.Train.RunFolders.Checkpoint.Load(dir), 200, 0));
        var fileJson = Path.Combine(Path.GetDirectoryName(dir)!, "file.json");
        (code, table, err) = Run("eval", "--points", npy, "--data", "rings", "--n", "200", "--out", fileJson);
        Assert.True(code == 0, err);
        Assert.Contains($"rings, points of {npy}, 200 samples", table);
        static (string, double, double)[] Rows(string json) => System.Text.Json.JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("metrics")
            .EnumerateArray().Select(m => (m.GetProperty("metric").GetString()!, m.GetProperty("generated").GetDouble(), m.GetProperty("floor").GetDouble())).ToArray();
        Assert.Equal(Rows(Path.Combine(dir, "eval.json")), Rows(fileJson));

        // A data file's own rows, judged as samples: four in five are its training rows, so they score far below 0 in the
        // copying test; a fresh draw of the same distribution scores about 0 (a toy set has no finite training rows to copy).
        Assert.DoesNotContain("copying z", table);
        var random = new Random(Tensors.Seed());
        string Row() => string.Join(",", Enumerable.Range(0, 3).Select(_ => (random.NextDouble() * 2 - 1).ToString("R", CultureInfo.InvariantCulture)));
        var (data, fresh) = (Path.Combine(Path.GetDirectoryName(dir)!, "uniform.csv"), Path.Combine(Path.GetDirectoryName(dir)!, "fresh.csv"));
        File.WriteAllLines(data, Enumerable.Range(0, 1000).Select(_ => Row()));
        File.WriteAllLines(fresh, Enumerable.Range(0, 1000).Select(_ => Row()));
        double Copying(string points)
        {
            var json = Path.Combine(Path.GetDirectoryName(dir)!, "copying.json");
            var (exit, _, error) = Run("eval", "--points", points, "--data", data, "--out", json);
            Assert.True(exit == 0, error);
            return Rows(json).Single(r => r.Item1 == "copying z, 1st/2nd ratio (below -3: copies)").Item2;
        }

        Assert.True(Copying(data) < -5, "the data's own rows");
        Assert.True(Math.Abs(Copying(fresh)) < 4.5, "a fresh draw");

        // --config reruns a saved configuration; options given override it.
        var rerun = Path.Combine(Path.GetDirectoryName(dir)!, "rerun");
        (code, _, err) = Run("train", "--config", Path.Combine(dir, "config.json"), "--steps", "3", "--out", rerun);
        Assert.True(code == 0, err);
        var config = Drift.Train.RunFolders.ConfigJson.Load<Drift.Train.Training.Points.TrainConfig>(Path.Combine(rerun, "config.json"));
        Assert.Equal(("rings", 3, 32), (config.Data, config.Steps, config.Batch));
        // The run's folder stands for its config.json; a key given twice in a hand-edited one is refused, not last-wins.
        var again = Path.Combine(Path.GetDirectoryName(dir)!, "again");
        (code, _, err) = Run("train", "--config", rerun, "--steps", "2", "--out", again);
        Assert.True(code == 0, err);
        Assert.Equal((config with { Steps = 2 }).ToJson(), Drift.Train.RunFolders.ConfigJson.Load<Drift.Train.Training.Points.TrainConfig>(Path.Combine(again, "config.json")).ToJson());
        var edited = Path.Combine(Path.GetDirectoryName(dir)!, "edited.json");
        File.WriteAllText(edited, File.ReadAllText(Path.Combine(rerun, "config.json")).Replace("\n}", ",\n  \"batch\": 64\n}"));
        AssertOneLineError(["train", "--config", edited, "--out", Path.Combine(Path.GetDirectoryName(dir)!, "never")], $"{edited}: not a valid run configuration: 'batch' is given twice (line ");
    }

    /// <summary>Points whose columns are named as the data's, in another order, are judged by name: the same figures as the
    /// same points in the data's order, and the report says it took them so (by position they scored as another
    /// distribution, without a word).</summary>
    [Fact]
    public void PointsNamedLikeTheDataAreJudgedByName()
    {
        var dir = TempDir();
        var random = new Random(Tensors.Seed());
        double[] Row() => [random.NextDouble(), 5 * random.NextDouble(), -3 * random.NextDouble()];
        string Line(IEnumerable<double> v) => string.Join(",", v.Select(x => x.ToString("R", CultureInfo.InvariantCulture)));
        var data = Path.Combine(dir, "data.csv");
        File.WriteAllLines(data, Enumerable.Range(0, 600).Select(_ => Line(Row())).Prepend("a,b,c"));
        var rows = Enumerable.Range(0, 300).Select(_ => Row()).ToArray();
        var (ordered, permuted) = (Path.Combine(dir, "ordered.csv"), Path.Combine(dir, "permuted.csv"));
        File.WriteAllLines(ordered, rows.Select(r => Line(r)).Prepend("a,b,c"));
        File.WriteAllLines(permuted, rows.Select(r => Line([r[2], r[0], r[1]])).Prepend("c,a,b"));
        var (code, inOrder, err) = Run("eval", "--points", ordered, "--data", data, "--n", "100");
        Assert.True(code == 0, err);
        (code, var byName, err) = Run("eval", "--points", permuted, "--data", data, "--n", "100");
        Assert.True(code == 0, err);
        static string[] Table(string text) => text.Split('\n').Where(l => l.StartsWith('|')).ToArray();
        Assert.NotEmpty(Table(inOrder));
        Assert.Equal(Table(inOrder), Table(byName));
        Assert.Contains("points of " + permuted + " (columns c, a, b taken in the data's order, a, b, c)", byName);
        Assert.DoesNotContain("taken in the data's order", inOrder);
    }

    [Fact]
    public void ParticlesAndBenchRunEndToEnd()
    {
        var dir = Path.Combine(TempDir(), "particles");
        var (code, _, err) = Run("particles", "--n", "64", "--dim", "3", "--time", "0.5", "--out", dir);
        Assert.True(code == 0, err);
        var trace = File.ReadAllLines(Path.Combine(dir, "trace.csv"));
        Assert.StartsWith("step,time,bandwidth,mean_sq_velocity", trace[0]);
        Assert.True(trace.Length > 2);

        var sweep = Path.Combine(TempDir(), "sweep");
        (code, _, err) = Run("particles", "--sweep-n", "32", "64", "--dims", "1", "--seeds", "2", "--time", "0.3", "--out", sweep);
        Assert.True(code == 0, err);
        Assert.Contains("| 1 | root time-averaged velocity |", File.ReadAllText(Path.Combine(sweep, "rates.md")));
        Assert.Equal(1 + 4, File.ReadAllLines(Path.Combine(sweep, "sweep.csv")).Length);
        // A run and a study in one folder would read as one study: each is refused where the other is, nothing changed.
        var (runFiles, studyFiles) = (Snapshot(dir), Snapshot(sweep));
        AssertOneLineError(["particles", "--sweep-n", "32,64", "--dims", "1", "--out", dir], "holds a particle run (trace.csv, curves.png, particles.png)");
        AssertOneLineError(["particles", "--n", "32", "--out", sweep], "holds a rate study (sweep.csv, rates.csv, rates.md, rates.png)");
        Assert.Equal(runFiles, Snapshot(dir));
        Assert.Equal(studyFiles, Snapshot(sweep));
        Assert.True(Run("particles", "--n", "32", "--dim", "1", "--time", "0.1", "--out", dir).Code == 0, "a run again where one was");

        var table = Path.Combine(TempDir(), "bench.md");
        (code, _, err) = Run("bench", "--sizes", "40x30x3", "--repeats", "1", "--step-batches", "16", "--image-steps", "8x2", "--out", table);
        Assert.True(code == 0, err);
        var text = File.ReadAllText(table);
        foreach (var path in new[] { "plain dense (cdist, softmax, matmul)", "dense", "row chunks", "row and column chunks", "auto: dense" })
            Assert.Contains($"| conservative | 40 | 30 | 3 | {path} |", text);
        foreach (var path in new[] { "dense", "row chunks", "auto: dense" })
            Assert.Contains($"| laplace | 40 | 30 | 3 | {path} |", text);
        Assert.Contains("| sinkhorn | 40 | 30 | 3 | dense |", text);
        // Every path's float32 field against the float64 reference, as the table reports it.
        foreach (var row in text.Split('\n').Where(l => l.StartsWith("| conservative | 40 |") || l.StartsWith("| laplace | 40 |") || l.StartsWith("| sinkhorn | 40 |")))
            Assert.True(double.Parse(row.Split('|')[8], CultureInfo.InvariantCulture) < 1e-4, row);
        Assert.Contains("| step | 16 |", text);
        Assert.Contains("| laplace, width 8, 2 per class | 8 | 2 | all | pixels mean2 mean4 std4 |", text);
        Assert.Contains("| sinkhorn, width 8, 2 per class | 8 | 2 | all | pixels mean2 mean4 std4 |", text);
    }

    [Fact]
    public void CompareTrainsEachFieldPerSeedAndReports()
    {
        var dir = Path.Combine(TempDir(), "compare");
        // Fields separated by commas, spaces or both.
        string[] plan = ["compare", "--data", "8gaussians", "--fields", "conservative,laplace", "sinkhorn", "--seeds", "2", "--steps", "4",
            "--batch", "32", "--width", "16", "--eval-every", "2", "--eval-samples", "100", "--out", dir];
        var (code, stdout, err) = Run(plan);
        Assert.True(code == 0, err);
        Assert.Contains("| metric | conservative | laplace | sinkhorn | floor |", stdout);
        Assert.Contains("| modes covered (of 8) |", stdout);
        // One line for each pair of fields on the three distances, a claim only where all agree across both seeds.
        var claims = stdout.ReplaceLineEndings("\n").Split('\n').Where(l => l.StartsWith("- distance to the data: ")).Select(l => l["- distance to the data: ".Length..]).ToArray();
        Assert.Equal(3, claims.Length);
        Assert.All(claims, c => Assert.Matches(@"^(\w+ beats \w+ in all 3 distances \(every seed\)|no claim \(.+\))$", c));
        foreach (var run in new[] { "conservative-seed0", "conservative-seed1", "laplace-seed0", "laplace-seed1", "sinkhorn-seed0", "sinkhorn-seed1" })
            Assert.True(File.Exists(Path.Combine(dir, "runs", run, "checkpoint.bin")), run);
        foreach (var file in new[] { "report.md", "report.json", "curves.png", "samples.png" })
            Assert.True(new FileInfo(Path.Combine(dir, file)).Length > 0, file);
        // The comparison's log holds its command and every run's lines, in the order they ran.
        var log = File.ReadAllLines(Path.Combine(dir, "log.txt"));
        Assert.Contains(" INF drift compare --data 8gaussians ", log[0]);
        var trained = log.Select(l => System.Text.RegularExpressions.Regex.Match(l, @" INF training (\w+), seed (\d)")).Where(m => m.Success)
            .Select(m => $"{m.Groups[1].Value}-seed{m.Groups[2].Value}").ToArray();
        Assert.Equal(["conservative-seed0", "conservative-seed1", "laplace-seed0", "laplace-seed1", "sinkhorn-seed0", "sinkhorn-seed1"], trained);
        // A finished comparison is never written over, by the same plan or another; nothing in it changes.
        var before = Snapshot(dir);
        AssertOneLineError(plan, "holds a finished comparison (report.md, report.json)");
        AssertOneLineError(["compare", "--data", "8gaussians", "--fields", "mmd", "--seeds", "1", "--steps", "4", "--out", dir], "holds a finished comparison");
        Assert.Equal(before, Snapshot(dir));
        // One stopped before its report (SignalTests stops one): another plan would report beside runs it does not name,
        // other options would not be the runs there, and the same command finishes it with the same figures.
        var json = File.ReadAllText(Path.Combine(dir, "report.json"));
        File.Delete(Path.Combine(dir, "report.md"));
        File.Delete(Path.Combine(dir, "report.json"));
        AssertOneLineError(["compare", "--data", "8gaussians", "--fields", "mmd", "--seeds", "1", "--steps", "4", "--out", dir],
            "holds runs of another comparison (conservative-seed0, conservative-seed1, laplace-seed0, ...)");
        Assert.False(Directory.Exists(Path.Combine(dir, "runs", "mmd-seed0")));
        AssertOneLineError(["compare", "--data", "8gaussians", "--fields", "conservative,laplace,sinkhorn", "--seeds", "2", "--steps", "4", "--out", dir],
            "conservative-seed0 holds a run with a different config (batch, ");
        (code, _, err) = Run(plan);
        Assert.True(code == 0, err);
        static string WithoutWallTimes(string text) => System.Text.RegularExpressions.Regex.Replace(text, @"""wallSeconds"": [^,]+,", "");
        Assert.Equal(WithoutWallTimes(json), WithoutWallTimes(File.ReadAllText(Path.Combine(dir, "report.json"))));
    }

    private static Dictionary<string, string> Snapshot(string dir) => Directory.GetFiles(dir)
        .ToDictionary(f => Path.GetFileName(f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))));
}
