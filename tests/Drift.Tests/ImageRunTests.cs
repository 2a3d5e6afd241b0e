using Drift.Train.Output;
using Drift.Loss;
using Drift.Train.Training.Images;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using Drift.Train.RunFolders;
using Drift.Train.Training.Points;

namespace Drift.Tests;

/// <summary>Image runs end to end on a tiny MNIST-format set the test writes itself: resume exactness,
/// what a run leaves behind, and the sample/classifier/eval commands on it.</summary>
[Collection(SeededWeights.Name)]
public sealed class ImageRunTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("drift-image-run-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    private ImageConfig Small(string field) => new()
    {
        Data = TinyImages.Write(Path.Combine(root, "tiny")), Field = FieldKind.Named(field), Steps = 12, ClassBatch = 6, ClassPositives = 10, Width = 4, NoiseDim = 4, Features = ["pixels", "mean2"],
        Warmup = 3, LogEvery = 2, GridEvery = 5, CheckpointEvery = 5, Seed = Tensors.Seed(),
    };

    private static string[] Metrics(string dir) => File.ReadAllLines(Path.Combine(dir, RunFiles.Metrics))
        .Select(l => l.Split(',')).Select(c => string.Join(',', c.Take(1).Concat(c.Skip(2)))).ToArray();

    [Theory]
    [InlineData("conservative", 1.0)]
    [InlineData("laplace", 1.0)]
    [InlineData("conservative", 3.0)]
    public void InterruptedAndResumedRunEndsAsTheUninterruptedOne(string field, double guidanceMax)
    {
        var config = Small(field) with { GuidanceMax = guidanceMax, UnconditionalNegatives = 5 };
        var whole = Path.Combine(root, "whole");
        ImageTrainer.Run(config, whole, null, NullLogger.Instance, _ => { }, CancellationToken.None);

        var split = Path.Combine(root, "split");
        using var stop = new CancellationTokenSource();
        Assert.True(ImageTrainer.Run(config, split, null, NullLogger.Instance, r => { if (r.Step == 7) stop.Cancel(); }, stop.Token).Interrupted);
        var checkpoint = Checkpoint.Load(split);
        Assert.Equal(7, checkpoint.Step);
        ImageTrainer.Run(checkpoint.Config<ImageConfig>(), split, checkpoint, NullLogger.Instance, _ => { }, CancellationToken.None);

        Assert.Equal(Metrics(whole), Metrics(split));
        using var a = ImageSampling.Generate(Checkpoint.Load(whole), 8, null, guidanceMax, 0, torch.CPU).Images;
        using var b = ImageSampling.Generate(Checkpoint.Load(split), 8, null, guidanceMax, 0, torch.CPU).Images;
        Assert.True(a.equal(b).all().item<bool>(), "the resumed run's EMA generator differs");
        Assert.True(torch.isfinite(a).all().item<bool>());
    }

    /// <summary>On the CPU a run is a function of its config and seed: this failed on AVX-512 machines while
    /// oneDNN's convolution backward read stale buffers (see <see cref="CpuConvolutionOracleTests"/>).</summary>
    [Theory]
    [InlineData("conservative")]
    [InlineData("laplace")]
    [InlineData("mmd")]
    public void TwoRunsWithTheSameSeedGiveIdenticalMetricsAndWeights(string field)
    {
        var config = Small(field);
        var runs = new[] { "first", "second" }.Select(name => Path.Combine(root, name)).ToArray();
        foreach (var dir in runs)
            ImageTrainer.Run(config, dir, null, NullLogger.Instance, _ => { }, CancellationToken.None);
        var metrics = Metrics(runs[0]);
        Assert.Equal(metrics, Metrics(runs[1]));
        Assert.True(metrics.Length > 3 && !metrics.Any(row => row.Contains("NaN")), "the runs are identical but not finite:\n" + string.Join('\n', metrics));
        using var a = ImageSampling.Generate(Checkpoint.Load(runs[0]), 8, null, 1, 0, torch.CPU).Images;
        using var b = ImageSampling.Generate(Checkpoint.Load(runs[1]), 8, null, 1, 0, torch.CPU).Images;
        Assert.True(a.equal(b).all().item<bool>(), "same seed, different EMA weights");
        foreach (var grid in new[] { RunFiles.Grid, "grids/step-000005.png" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(runs[0], grid)), File.ReadAllBytes(Path.Combine(runs[1], grid)));
    }

    [Fact]
    public void ADivergingRunStopsBeforeAnyNonFiniteWeightIsSaved()
    {
        var dir = Path.Combine(root, "diverging");
        var e = Assert.Throws<Drift.Train.UserError>(() => ImageTrainer.Run(Small("laplace") with { Lr = 1e30, CheckpointEvery = 1 }, dir, null,
            NullLogger.Instance, _ => { }, CancellationToken.None));
        Assert.StartsWith("training diverged", e.Message);
        if (!Checkpoint.Exists(dir)) return;
        // Whatever was saved holds finite weights (loading checks them); weights that grew too large to
        // give finite images are refused with one line when sampled.
        var (code, _, err) = CliTests.Run("sample", "--checkpoint", dir, "--n", "4", "--out", Path.Combine(root, "d.png"));
        Assert.True(code == 0 || (code == 2 && Assert.Single(err.Trim().Split('\n')).Contains("non-finite samples")), err);
    }

    [Fact]
    public void SamplingACheckpointWithNaNWeightsIsAOneLineError()
    {
        var config = Small("conservative");
        var dir = Path.Combine(root, "poisoned");
        ImageTrainer.Run(config, dir, null, NullLogger.Instance, _ => { }, CancellationToken.None);
        using (var model = ImageComponents.Generator(Checkpoint.Load(dir).Config<ImageConfig>()))
            DivergenceTests.PoisonWeights(dir, model, 1);
        var (code, _, err) = CliTests.Run("sample", "--checkpoint", dir, "--n", "4", "--out", Path.Combine(root, "p.png"));
        Assert.Equal(2, code);
        Assert.Contains("non-finite weights", Assert.Single(err.Trim().Split('\n')));
    }

    [Fact]
    public void ARunLeavesGridsTensorBoardEventsAndAConfigThatNamesItsShape()
    {
        var dir = Path.Combine(root, "run");
        var result = ImageTrainer.Run(Small("laplace"), dir, null, NullLogger.Instance, _ => { }, CancellationToken.None);
        Assert.Equal(12, result.Step);
        Assert.True(result.ImagesPerSecond > 0);
        foreach (var file in new[] { RunFiles.Grid, "grids/step-000005.png", "grids/step-000012.png", RunFiles.Checkpoint, RunFiles.Metrics })
            Assert.True(new FileInfo(Path.Combine(dir, file)).Length > 0, $"{file} missing or empty");
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(dir, RunFiles.TensorBoard), "events.out.tfevents.*"));
        var saved = Checkpoint.Load(dir).Config<ImageConfig>();
        Assert.Equal((8, 1, 2), (saved.ImageSize, saved.Channels, saved.Classes));
        Assert.Contains("holds a run of images", Assert.Throws<Drift.Train.UserError>(() => Checkpoint.Load(dir).Config<TrainConfig>()).Message);
    }

    /// <summary>An unconditional generator has one row of labels, "no class" (label 0): training with its FD probe and grids,
    /// and sampling, feed it that label (until 2026-12-06 they fed the class count, past its embedding, and every
    /// --conditional false run failed at its first step). Sampled images against the rebuilt generator run by hand on label 0.</summary>
    [Fact]
    public void AnUnconditionalRunTrainsProbesAndSamplesItsOneLabel()
    {
        var classifier = Path.Combine(root, "classifier");
        var config = Small("laplace") with { Conditional = false, Steps = 4, Classifier = classifier, EvalEvery = 2, EvalSamples = 10, GridEvery = 2 };
        var (code, _, err) = CliTests.Run("classifier", "--data", config.Data, "--epochs", "1", "--batch", "16", "--out", classifier);
        Assert.True(code == 0, err);
        var dir = Path.Combine(root, "unconditional");
        var result = ImageTrainer.Run(config, dir, null, NullLogger.Instance, _ => { }, CancellationToken.None);
        Assert.Equal(4, result.Step);
        Assert.True(double.IsFinite(result.Fd), $"FD probe {result.Fd}");
        Assert.True(File.Exists(Path.Combine(dir, "grids/step-000004.png")));

        var checkpoint = Checkpoint.Load(dir);
        const int n = 12;
        var seed = Tensors.Seed();
        var (images, labels) = ImageSampling.Generate(checkpoint, n, null, 1, seed, torch.CPU);
        Assert.All(labels, l => Assert.Equal(-1, l));
        using var model = ImageComponents.Generator(checkpoint.Config<ImageConfig>());
        checkpoint.LoadWeights(model, 1);
        model.eval();
        using var rng = new torch.Generator((ulong)seed);
        using var noGrad = torch.no_grad();
        using var expected = model.forward(torch.randn([n, config.NoiseDim], generator: rng), torch.zeros(n, torch.int64),
            torch.ones(n));
        Assert.True(images.equal(expected).all().item<bool>(), $"max difference {(images - expected).abs().max().item<float>():g3}");
        images.Dispose();
        Assert.Equal(0, CliTests.Run("sample", "--checkpoint", dir, "--n", "9", "--out", Path.Combine(root, "unconditional.png")).Code);
        // As a folder, an unconditional run's samples lie in it, no class folders, each the generator's image as stored.
        var folder = Path.Combine(root, "unconditional-samples");
        (code, _, err) = CliTests.Run("sample", "--checkpoint", dir, "--n", $"{n}", "--seed", $"{seed}", "--out", folder);
        Assert.True(code == 0, err);
        Assert.Equal(Enumerable.Range(0, n).Select(i => $"{i:D6}.png"), Directory.GetFileSystemEntries(folder).Select(Path.GetFileName).Order());
        using var bytes = Drift.Data.Images.ImageSet.ToBytes(expected);
        for (var i = 0; i < n; i++)
            Assert.Equal(bytes[i].flatten().data<byte>().ToArray(),
                StbImageSharp.ImageResult.FromMemory(File.ReadAllBytes(Path.Combine(folder, $"{i:D6}.png")), StbImageSharp.ColorComponents.Grey).Data);
    }

    /// <summary>A generator is conditioned on the guidance scales it trained at, from 1 to --guidance-max: sample and eval
    /// refuse a scale past them, in one line, rather than draw from an input the generator never fitted.</summary>
    [Fact]
    public void SamplingPastTheTrainedGuidanceScalesIsRefused()
    {
        var guided = Path.Combine(root, "guided");
        ImageTrainer.Run(Small("laplace") with { Steps = 2, GuidanceMax = 2, UnconditionalNegatives = 4 }, guided, null, NullLogger.Instance, _ => { }, CancellationToken.None);
        Assert.Equal(0, CliTests.Run("sample", "--checkpoint", guided, "--n", "4", "--guidance", "2", "--out", Path.Combine(root, "g2.npy")).Code);
        var (code, _, err) = CliTests.Run("sample", "--checkpoint", guided, "--n", "4", "--guidance", "2.5", "--out", Path.Combine(root, "g25.npy"));
        Assert.Equal(2, code);
        Assert.Equal("drift: error: --guidance 2.5: this run trained at scales from 1 to 2 (--guidance-max)", err.Trim());
        Assert.False(File.Exists(Path.Combine(root, "g25.npy")));
        var plain = Path.Combine(root, "plain");
        var config = Small("conservative") with { Steps = 2 };
        ImageTrainer.Run(config, plain, null, NullLogger.Instance, _ => { }, CancellationToken.None);
        var classifier = Path.Combine(root, "classifier");
        Assert.Equal(0, CliTests.Run("classifier", "--data", config.Data, "--epochs", "1", "--batch", "16", "--out", classifier).Code);
        (code, _, err) = CliTests.Run("eval", "--checkpoint", plain, "--n", "20", "--guidance", "1.5", "--classifier", classifier);
        Assert.Equal(2, code);
        Assert.Contains("--guidance 1.5: this run trained without guidance", err);
    }

    /// <summary>No --lr: the field's own default trains the run and is written into its config, so that a rerun from
    /// the config or a resume keeps it whatever the defaults become.</summary>
    [Theory]
    [InlineData("conservative", 4e-3, 1e-3)]
    [InlineData("laplace", 4e-3, 2e-3)]
    [InlineData("mmd", 1e-3, 4e-3)]
    public void WithoutALearningRateTheFieldsDefaultTrainsTheRunAndIsSaved(string field, double fieldDefault, double other)
    {
        var config = Small(field) with { Steps = 6 };
        Assert.Null(config.Lr);
        var byDefault = Train("default", config);
        Assert.Equal(fieldDefault, Checkpoint.Load(byDefault).Config<ImageConfig>().Lr);
        Assert.Contains($"\"lr\": {fieldDefault:R}", File.ReadAllText(Path.Combine(byDefault, RunFiles.Config)));
        Assert.Equal(Metrics(byDefault), Metrics(Train("explicit", config with { Lr = fieldDefault })));
        Assert.NotEqual(Metrics(byDefault), Metrics(Train("other", config with { Lr = other })));
    }

    /// <summary>No --rows-only: a laplace image run normalises over rows only, the run with the option given, and says so
    /// in its config; with it off the run is another one and its config has no key, which reads back as off (so a
    /// config.json from before the default stays the run it was). Other fields write no key.</summary>
    [Fact]
    public void WithoutRowsOnlyALaplaceImageRunNormalisesOverRowsAndSavesIt()
    {
        var config = Small("laplace") with { Steps = 6 };
        Assert.Null(config.RowsOnly);
        // The run's log names the variant in force; a points run keeps both axes.
        Assert.Equal(("laplace field over rows only", "laplace field", "conservative field", "laplace field"),
            (config.FieldDescription, (config with { RowsOnly = false }).FieldDescription, Small("conservative").FieldDescription,
             new TrainConfig { Field = FieldKind.Laplace }.FieldDescription));
        var byDefault = Train("default", config);
        Assert.True(Checkpoint.Load(byDefault).Config<ImageConfig>().RowsOnly);
        Assert.Contains("\"rowsOnly\": true", File.ReadAllText(Path.Combine(byDefault, RunFiles.Config)));
        Assert.Equal(Metrics(byDefault), Metrics(Train("explicit", config with { RowsOnly = true })));

        var bothAxes = Train("both-axes", config with { RowsOnly = false });
        Assert.NotEqual(Metrics(byDefault), Metrics(bothAxes));
        var saved = File.ReadAllText(Path.Combine(bothAxes, RunFiles.Config));
        Assert.DoesNotContain("rowsOnly", saved);
        var read = ConfigJson.Read<ImageConfig>(saved, RunFiles.Config);
        Assert.Equal((false, false), (read.RowsOnly, read.Resolved().RowsOnly));
        Assert.False(Checkpoint.Load(bothAxes).Config<ImageConfig>().RowsOnly);

        var conservative = Train("conservative", Small("conservative") with { Steps = 2 });
        Assert.DoesNotContain("rowsOnly", File.ReadAllText(Path.Combine(conservative, RunFiles.Config)));
    }

    /// <summary>The same through the command line: --rows-only false turns the default off, and a run started from a
    /// config.json without the key (--config) keeps it off unless the option is given. A laplace run's config used for
    /// another field has its rowsOnly refused by name, with the way out.</summary>
    [Fact]
    public void RowsOnlyFromTheCommandLineAndFromAConfigFile()
    {
        string[] run = ["train-images", "--data", Small("laplace").Data, "--steps", "1", "--class-batch", "2",
            "--class-positives", "4", "--width", "4", "--noise-dim", "4", "--features", "pixels"];
        (int Code, string Err, string Dir) Start(string name, string[] more)
        {
            var dir = Path.Combine(root, name);
            var (code, _, err) = CliTests.Run([.. run, .. more, "--out", dir]);
            return (code, err, dir);
        }
        string Config(string name, params string[] more)
        {
            var (code, err, dir) = Start(name, more);
            Assert.True(code == 0, err);
            return File.ReadAllText(Path.Combine(dir, RunFiles.Config));
        }
        Assert.Contains("\"rowsOnly\": true", Config("default", "--field", "laplace"));
        Assert.DoesNotContain("rowsOnly", Config("off", "--field", "laplace", "--rows-only", "false"));
        var off = Path.Combine(root, "off", RunFiles.Config);
        Assert.DoesNotContain("rowsOnly", Config("from-file", "--config", off));
        Assert.Contains("\"rowsOnly\": true", Config("from-file-on", "--config", off, "--rows-only"));

        var on = Path.Combine(root, "default", RunFiles.Config);
        var (refused, why, _) = Start("refused", ["--config", on, "--field", "conservative"]);
        Assert.Equal(2, refused);
        Assert.Contains("use it with the laplace field, or give --rows-only false", Assert.Single(why.Trim().Split('\n')));
        Assert.DoesNotContain("rowsOnly", Config("conservative", "--config", on, "--field", "conservative", "--rows-only", "false"));
    }

    /// <summary>--cross-weights false: a laplace run over both axes trains with the field that drops the cross weights
    /// (another run than the paper's), says so in its log's words and in its config.json, whose key a --config rerun
    /// keeps; a config without the key reads as the paper's field. Refused over rows only (the image default), with the
    /// way out.</summary>
    [Fact]
    public void CrossWeightsOffFromTheCommandLineAndFromAConfigFile()
    {
        string[] run = ["train-images", "--data", Small("laplace").Data, "--steps", "4", "--class-batch", "2",
            "--class-positives", "4", "--width", "4", "--noise-dim", "4", "--features", "pixels", "--field", "laplace"];
        string Start(string name, params string[] more)
        {
            var dir = Path.Combine(root, name);
            var (code, _, err) = CliTests.Run([.. run, .. more, "--out", dir]);
            Assert.True(code == 0, err);
            return dir;
        }
        string Saved(string dir) => File.ReadAllText(Path.Combine(dir, RunFiles.Config));

        var without = Start("without", "--rows-only", "false", "--cross-weights", "false");
        Assert.Contains("\"crossWeights\": false", Saved(without));
        var config = Checkpoint.Load(without).Config<ImageConfig>();
        Assert.Equal((false, false), (config.CrossWeights, config.RowsOnly));
        Assert.Equal("laplace field without cross weights", config.FieldDescription);
        var paper = Start("paper", "--rows-only", "false");
        Assert.DoesNotContain("crossWeights", Saved(paper));
        Assert.True(Checkpoint.Load(paper).Config<ImageConfig>().CrossWeights);
        Assert.NotEqual(Metrics(without), Metrics(paper));
        Assert.Equal(Metrics(without), Metrics(Start("rerun", "--config", Path.Combine(without, RunFiles.Config))));

        var (refused, _, why) = CliTests.Run([.. run, "--cross-weights", "false", "--out", Path.Combine(root, "refused")]);
        Assert.Equal(2, refused);
        Assert.Contains("over rows only it has no cross weights: give --rows-only false with it", Assert.Single(why.Trim().Split('\n')));
        Assert.False(Directory.Exists(Path.Combine(root, "refused")));
    }

    private string Train(string name, ImageConfig config)
    {
        var dir = Path.Combine(root, name);
        ImageTrainer.Run(config, dir, null, NullLogger.Instance, _ => { }, CancellationToken.None);
        return dir;
    }

    [Fact]
    public void SampleClassifierAndEvalCommandsWorkOnAnImageRun()
    {
        var config = Small("conservative");
        var run = Path.Combine(root, "cli-run");
        ImageTrainer.Run(config, run, null, NullLogger.Instance, _ => { }, CancellationToken.None);

        var (code, _, err) = CliTests.Run("sample", "--checkpoint", run, "--n", "10", "--class", "1", "--out", Path.Combine(root, "s.npy"));
        Assert.True(code == 0, err);
        var npy = File.ReadAllBytes(Path.Combine(root, "s.npy"));
        Assert.Equal(10 * 8 * 8, npy.Length - (10 + BitConverter.ToUInt16(npy, 8)));
        Assert.Contains("'shape': (10, 8, 8)", System.Text.Encoding.ASCII.GetString(npy, 0, 128));
        Assert.True(File.Exists(Path.Combine(root, "s.labels.npy")));
        Assert.Equal(0, CliTests.Run("sample", "--checkpoint", run, "--out", Path.Combine(root, "grid.png")).Code);
        Assert.Contains("classes 0 to 1", CliTests.Run("sample", "--checkpoint", run, "--class", "5", "--out", Path.Combine(root, "x.png")).Err);

        Assert.Contains("no classifier in", CliTests.Run("eval", "--checkpoint", run, "--classifier", Path.Combine(root, "none")).Err);
        var classifier = Path.Combine(root, "classifier");
        (code, _, err) = CliTests.Run("classifier", "--data", config.Data, "--epochs", "2", "--batch", "16", "--out", classifier);
        Assert.True(code == 0, err);
        var (info, model) = ClassifierFile.Load(classifier);
        model.Dispose();
        Assert.True(info.TestAccuracy > 0.9, $"the two halves should be easy to tell apart, accuracy {info.TestAccuracy}");

        (code, var output, err) = CliTests.Run("eval", "--checkpoint", run, "--classifier", classifier, "--n", "20");
        Assert.True(code == 0, err);
        foreach (var metric in new[] { "FD-tiny", "precision (k=5)", "recall (k=5)", "per-class recall, mean", "per-class recall, worst class",
                     "recall of class 1", "classes covered (of 2)", "classified as drawn class" })
            Assert.Contains(metric, output);
        Assert.True(File.Exists(Path.Combine(run, "eval.json")));
        // Images from a file are judged as a run's samples: drift sample's file scores every metric as eval of the run does.
        var sampled = Path.Combine(root, "sampled.npy");
        Assert.Equal(0, CliTests.Run("sample", "--checkpoint", run, "--n", "20", "--out", sampled).Code);
        (code, output, err) = CliTests.Run("eval", "--images", sampled, "--data", config.Data, "--classifier", classifier, "--out", Path.Combine(root, "file.json"));
        Assert.True(code == 0, err);
        Assert.Contains($"images of {sampled}, 20 samples", output);
        // The same images through the same networks, up to the last bits of a convolution given other memory: 1e-9 relative
        // seen in most metrics, 1.2e-6 in an FD of 0.002 (a difference of traces of order one, so its rounding is absolute,
        // not relative). Judging the unrounded floats instead of the stored bytes moves these metrics by far more.
        // A metric without a value (a class recall where no sample is of that class) is written as null: NaN here.
        static double Value(System.Text.Json.JsonElement e) => e.ValueKind == System.Text.Json.JsonValueKind.Null ? double.NaN : e.GetDouble();
        static (string, double, double)[] Rows(string json) => System.Text.Json.JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("metrics")
            .EnumerateArray().Select(m => (m.GetProperty("metric").GetString()!, Value(m.GetProperty("generated")), Value(m.GetProperty("floor")))).ToArray();
        var (ofRun, ofFile) = (Rows(Path.Combine(run, "eval.json")), Rows(Path.Combine(root, "file.json")));
        Assert.Equal(ofRun.Select(r => r.Item1), ofFile.Select(r => r.Item1));
        foreach (var ((name, generated, floor), (_, fileGenerated, fileFloor)) in ofRun.Zip(ofFile))
            Assert.True(Math.Abs(generated - fileGenerated) <= 1e-5 * Math.Abs(generated) + 1e-8 && floor == fileFloor, $"{name}: {generated} / {floor} of the run, {fileGenerated} / {fileFloor} of its file");
        // The same samples as a folder of PNGs, a folder per class: each file holds its .npy image and sits in its label's
        // folder, and the folder scores as the .npy does; so do the images saved as RGB (as torchvision's save_image
        // writes grey images) and, without their class folders, every metric but the per-class ones.
        var folder = Path.Combine(root, "sampled");
        (code, output, err) = CliTests.Run("sample", "--checkpoint", run, "--n", "20", "--out", folder);
        Assert.True(code == 0, err);
        var (stored, storedLabels) = Drift.Data.Images.NpyImages.Read(sampled);
        var pngs = Directory.GetFiles(folder, "*.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(20, pngs.Length);
        Assert.Equal(Directory.GetFileSystemEntries(folder).Select(Path.GetFileName).Order(), storedLabels!.Distinct().Select(l => $"{l}").Order());
        var flat = Directory.CreateDirectory(Path.Combine(root, "flat")).FullName;
        var rgb = Path.Combine(root, "rgb");
        foreach (var png in pngs)
        {
            var i = int.Parse(Path.GetFileNameWithoutExtension(png));
            Assert.Equal($"{storedLabels![i]}", Path.GetFileName(Path.GetDirectoryName(png)));
            var decoded = StbImageSharp.ImageResult.FromMemory(File.ReadAllBytes(png), StbImageSharp.ColorComponents.Default);
            Assert.Equal(StbImageSharp.ColorComponents.Grey, decoded.SourceComp);
            Assert.Equal(stored[i].flatten().data<byte>().ToArray(), decoded.Data);
            File.Copy(png, Path.Combine(flat, Path.GetFileName(png)));
            Directory.CreateDirectory(Path.Combine(rgb, $"{storedLabels[i]}"));
            using var file = File.Create(Path.Combine(rgb, $"{storedLabels[i]}", Path.GetFileName(png)));
            new StbImageWriteSharp.ImageWriter().WritePng(decoded.Data.SelectMany(b => new[] { b, b, b }).ToArray(), 8, 8,
                StbImageWriteSharp.ColorComponents.RedGreenBlue, file);
        }
        stored.Dispose();
        foreach (var (images, json) in new[] { (folder, "folder.json"), (rgb, "rgb.json"), (flat, "flat.json") })
        {
            (code, output, err) = CliTests.Run("eval", "--images", images, "--data", config.Data, "--classifier", classifier, "--out", Path.Combine(root, json));
            Assert.True(code == 0, err);
            var ofFolder = Rows(Path.Combine(root, json)).ToDictionary(r => r.Item1);
            // Unlabelled, a sample's class is the classifier's call, and whether it is the drawn class is not known.
            Assert.Equal(ofFile.Select(r => r.Item1).Where(m => images != flat || m != "classified as drawn class"), ofFolder.Keys);
            foreach (var (name, generated, floor) in ofFile.Where(r => images != flat || !r.Item1.Contains("class")))
                Assert.True(Math.Abs(generated - ofFolder[name].Item2) <= 1e-5 * Math.Abs(generated) + 1e-8 && floor == ofFolder[name].Item3,
                    $"{images}, {name}: {generated} / {floor} of the .npy, {ofFolder[name].Item2} / {ofFolder[name].Item3} of the folder");
        }
        Assert.Contains("is not empty", CliTests.Run("sample", "--checkpoint", run, "--n", "20", "--out", folder).Err);
        // The training images themselves, judged as samples: every one has its copy among them, so they score far below 0
        // in the copying test, and all are nearer a training image than held-out images come.
        var copies = Path.Combine(root, "copies.npy");
        using (var data = Drift.Data.Images.ImageData.Load(config.Data))
            Drift.Train.Output.ImageFiles.Npy(copies, Drift.Data.Images.ImageSet.ToUnit(data.Train.Pixels));
        (code, _, err) = CliTests.Run("eval", "--images", copies, "--data", config.Data, "--classifier", classifier, "--out", Path.Combine(root, "copies.json"));
        Assert.True(code == 0, err);
        double Copying(string json, string metric) => Rows(json).Single(r => r.Item1 == metric).Item2;
        Assert.True(Copying(Path.Combine(root, "copies.json"), "copying z in pixels, 1st/2nd ratio (below -3: copies)") < -3, File.ReadAllText(Path.Combine(root, "copies.json")));
        Assert.Equal(1.0, Copying(Path.Combine(root, "copies.json"), "near copies in pixels (share)"));
        Assert.True(Copying(Path.Combine(run, "eval.json"), "near copies in pixels (share)") < 1, "a 12-step generator's samples are not all copies");

        // The trained weights instead of the EMA copy: named so, and other images (after 12 steps the two differ).
        (code, output, err) = CliTests.Run("eval", "--checkpoint", run, "--classifier", classifier, "--n", "20", "--ema", "false", "--out", Path.Combine(root, "trained.json"));
        Assert.True(code == 0, err);
        Assert.Contains("trained weights (no EMA)", output);
        static double PixelFd(string json) => System.Text.Json.JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("metrics").EnumerateArray()
            .Single(m => m.GetProperty("metric").GetString() == "FD in pixels").GetProperty("generated").GetDouble();
        Assert.NotEqual(PixelFd(Path.Combine(run, "eval.json")), PixelFd(Path.Combine(root, "trained.json")));

        // A second metric network of another architecture and seed: every metric in both feature spaces, and in pixels.
        var pooled = Path.Combine(root, "pooled");
        (code, _, err) = CliTests.Run("classifier", "--data", config.Data, "--epochs", "2", "--batch", "16", "--architecture", "pooled", "--seed", "1", "--out", pooled);
        Assert.True(code == 0, err);
        var (pooledInfo, pooledModel) = ClassifierFile.Load(pooled);
        pooledModel.Dispose();
        Assert.Equal(Drift.Models.ClassifierArchitecture.Pooled, pooledInfo.Architecture);
        (code, output, err) = CliTests.Run("eval", "--checkpoint", run, "--classifier", classifier, pooled, "--n", "20", "--out", Path.Combine(root, "two.json"));
        Assert.True(code == 0, err);
        foreach (var metric in new[] { "| FD-tiny [classifier] |", "| FD-tiny [pooled] |", "| recall (k=5) [pooled] |", "| FD in pixels |", "| recall (k=5) in pixels |" })
            Assert.Contains(metric, output);

        // A classifier.bin from before there were two architectures (no "architecture" key) loads as the conv network.
        var old = Path.Combine(root, "old-classifier");
        Directory.CreateDirectory(old);
        var (convInfo, convModel) = ClassifierFile.Load(classifier);
        using (convModel)
        using (var w = new BinaryWriter(File.Create(Path.Combine(old, ClassifierFile.FileName)), System.Text.Encoding.UTF8))
        {
            w.Write("DRIFT-CLASSIFIER-1");
            w.Write(System.Text.RegularExpressions.Regex.Replace(Drift.Train.RunFolders.ConfigJson.Write(convInfo), @",\s*""architecture"": ""conv""", ""));
            convModel.save(w);
        }
        Assert.DoesNotContain("architecture", File.ReadAllText(Path.Combine(old, ClassifierFile.FileName), System.Text.Encoding.Latin1));
        var (oldInfo, oldModel) = ClassifierFile.Load(old);
        oldModel.Dispose();
        Assert.Equal(Drift.Models.ClassifierArchitecture.Conv, oldInfo.Architecture);

        var encoder = Path.Combine(root, "encoder");
        (code, _, err) = CliTests.Run("encoder", "--data", config.Data, "--epochs", "1", "--batch", "16", "--out", encoder);
        Assert.True(code == 0, err);
        var encoded = Path.Combine(root, "encoded-run");
        (code, _, err) = CliTests.Run("train-images", "--data", config.Data, "--features", "pixels", "encoder", "encoder-map1", "encoder-map2",
            "--encoder", encoder, "--steps", "3", "--class-batch", "6", "--class-positives", "6", "--width", "4", "--noise-dim", "4", "--out", encoded);
        Assert.True(code == 0, err);
        var header = File.ReadLines(Path.Combine(encoded, RunFiles.Metrics)).First();
        Assert.Contains("rms_encoder_0.1", header);
        Assert.Contains("rms_encoder-map1_0.1", header);
        Assert.Contains("rms_encoder-map2_0.1", header);
        Assert.DoesNotContain("NaN", File.ReadAllText(Path.Combine(encoded, RunFiles.Metrics)));
        // drift bench times that run's step from its folder, the encoder's pass over the generated images a phase of its own.
        var table = Path.Combine(root, "bench.md");
        (code, _, err) = CliTests.Run("bench", "--sizes", "8x8x2", "--repeats", "1", "--step-batches", "8", "--image-steps", "none",
            "--image-config", encoded, "--out", table);
        Assert.True(code == 0, err);
        var bench = File.ReadAllText(table);
        Assert.Contains($"| conservative, {encoded} | 4 | 6 | all | pixels encoder encoder-map1 encoder-map2 |", bench);
        foreach (var phase in new[] { "draw noise, generate", "features of the generated", "positives, field, loss", "backward" })
            Assert.Matches($@"\| image conservative, {System.Text.RegularExpressions.Regex.Escape(encoded)} \| {phase} \| [0-9.]+ \|", bench);
        // A config whose encoder space its encoder cannot give (8 px: map 1 is 4×4) is refused before anything is timed.
        var untiled = Path.Combine(root, "untiled.json");
        File.WriteAllText(untiled, File.ReadAllText(Path.Combine(encoded, RunFiles.Config)).Replace("\"encoder-map2\"", "\"encoder-map1-std3\""));
        var refused = CliTests.Run("bench", "--image-steps", "none", "--image-config", untiled);
        Assert.True(refused.Code != 0 && refused.Err.Contains("--features encoder-map1-std3: its patches do not tile map 1, a 4×4 grid"), refused.Err);
        Assert.DoesNotContain("GFLOP/s", refused.Out);
        Assert.Contains("needs --encoder", CliTests.Run("train-images", "--data", config.Data, "--features", "encoder").Err);
        var tooDeep = CliTests.Run("train-images", "--data", config.Data, "--features", "encoder-map3", "--encoder", encoder, "--steps", "1",
            "--out", Path.Combine(root, "too-deep"));
        Assert.True(tooDeep.Code != 0 && tooDeep.Err.Contains("--features encoder-map3: the encoder has 2 maps"), tooDeep.Err);
        Assert.False(Directory.Exists(Path.Combine(root, "too-deep")));

        // Compared in both networks' features and in pixels, with a line on FD, precision and recall each that claims
        // a winner only where the three spaces agree.
        var report = Path.Combine(root, "compare");
        (code, output, err) = CliTests.Run("compare-images", "--data", config.Data, "--classifier", classifier, "--seeds", "2", "--steps", "6",
            "--class-batch", "6", "--class-positives", "6", "--width", "4", "--noise-dim", "4", "--features", "pixels", "mean2", "--eval-every", "3", "--eval-samples", "20",
            "--eval-n", "20", "--eval-classifier", classifier, pooled, "--out", report);
        Assert.True(code == 0, err);
        foreach (var metric in new[] { "| FD-tiny [classifier] |", "| FD-tiny [pooled] |", "| FD in pixels |", "| copying z in pixels, 1st/2nd ratio (below -3: copies) |" })
            Assert.Contains(metric, output);
        foreach (var family in new[] { "FD", "precision", "recall" })
            Assert.Matches($@"\n- {family}: (conservative beats laplace in all 3 spaces \(every seed\)|laplace beats conservative in all 3 spaces \(every seed\)|no claim \(.+\))\n",
                output.ReplaceLineEndings("\n"));
        Assert.Contains("; conservative field, laplace field over rows only, each with its own default scales", output);
        foreach (var file in new[] { "report.md", "report.json", "curves.png", "samples.png", "runs/laplace-seed1/checkpoint.bin" })
            Assert.True(File.Exists(Path.Combine(report, file)), $"{file} missing");
        Assert.EndsWith(",fd,recall", File.ReadLines(Path.Combine(report, "runs/conservative-seed0", RunFiles.Metrics)).First());
    }
}
