using System.Diagnostics;
using System.Text.Json;
using Drift.Data.Images;
using Drift.Export;
using Drift.Loss;
using Drift.Models;
using Drift.Train.Training.Images;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using TorchSharp.PyBridge;
using Drift.Train.RunFolders;
using Drift.Train.Training.Points;
using static TorchSharp.torch;

namespace Drift.Tests;

/// <summary>
/// Exported generators used outside Drift, each against Drift's own output on the same inputs: the safetensors loaded
/// into the shipped PyTorch module by Debian's PyTorch (1e-5), the ONNX model in ONNX Runtime (1e-4) and accepted by
/// the ONNX checker, and the web page in headless Chromium drawing the pixels ONNX Runtime computes (1/255). Needs
/// python3-torch, python3-onnx, chromium and export/web's npm install (build/test-deps.sh; CI runs it).
/// </summary>
[Collection(RealProcesses.Name)]
public sealed class ExportTests : IDisposable
{
    private const string Python = "/usr/bin/python3";
    private readonly string root = Directory.CreateTempSubdirectory("drift-export-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Theory]
    [InlineData("mlp", 8, 16, 1, 2, false, false)]
    [InlineData("mlp", 4, 64, 3, 5, false, false)]
    [InlineData("conv", 28, 1, 10, 8, true, true)]
    [InlineData("conv", 28, 1, 10, 16, true, false)]
    [InlineData("conv", 32, 3, 0, 8, false, false)]
    public void ThePyTorchMirrorLoadsTheSafetensorsAndMatchesTheModule(string architecture, int a, int b, int c, int d, bool labels, bool guidance)
    {
        var (rng, seed) = Tensors.Fresh();
        var export = Directory.CreateDirectory(Path.Combine(root, "export")).FullName;
        var inputs = Directory.CreateDirectory(Path.Combine(root, "inputs")).FullName;
        Tensor expected;
        if (architecture == "mlp")
        {
            using var model = new MlpGenerator(a, b, c, d);
            OnnxExportTests.Scramble(model, rng);
            var mean = Enumerable.Range(0, d).Select(i => 0.5 * i - 1).ToArray();
            var std = Enumerable.Range(0, d).Select(i => 0.5 + i).ToArray();
            using var noise = torch.randn([33, a], generator: rng);
            expected = model.forward(noise).detach() * torch.tensor(std, dtype: float32) + torch.tensor(mean, dtype: float32);
            model.save_safetensors(Path.Combine(export, "generator.safetensors"));
            WriteCard(export, "points", new("mlp", new Dictionary<string, int> { ["noise_dim"] = a, ["width"] = b, ["depth"] = c, ["out_dim"] = d }), mean, std);
            WriteRaw(Path.Combine(inputs, "noise.f32"), noise);
        }
        else
        {
            using var model = new ConvGenerator(8, a, b, c, d, gridBlocks: 1);
            OnnxExportTests.Scramble(model, rng);
            model.eval();
            const int n = 6;
            using var noise = torch.randn([n, 8], generator: rng);
            using var labelTensor = labels ? torch.randint(0, c + 1, [n], generator: rng) : torch.full(n, (long)c);
            using var alpha = guidance ? 1 + 2 * torch.rand(n, generator: rng) : torch.ones(n);
            expected = model.forward(noise, labelTensor, alpha).detach().add(1).mul(0.5).clamp(0, 1);
            model.save_safetensors(Path.Combine(export, "generator.safetensors"));
            WriteCard(export, "images", new("conv", new Dictionary<string, int>
                { ["noise_dim"] = 8, ["image_size"] = a, ["channels"] = b, ["classes"] = c, ["width"] = d, ["grid_blocks"] = 1, ["cond_dim"] = 128 }), null, null);
            WriteRaw(Path.Combine(inputs, "noise.f32"), noise);
            if (labels) WriteRaw(Path.Combine(inputs, "labels.i64"), labelTensor);
            if (guidance) WriteRaw(Path.Combine(inputs, "guidance.f32"), alpha);
        }
        File.WriteAllBytes(Path.Combine(export, "drift_generator.py"), ShippedModule());
        RunPython(export, inputs);
        using var actual = ReadRaw(Path.Combine(inputs, "pytorch.f32"), expected.shape);
        var scale = Math.Max(1, expected.abs().max().item<float>());
        var diff = (actual - expected).abs().max().item<float>();
        // Float32 both, summed in other orders (Drift's transposed upsampling convolutions against upsampling then 3×3): one seed in
        // many reached 1.05e-5; a wrong weight or layer is off by orders of magnitude more.
        Assert.True(diff <= 3e-5 * scale, $"seed {seed}: max |PyTorch − TorchSharp| = {diff:g3} (scale {scale:g3})");
        expected.Dispose();
    }

    /// <summary>A trained points run through <c>drift export</c>: ONNX Runtime and PyTorch give what <c>drift sample</c> gives.</summary>
    [Fact]
    public async Task AnExportedPointsRunSamplesAsDriftDoes()
    {
        var run = Path.Combine(root, "points");
        var config = new TrainConfig { Data = "moons", Steps = 20, Batch = 64, Width = 32, Depth = 2, EvalSamples = 100, EvalEvery = 100, Seed = Tensors.Seed() };
        PointsTrainer.Run(config, run, null, NullLogger.Instance, _ => { }, CancellationToken.None);
        var export = Export(run, "onnx,safetensors");
        var checkpoint = Checkpoint.Load(run);
        const int n = 300;
        const long seed = 11;
        using var expected = torch.tensor(PointEvaluation.Generate(checkpoint, n, seed));
        using var noiseRng = new Generator((ulong)seed);
        using var noise = torch.randn([n, config.NoiseDim], generator: noiseRng);

        using var onnx = OnnxExportTests.Run(File.ReadAllBytes(Path.Combine(export, "generator.onnx")), (OnnxGenerators.Noise, noise));
        Assert.True((onnx - expected).abs().max().item<float>() <= 1e-4 * Math.Max(1, expected.abs().max().item<float>()));
        var inputs = Directory.CreateDirectory(Path.Combine(root, "points-inputs")).FullName;
        WriteRaw(Path.Combine(inputs, "noise.f32"), noise);
        // The module's sample() draws drift sample's noise: the same seed and noise scale give drift's points.
        var scale = NoiseScale();
        File.WriteAllText(Path.Combine(inputs, "sample.json"), JsonSerializer.Serialize(new { n, seed, noise_scale = scale }));
        RunPython(export, inputs);
        using var pytorch = ReadRaw(Path.Combine(inputs, "pytorch.f32"), expected.shape);
        Assert.True((pytorch - expected).abs().max().item<float>() <= 1e-5 * Math.Max(1, expected.abs().max().item<float>()));
        using var scaled = torch.tensor(PointEvaluation.Generate(checkpoint, n, seed, noiseScale: scale));
        using var sampled = ReadRaw(Path.Combine(inputs, "sample.f32"), scaled.shape);
        Assert.True((sampled - scaled).abs().max().item<float>() <= 1e-5 * Math.Max(1, scaled.abs().max().item<float>()),
            $"sample(seed={seed}, noise_scale={scale}) against drift sample: {(sampled - scaled).abs().max().item<float>():g3}");
        var cardText = File.ReadAllText(Path.Combine(export, GeneratorCard.FileName));
        var card = GeneratorCard.FromJson(cardText);
        Assert.Equal(checkpoint.Scale.Mean, card.DataMean);
        Assert.Equal(20, card.Source.Step);
        var build = $"drift {System.Diagnostics.FileVersionInfo.GetVersionInfo(typeof(Drift.Train.Provenance).Assembly.Location).ProductVersion}";
        Assert.Equal(build, card.Source.ExportedBy);
        Assert.Contains($"\"exported_by\": \"{build}\"", cardText);   // as people read it: "1.0.0+commit", not "\u002B"
        // The module's load() of an export without PyTorch weights says so, and how to get them.
        var onnxOnly = Path.Combine(root, "points-onnx-only");
        Assert.Equal(0, DriftProcess.Run(["export", "--checkpoint", run, "--out", onnxOnly, "--format", "onnx"]).Code);
        var (loadCode, _, loadErr) = Finish(new ProcessStartInfo(Python, ["-c", "import sys; sys.path.insert(0, sys.argv[1]); import drift_generator; drift_generator.load(sys.argv[2])", export, onnxOnly]));
        Assert.NotEqual(0, loadCode);
        Assert.Contains($"ValueError: {onnxOnly}: this export has no PyTorch weights (its files: generator.onnx); export with drift export --format safetensors", loadErr);

        // bench/pytorch/step_bench.py, the PyTorch mirror of the 2-D step: the same loss and field on the same inputs.
        using var positives = torch.randn([90, 2], generator: noiseRng) * 0.8 + 0.2;
        using var batch = noise.narrow(0, 0, 120);
        WriteRaw(Path.Combine(inputs, "noise.f32"), batch);
        WriteRaw(Path.Combine(inputs, "positives.f32"), positives);
        double[] bandwidths = [0.4, 0.8, 1.6, 3.2];
        using var model = PointComponents.Generator(checkpoint.Config<TrainConfig>(), 2);
        checkpoint.LoadWeights(model);
        var drift = DriftLoss.Compute(FieldKind.Conservative.Create(new FieldParameters(bandwidths)), model.forward(batch), positives, 0.7);
        var script = Path.Combine(AppContext.BaseDirectory, "Export", "step_bench.py");
        using (var p = Process.Start(new ProcessStartInfo(Python, [script, "--export", export, "--check", inputs, "--eta", "0.7", "--bandwidths", .. bandwidths.Select(b => b.ToString(System.Globalization.CultureInfo.InvariantCulture))])
            { RedirectStandardOutput = true, RedirectStandardError = true })!)
        {
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, $"{script}: exit {p.ExitCode}\n{(await stdout)}{stderr}");
        }
        using var step = ReadRaw(Path.Combine(inputs, "step.f32"), [1 + 120 * 2]);
        var loss = drift.Loss.item<float>();
        Assert.True(Math.Abs(step[0].item<float>() - loss) <= 1e-5 * loss, $"loss: PyTorch {step[0].item<float>()}, Drift {loss}");
        using var velocity = step.narrow(0, 1, 240).view(120, 2);
        using var driftVelocity = FieldKind.Conservative.Create(new FieldParameters(bandwidths)).Compute(model.forward(batch).detach(), positives).Velocity;
        Assert.True((velocity - driftVelocity).abs().max().item<float>() <= 1e-4 * driftVelocity.abs().max().item<float>(), "field: PyTorch against Drift");
    }

    /// <summary>bench/pytorch/image_step_bench.py, the PyTorch mirror of the image step: Drift's loss on the same weights
    /// and inputs, both fields (the laplace field over both axes and over rows only), four feature spaces, two class groups.</summary>
    [Theory]
    [InlineData("conservative", false)]
    [InlineData("laplace", false)]
    [InlineData("laplace", true)]
    public async Task ThePyTorchImageStepComputesDriftsLoss(string fieldName, bool rowsOnly)
    {
        var (rng, seed) = Tensors.Fresh();
        var run = Path.Combine(root, "images");
        var config = new ImageConfig
        {
            Data = TinyImages.Write(Path.Combine(root, "tiny"), seed), Steps = 2, ClassBatch = 6, ClassPositives = 10, Width = 8, NoiseDim = 4, Warmup = 1, Seed = seed,
            Field = FieldKind.Named(fieldName), RowsOnly = rowsOnly, Features = ["pixels", "mean2", "mean4", "std4"],
        };
        ImageTrainer.Run(config, run, null, NullLogger.Instance, _ => { }, CancellationToken.None);
        var export = Export(run, "safetensors");
        using var model = new ConvGenerator(config.NoiseDim, 8, 1, 2, config.Width);
        model.load_safetensors(Path.Combine(export, "generator.safetensors"));
        const int groups = 2, perGroup = 6, positives = 10;
        using var noise = torch.randn([groups * perGroup, config.NoiseDim], generator: rng);
        using var labels = torch.arange(groups, dtype: int64).repeat_interleave(perGroup);
        using var images = torch.rand([groups * positives, 1, 8, 8], generator: rng) * 2 - 1;
        var inputs = Directory.CreateDirectory(Path.Combine(root, "image-step")).FullName;
        WriteRaw(Path.Combine(inputs, "noise.f32"), noise);
        WriteRaw(Path.Combine(inputs, "labels.i64"), labels);
        WriteRaw(Path.Combine(inputs, "positives.f32"), images);
        // The default spaces (no encoder) read no training set, so an empty one stands in.
        var loss = FeatureDriftLoss.Compute(config.BuildField(), ImageComponents.FeatureSpaces(config, null, torch.empty(0, 1, 8, 8, dtype: torch.uint8), WholeBatch.Instance), groups,
            model.forward(noise, labels, torch.ones(groups * perGroup)), new DataImages(images), 0.7).Loss.item<float>();
        var script = Path.Combine(AppContext.BaseDirectory, "Export", "image_step_bench.py");
        string[] arguments = [script, "--export", export, "--check", inputs, "--field", fieldName, .. rowsOnly ? ["--rows-only"] : Array.Empty<string>(), "--groups", $"{groups}", "--eta", "0.7",
            "--features", .. config.Features, "--scales", .. config.FieldScales.Select(s => s.ToString("R", System.Globalization.CultureInfo.InvariantCulture))];
        using (var p = Process.Start(new ProcessStartInfo(Python, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!)
        {
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, $"{script}: exit {p.ExitCode}\n{(await stdout)}{stderr}");
        }
        using var pytorch = ReadRaw(Path.Combine(inputs, "loss.f32"), [1]);
        Assert.True(Math.Abs(pytorch.item<float>() - loss) <= 1e-4 * loss, $"seed {seed}, {fieldName}{(rowsOnly ? " over rows only" : "")}: loss PyTorch {pytorch.item<float>()}, Drift {loss}");
    }

    /// <summary>A trained conditional image run with guidance, exported: ONNX Runtime and PyTorch give <c>drift sample</c>'s
    /// EMA images (as [0, 1]) at α = 2, and the page, in headless Chromium, draws ONNX Runtime's pixels. The data's class
    /// names (its subfolders) are in the card, found by the PyTorch module's class_label and shown in the page's picker.</summary>
    [Fact]
    public void AnExportedImageRunSamplesAsDriftDoesAndThePageDrawsIt()
    {
        var run = Path.Combine(root, "images");
        var config = new ImageConfig
        {
            Data = TinyImages.WriteFolder(Path.Combine(root, "tiny")), ImageSize = 8, Steps = 6, ClassBatch = 6, ClassPositives = 10, Width = 4, NoiseDim = 4, Features = ["pixels"],
            GuidanceMax = 3, UnconditionalNegatives = 4, Warmup = 2, Seed = Tensors.Seed(),
        };
        ImageTrainer.Run(config, run, null, NullLogger.Instance, _ => { }, CancellationToken.None);
        var export = Export(run, "all");
        Assert.Equal(["left", "top"], GeneratorCard.FromJson(File.ReadAllText(Path.Combine(export, GeneratorCard.FileName))).ClassNames!);
        var checkpoint = Checkpoint.Load(run);
        const int n = 20;
        const long seed = 5;
        var (raw, labelArray) = ImageSampling.Generate(checkpoint, n, null, 2.0, seed, CPU);
        using var expected = raw.add(1).mul(0.5).clamp(0, 1);
        raw.Dispose();
        using var noiseRng = new Generator((ulong)seed);
        using var noise = torch.randn([n, config.NoiseDim], generator: noiseRng);
        using var labels = torch.tensor(labelArray);
        using var alpha = torch.full(n, 2f);

        using var onnx = OnnxExportTests.Run(File.ReadAllBytes(Path.Combine(export, "generator.onnx")),
            (OnnxGenerators.Noise, noise), (OnnxGenerators.Labels, labels), (OnnxGenerators.Guidance, alpha));
        Assert.True((onnx - expected).abs().max().item<float>() <= 1e-4, $"ONNX Runtime vs drift sample: {(onnx - expected).abs().max().item<float>():g3}");
        var inputs = Directory.CreateDirectory(Path.Combine(root, "image-inputs")).FullName;
        WriteRaw(Path.Combine(inputs, "noise.f32"), noise);
        WriteRaw(Path.Combine(inputs, "labels.i64"), labels);
        WriteRaw(Path.Combine(inputs, "guidance.f32"), alpha);
        // sample() against drift sample at a noise scale, past the 1000 images drift draws noise for at a time.
        const int many = 1100;
        var scale = NoiseScale();
        File.WriteAllText(Path.Combine(inputs, "sample.json"), JsonSerializer.Serialize(new { n = many, seed, noise_scale = scale, guidance = 2.0 }));
        // interpolate() against drift sample --interpolate: 3 walks of 4 images, from the same seed and noise scale.
        File.WriteAllText(Path.Combine(inputs, "interpolate.json"), JsonSerializer.Serialize(new { rows = 3, steps = 4, seed, noise_scale = scale, guidance = 2.0 }));
        RunPython(export, inputs);
        Assert.Equal("""{"left": 0, "top": 1, "LEFT": 0, "TOP": 1}""", File.ReadAllText(Path.Combine(inputs, "class_labels.json")));
        // The card is UTF-8 with names as typed: the module reads it so where the locale's default encoding is ASCII (or a
        // Windows code page, which would misread it silently).
        var accented = Directory.CreateDirectory(Path.Combine(root, "accented")).FullName;
        foreach (var file in Directory.GetFiles(export)) File.Copy(file, Path.Combine(accented, Path.GetFileName(file)));
        var exportedCard = GeneratorCard.FromJson(File.ReadAllText(Path.Combine(export, GeneratorCard.FileName)));
        File.WriteAllText(Path.Combine(accented, GeneratorCard.FileName), (exportedCard with { ClassNames = ["left", "tôp"] }).ToJson());
        var ascii = new ProcessStartInfo(Python, ["-c", """
            import sys; sys.path.insert(0, sys.argv[1])
            from drift_generator import load
            g = load(sys.argv[1]); print(ascii(g.card["class_names"]), g.class_label("t\xf4p"))
            """, accented]);
        (ascii.Environment["LC_ALL"], ascii.Environment["PYTHONUTF8"], ascii.Environment["PYTHONCOERCECLOCALE"]) = ("C", "0", "0");
        var (code, stdout, stderr) = Finish(ascii);
        Assert.True(code == 0 && stdout.Trim() == """['left', 't\xf4p'] 1""", $"under an ASCII locale: exit {code}\n{stdout}{stderr}");
        using var pytorch = ReadRaw(Path.Combine(inputs, "pytorch.f32"), expected.shape);
        Assert.True((pytorch - expected).abs().max().item<float>() <= 1e-5, $"PyTorch vs drift sample: {(pytorch - expected).abs().max().item<float>():g3}");
        var (manyRaw, _) = ImageSampling.Generate(checkpoint, many, null, 2.0, seed, CPU, noiseScale: scale);
        using var manyExpected = manyRaw.add(1).mul(0.5).clamp(0, 1);
        manyRaw.Dispose();
        using var sampled = ReadRaw(Path.Combine(inputs, "sample.f32"), manyExpected.shape);
        Assert.True((sampled - manyExpected).abs().max().item<float>() <= 1e-5,
            $"sample(seed={seed}, noise_scale={scale}) against drift sample: {(sampled - manyExpected).abs().max().item<float>():g3}");
        var (walkRaw, _) = ImageSampling.Interpolate(checkpoint, 3, 4, null, 2.0, seed, CPU, noiseScale: scale);
        using var walk = walkRaw.add(1).mul(0.5).clamp(0, 1);
        walkRaw.Dispose();
        using var walked = ReadRaw(Path.Combine(inputs, "interpolate.f32"), walk.shape);
        Assert.True((walked - walk).abs().max().item<float>() <= 1e-5,
            $"interpolate(3, 4, seed={seed}, noise_scale={scale}) against drift sample --interpolate: {(walked - walk).abs().max().item<float>():g3}");

        // The page on the same inputs at that noise scale: its canvas, tile by tile, against ONNX Runtime's output on the
        // scaled noise rounded to bytes.
        var web = Path.Combine(export, "web");
        File.WriteAllText(Path.Combine(web, "test-noise.json"), JsonSerializer.Serialize(new
        {
            n, noise = noise.data<float>().ToArray(), labels = labelArray, guidance = alpha.data<float>().ToArray(),
        }));
        var (page, dom) = PageResult(web, $"noise=test-noise.json&scale={scale.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        Assert.Contains("""<option value="0">0 left</option><option value="1">1 top</option>""", dom);
        using var onnxScaled = OnnxExportTests.Run(File.ReadAllBytes(Path.Combine(export, "generator.onnx")),
            (OnnxGenerators.Noise, noise * scale), (OnnxGenerators.Labels, labels), (OnnxGenerators.Guidance, alpha));
        Assert.True((onnxScaled - onnx).abs().max().item<float>() > 2.0 / 255, $"the noise scale {scale} changed no pixel the page could show: {(onnxScaled - onnx).abs().max().item<float>() * 255:g3}/255");
        var (width, height) = (page.GetProperty("width").GetInt32(), page.GetProperty("height").GetInt32());
        var rgba = Convert.FromBase64String(page.GetProperty("rgba").GetString()!);
        const int columns = 10, size = 8;
        Assert.Equal((columns * size, (n + columns - 1) / columns * size), (width, height));
        var worst = 0.0;
        for (var k = 0; k < n; k++)
        for (var y = 0; y < size; y++)
        for (var x = 0; x < size; x++)
        {
            var drawn = rgba[4 * ((k / columns * size + y) * width + k % columns * size + x)];
            worst = Math.Max(worst, Math.Abs(drawn - 255.0 * onnxScaled[k, 0, y, x].item<float>()));
        }
        Assert.True(worst <= 1.0, $"the page's pixels differ from ONNX Runtime's by up to {worst:F2}/255");
        // Its PNG download is the grid as drawn, pixel for pixel.
        var png = System.Text.RegularExpressions.Regex.Match(dom, "<a id=\"download\"[^>]*href=\"data:image/png;base64,([^\"]*)\"");
        Assert.True(png.Success, "no PNG download on the page");
        var downloaded = StbImageSharp.ImageResult.FromMemory(Convert.FromBase64String(png.Groups[1].Value), StbImageSharp.ColorComponents.RedGreenBlueAlpha);
        Assert.Equal((width, height), (downloaded.Width, downloaded.Height));
        Assert.Equal(rgba, downloaded.Data);

        // The page's walks through the noise from given ends: each row along the great circle from its start to its end,
        // computed here in float64 from the formula, then ONNX Runtime on it at the noise scale, as the page draws it.
        const int walks = 3;
        var random = new Random((int)Tensors.Seed());
        var ends = new double[2 * walks, config.NoiseDim];
        for (var i = 0; i < ends.Length; i++) ends[i / config.NoiseDim, i % config.NoiseDim] = random.NextDouble() * 4 - 2;
        var walkLabels = Enumerable.Range(0, walks * columns).Select(i => (long)(i / columns % 2)).ToArray();
        var path = Reference.Slerp(ends, walks, columns, scale);
        File.WriteAllText(Path.Combine(web, "test-walk.json"), JsonSerializer.Serialize(new
        {
            ends = ends.Cast<double>(), labels = walkLabels, guidance = Enumerable.Repeat(2.0, walks * columns),
        }));
        (page, dom) = PageResult(web, $"walk=1&noise=test-walk.json&scale={scale.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        using var walkNoise = torch.tensor(path, [walks * columns, config.NoiseDim]);
        using var walkLabelTensor = torch.tensor(walkLabels);
        using var walkAlpha = torch.full(walks * columns, 2f);
        using var walkOnnx = OnnxExportTests.Run(File.ReadAllBytes(Path.Combine(export, "generator.onnx")),
            (OnnxGenerators.Noise, walkNoise), (OnnxGenerators.Labels, walkLabelTensor), (OnnxGenerators.Guidance, walkAlpha));
        (width, height) = (page.GetProperty("width").GetInt32(), page.GetProperty("height").GetInt32());
        rgba = Convert.FromBase64String(page.GetProperty("rgba").GetString()!);
        Assert.Equal((columns * size, walks * size), (width, height));
        worst = 0.0;
        for (var k = 0; k < walks * columns; k++)
        for (var y = 0; y < size; y++)
        for (var x = 0; x < size; x++)
            worst = Math.Max(worst, Math.Abs(rgba[4 * ((k / columns * size + y) * width + k % columns * size + x)] - 255.0 * walkOnnx[k, 0, y, x].item<float>()));
        Assert.True(worst <= 1.0, $"the page's walks differ from ONNX Runtime's on the formula's noise by up to {worst:F2}/255");
    }

    /// <summary>A points run of three named columns, exported: the page plots the two columns asked for in equal units with
    /// every sample on its pixel, or one column's histogram with its counts and bar heights, and its CSV download holds
    /// ONNX Runtime's samples under the data's column names (read back by drift's own CSV reader). Opened as a file, or
    /// served without its card, it says why it cannot draw.</summary>
    [Fact]
    public void ThePagePlotsAPointsRunsColumnsByName()
    {
        var seed = Tensors.Seed();
        var random = new Random(seed);
        var data = Path.Combine(root, "stations.csv");
        string[] names = ["longitude", "lat, north", "depth \"m\""];
        string Value(double centre, double spread) => (centre + spread * random.NextDouble()).ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        File.WriteAllLines(data, ["longitude,\"lat, north\",\"depth \"\"m\"\"\"", .. Enumerable.Range(0, 200).Select(_ => $"{Value(10, 4)},{Value(-2, 1)},{Value(0, 0.3)}")]);
        var run = Path.Combine(root, "stations");
        var config = new TrainConfig { Data = data, Steps = 20, Batch = 64, Width = 32, Depth = 2, EvalSamples = 40, EvalEvery = 100, Seed = seed };
        PointsTrainer.Run(config, run, null, NullLogger.Instance, _ => { }, CancellationToken.None);
        var export = Export(run, "web");
        var web = Path.Combine(export, "web");
        var n = random.Next(300, 800);
        var scale = NoiseScale();
        using var noise = torch.randn([n, config.NoiseDim], generator: new Generator((ulong)seed));
        File.WriteAllText(Path.Combine(web, "test-noise.json"), JsonSerializer.Serialize(new { n, noise = noise.data<float>().ToArray() }));
        using var onnx = OnnxExportTests.Run(File.ReadAllBytes(Path.Combine(web, "generator.onnx")), (OnnxGenerators.Noise, noise * scale));
        var (x, y) = (random.Next(3), random.Next(2));
        y += y >= x ? 1 : 0;
        var query = $"noise=test-noise.json&scale={scale.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
        var dotColour = new byte[] { 0x1f, 0x5f, 0xa8 };

        var (page, dom) = PageResult(web, $"{query}&x={x}&y={y}");
        var points = Download(dom, names);
        Assert.True((torch.tensor(points) - onnx).abs().max().item<float>() <= 1e-5 * Math.Max(1, onnx.abs().max().item<float>()), "the CSV against ONNX Runtime");
        var plot = page.GetProperty("plot");
        Assert.Equal((x, y, "scatter"), (plot.GetProperty("x").GetInt32(), plot.GetProperty("y").GetInt32(), plot.GetProperty("kind").GetString()));
        Assert.Equal([names[x], names[y]], plot.GetProperty("names").EnumerateArray().Select(e => e.GetString()!));
        var (left, top, size) = (plot.GetProperty("left").GetDouble(), plot.GetProperty("top").GetDouble(), plot.GetProperty("size").GetDouble());
        var (u, w) = (Column(points, x), Column(points, y));
        // Equal units: the wider range plus 6 % fills the square, both centred.
        var perUnit = size / (1.06 * Math.Max(u.Max() - u.Min(), w.Max() - w.Min()));
        var centre = plot.GetProperty("centre").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal((u.Min() + u.Max()) / 2, centre[0], 1e-9);
        Assert.Equal((w.Min() + w.Max()) / 2, centre[1], 1e-9);
        Assert.Equal(perUnit, plot.GetProperty("perUnit").GetDouble(), 1e-9 * perUnit);
        var rgba = Convert.FromBase64String(page.GetProperty("rgba").GetString()!);
        var width = page.GetProperty("width").GetInt32();
        bool Dot(int px, int py) => rgba.AsSpan(4 * (py * width + px), 3).SequenceEqual(dotColour);
        var missing = Enumerable.Range(0, n).Count(k => !Dot((int)Math.Floor(left + size / 2 + (u[k] - centre[0]) * perUnit) - 1,
            (int)Math.Floor(top + size / 2 - (w[k] - centre[1]) * perUnit) - 1));
        Assert.True(missing == 0, $"seed {seed}: {missing} of {n} samples are not drawn where column {x} against {y} puts them");

        // The same column twice: its histogram, 40 bins over the samples' range, as a density that fills the height.
        (page, dom) = PageResult(web, $"{query}&x={y}&y={y}");
        plot = page.GetProperty("plot");
        Assert.Equal("histogram", plot.GetProperty("kind").GetString());
        Assert.Equal([names[y], "density"], plot.GetProperty("names").EnumerateArray().Select(e => e.GetString()!));
        var (lo, binWidth) = (w.Min(), (w.Max() - w.Min()) / 40);
        var counts = new int[40];
        foreach (var t in w) counts[Math.Min(39, (int)Math.Floor((t - lo) / binWidth))]++;
        Assert.Equal(counts, plot.GetProperty("counts").EnumerateArray().Select(e => e.GetInt32()));
        var barsPerUnit = size / (1.06 * counts.Max() / (n * binWidth));
        Assert.Equal(barsPerUnit, plot.GetProperty("perUnit").GetDouble(), 1e-9 * barsPerUnit);
        rgba = Convert.FromBase64String(page.GetProperty("rgba").GetString()!);
        for (var b = 0; b < 40; b++)
        {
            // Each bar's middle column is coloured from its height to the axis, and white above.
            var middle = (int)Math.Floor(left + (b + 0.5) / 40 * size);
            var height = Enumerable.Range((int)top, (int)size).Count(py => Dot(middle, py));
            var expected = counts[b] / (n * binWidth) * barsPerUnit;
            Assert.True(Math.Abs(height - expected) <= 1, $"seed {seed}: bin {b} of {counts[b]} samples is {height} pixels high, not {expected:F1}");
        }

        // On a screen of two device pixels a CSS pixel, the same plot on a canvas of twice the pixels: each sample a 4×4 dot.
        (page, _) = PageResult(web, $"{query}&x={x}&y={y}", deviceScale: 2);
        Assert.Equal(2, page.GetProperty("plot").GetProperty("dpr").GetDouble());
        Assert.Equal(2 * width, page.GetProperty("width").GetInt32());
        rgba = Convert.FromBase64String(page.GetProperty("rgba").GetString()!);
        width = page.GetProperty("width").GetInt32();
        missing = Enumerable.Range(0, n).Count(k =>
        {
            var (px, py) = (2 * ((int)Math.Floor(left + size / 2 + (u[k] - centre[0]) * perUnit) - 1), 2 * ((int)Math.Floor(top + size / 2 - (w[k] - centre[1]) * perUnit) - 1));
            return !(Dot(px, py) && Dot(px + 3, py + 3));
        });
        Assert.True(missing == 0, $"seed {seed}: at two device pixels a CSS pixel, {missing} of {n} samples are not drawn where they belong");

        // Opened from a file, as a double click opens it, the page cannot fetch its model, and says how to serve it.
        var opened = Chromium($"file://{Path.Combine(web, "index.html")}");
        Assert.Contains($"a page opened from a file cannot load its model: serve its folder, e.g. python3 -m http.server -d '{web}'",
            System.Net.WebUtility.HtmlDecode(opened));

        // Served without its card, as an export stopped part way leaves it, the page says so instead of failing to parse.
        File.Delete(Path.Combine(web, "generator.json"));
        var (failed, _) = Served(web, query);
        Assert.Equal("no generator.json beside the page (404): its export did not finish; run drift export again", failed.GetProperty("error").GetString());
    }

    /// <summary>The points in the page's CSV download (its data: link in the DOM), read by drift's CSV reader, whose header
    /// must be <paramref name="names"/>.</summary>
    private float[,] Download(string dom, string[] names)
    {
        var link = System.Text.RegularExpressions.Regex.Match(dom, "<a id=\"download\"[^>]*href=\"data:text/csv;charset=utf-8,([^\"]*)\"");
        Assert.True(link.Success, "no CSV download on the page");
        var csv = Path.Combine(root, "download.csv");
        File.WriteAllText(csv, Uri.UnescapeDataString(System.Net.WebUtility.HtmlDecode(link.Groups[1].Value)));
        var (points, columns) = Drift.Data.CsvPoints.Read(csv);
        Assert.Equal(names, columns!);
        return points;
    }

    private static double[] Column(float[,] points, int j) => Enumerable.Range(0, points.GetLength(0)).Select(k => (double)points[k, j]).ToArray();

    /// <summary>A noise scale on the page's slider and far enough from 1 to move a tiny generator's pixels: 0.5–0.7 or 1.3–1.5.</summary>
    private static double NoiseScale()
    {
        var random = new Random(Tensors.Seed());
        return (random.Next(2) == 0 ? 0.5 : 1.3) + 0.2 * random.NextDouble();
    }

    /// <summary>Runs <c>drift export</c> as a process; the export folder.</summary>
    private string Export(string run, string formats)
    {
        var export = Path.Combine(root, Path.GetFileName(run) + "-export");
        var (code, stdout, err) = DriftProcess.Run(["export", "--checkpoint", run, "--out", export, "--format", formats], timeout: TimeSpan.FromMinutes(2));
        Assert.True(code == 0, $"drift export: exit {code}: {err}");
        Assert.Contains("wrote", stdout);
        return export;
    }

    /// <summary>The page's result (its canvas as RGBA) at index.html?<paramref name="query"/>, and Chromium's DOM after the page
    /// drew it, served by a static file server, on a screen of <paramref name="deviceScale"/> device pixels a CSS pixel.</summary>
    private static (JsonElement Result, string Dom) PageResult(string web, string query, int deviceScale = 1)
    {
        var (result, dom) = Served(web, query, deviceScale);
        Assert.False(result.TryGetProperty("error", out var error), $"the page failed: {error}");
        return (result, dom);
    }

    /// <summary>As <see cref="PageResult"/>, also where the page reports an error (its result is then <c>{"error": ...}</c>).</summary>
    private static (JsonElement Result, string Dom) Served(string web, string query, int deviceScale = 1)
    {
        using var server = new Process { StartInfo = new ProcessStartInfo(Python, ["-u", "-m", "http.server", "--bind", "127.0.0.1", "0", "-d", web])
            { RedirectStandardOutput = true, RedirectStandardError = true } };
        server.Start();
        server.StandardError.ReadToEndAsync(); // its request log, drained so that it never blocks on a full pipe
        try
        {
            var line = server.StandardOutput.ReadLine() ?? "";
            var port = System.Text.RegularExpressions.Regex.Match(line, @"port (\d+)").Groups[1].Value;
            Assert.True(port.Length > 0, $"no port in the file server's first line: '{line}'");
            var dom = Chromium($"http://127.0.0.1:{port}/index.html?{query}", deviceScale);
            var match = System.Text.RegularExpressions.Regex.Match(dom, "<pre id=\"result\"[^>]*>([^<]*)</pre>");
            Assert.True(match.Success && match.Groups[1].Value.Length > 0, $"the page left no result:\n{dom[..Math.Min(2000, dom.Length)]}");
            return (JsonDocument.Parse(System.Net.WebUtility.HtmlDecode(match.Groups[1].Value)).RootElement.Clone(), dom);
        }
        finally
        {
            server.Kill();
            server.WaitForExit();
        }
    }

    /// <summary>Chromium's DOM of <paramref name="url"/> once the page is done (headless, a fresh profile).</summary>
    private static string Chromium(string url, int deviceScale = 1)
    {
        var profile = Directory.CreateTempSubdirectory("drift-chromium-").FullName;
        var start = new ProcessStartInfo("chromium", ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", $"--user-data-dir={profile}",
            $"--force-device-scale-factor={deviceScale}", "--virtual-time-budget=60000", "--dump-dom", url])
            { RedirectStandardOutput = true, RedirectStandardError = true };
        using var chromium = Process.Start(start)!;
        var dom = chromium.StandardOutput.ReadToEndAsync();
        chromium.StandardError.ReadToEndAsync();
        Assert.True(chromium.WaitForExit(120_000), "chromium did not finish within two minutes");
        Directory.Delete(profile, recursive: true);
        return dom.Result;
    }

    private static void WriteCard(string dir, string kind, CardArchitecture architecture, double[]? mean, double[]? std) =>
        File.WriteAllText(Path.Combine(dir, GeneratorCard.FileName), new GeneratorCard(GeneratorCard.FormatName, kind, architecture, "standard normal, float32",
            [], [], mean, std, null, null, null, null, new Dictionary<string, string> { ["safetensors"] = "generator.safetensors" }, new("test", 0, "test", "test", "test")).ToJson());

    /// <summary>README's PyTorch example, as a user pastes it, runs on the committed export and gives what its comments
    /// say (it used torch without importing it).</summary>
    [Fact]
    public void TheReadmesPyTorchExampleRuns()
    {
        var repo = GpuAcceptanceTests.Repository();
        var readme = File.ReadAllLines(Path.Combine(repo, "README.md"));
        var start = Array.FindIndex(readme, l => l.TrimStart().StartsWith("import sys", StringComparison.Ordinal) && l.Contains("docs/export/"));
        Assert.True(start >= 0, "no PyTorch example in README.md");
        var indent = readme[start].Length - readme[start].TrimStart().Length;
        var example = readme.Skip(start).TakeWhile(l => l.Length > indent && l[..indent].Trim().Length == 0).Select(l => l[indent..]);
        var script = Path.Combine(root, "readme_example.py");
        File.WriteAllLines(script, example.Append("""
            assert tuple(images.shape) == (16, 1, 28, 28) and images.dtype == torch.bfloat16, (images.shape, images.dtype)
            assert 0 <= float(images.min()) and float(images.max()) <= 1
            assert tuple(walks.shape) == (100, 1, 28, 28), walks.shape
            print("ok")
            """));
        var (code, stdout, stderr) = Finish(new ProcessStartInfo(Python, [script]) { WorkingDirectory = repo });
        Assert.True(code == 0 && stdout.Trim() == "ok", $"README's example: exit {code}\n{stdout}{stderr}");
    }

    /// <summary>drift_generator.py as drift export writes it (built into drift from export/pytorch).</summary>
    private static byte[] ShippedModule()
    {
        using var stream = typeof(Drift.Train.Export.RunExport).Assembly.GetManifestResourceStream("export/drift_generator.py")!;
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static void RunPython(string export, string inputs)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "Export", "pytorch_check.py");
        var (code, stdout, stderr) = Finish(new ProcessStartInfo(Python, [script, export, inputs]));
        Assert.True(code == 0, $"{Python} {script}: exit {code}\n{stdout}{stderr}");
    }

    /// <summary>Runs a process to its end: exit code, stdout, stderr.</summary>
    private static (int Code, string Out, string Err) Finish(ProcessStartInfo start)
    {
        start.RedirectStandardOutput = start.RedirectStandardError = true;
        using var p = Process.Start(start)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr);
    }

    private static void WriteRaw(string path, Tensor t)
    {
        using var c = t.contiguous();
        File.WriteAllBytes(path, c.dtype == ScalarType.Int64
            ? c.data<long>().ToArray().SelectMany(BitConverter.GetBytes).ToArray()
            : c.data<float>().ToArray().SelectMany(BitConverter.GetBytes).ToArray());
    }

    private static Tensor ReadRaw(string path, long[] shape)
    {
        var bytes = File.ReadAllBytes(path);
        var values = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return torch.tensor(values, shape);
    }
}
