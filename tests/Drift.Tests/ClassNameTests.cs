using Drift.Data.Images;
using Drift.Loss;
using Drift.Train;
using Drift.Train.RunFolders;
using Drift.Train.Training.Images;
using Microsoft.Extensions.Logging.Abstractions;

namespace Drift.Tests;

/// <summary>A run records its data's class names (a folder's subfolders), and samples, reports and exports name its
/// classes by them; <c>--class</c> takes a number or a name.</summary>
[Collection(SeededWeights.Name)]
public sealed class ClassNameTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("drift-class-names-").FullName;
    private readonly int seed = Tensors.Seed();

    public void Dispose() => Directory.Delete(root, recursive: true);

    /// <summary>Random names, two of them apart only by case: each class is found by its number and by its exact name,
    /// by its name in other case where that tells it apart; a name in other case that fits both of the pair, an unknown
    /// name, and a name in a run of numbered classes are refused in one line that lists what there is. A Fashion-MNIST run
    /// that recorded no names (from before runs did) has the dataset's.</summary>
    [Fact]
    public void ClassLabelFindsAClassByNumberOrName()
    {
        var random = new Random(seed);
        var names = Enumerable.Range(0, random.Next(3, 15)).Select(c => $"{(char)('a' + c)}{random.Next(1000)}").ToArray();
        var (a, b) = (random.Next(names.Length), 0);
        do b = random.Next(names.Length); while (b == a);
        names[a] = "Cat";
        names[b] = "cat";
        var config = new ImageConfig { Classes = names.Length, ClassNames = names };
        var context = $"seed {seed}, classes {string.Join(", ", names)}";
        for (var c = 0; c < names.Length; c++)
        {
            Assert.True(c == config.ClassLabel($"{c}"), context);
            Assert.True(c == config.ClassLabel(names[c]), context);
            if (c != a && c != b) Assert.True(c == config.ClassLabel(names[c].ToUpperInvariant()), context);
            Assert.Equal($"{c} ({names[c]})", config.ClassName(c));
        }
        Assert.Contains("more than one class but for case", Assert.Throws<UserError>(() => config.ClassLabel("CAT")).Message);
        var unknown = Assert.Throws<UserError>(() => config.ClassLabel("dog")).Message;
        Assert.Contains($"its classes are 0 ({names[0]}), 1 ({names[1]})", unknown);
        Assert.Equal(names.Length > 12, unknown.EndsWith(", ..."));
        var numbered = new ImageConfig { Classes = 3, ClassNames = ["0", "1", "2"] };
        Assert.Equal(("1", 2), (numbered.ClassName(1), numbered.ClassLabel("2")));
        // Folders named by number from 1 sort as 1, 10, 2: a name is found as the name it is, a number no class is named by
        // as a number.
        var fromOne = new ImageConfig { Classes = 3, ClassNames = ["1", "10", "2"] };
        Assert.Equal((0, 1, 2, 0), (fromOne.ClassLabel("1"), fromOne.ClassLabel("10"), fromOne.ClassLabel("2"), fromOne.ClassLabel("0")));
        Assert.Contains("by number, 0 to 2", Assert.Throws<UserError>(() => (numbered with { Data = "folder", ClassNames = null }).ClassLabel("cat")).Message);
        // A Fashion-MNIST run from before runs recorded names goes by the dataset's own.
        var fashion = new ImageConfig { Data = ImageData.FashionMnist, Classes = 10 };
        Assert.Equal((7, "7 (Sneaker)", 9), (fashion.ClassLabel("sneaker"), fashion.ClassName(7), fashion.ClassLabel("Ankle boot")));
    }

    /// <summary>A run on a folder of "left" and "top" images: its config holds the names, <c>drift sample --class top</c>
    /// (or TOP, or 1) draws class 1 and says so, an unknown name is refused with the classes listed, and <c>drift eval</c>
    /// reports each class's recall by name.</summary>
    [Fact]
    public void AFolderRunNamesItsClassesInSamplesAndReports()
    {
        var data = TinyImages.WriteFolder(Path.Combine(root, "tiny"), seed);
        var config = new ImageConfig
        {
            Data = data, ImageSize = 8, Field = FieldKind.Conservative, Steps = 2, ClassBatch = 6, ClassPositives = 10, Width = 4, NoiseDim = 4,
            Features = ["pixels"], Warmup = 1, Seed = seed,
        };
        var run = Path.Combine(root, "run");
        ImageTrainer.Run(config, run, null, NullLogger.Instance, _ => { }, CancellationToken.None);
        Assert.Equal(["left", "top"], Checkpoint.Load(run).Config<ImageConfig>().ClassNames!);
        Assert.Equal(["left", "top"], ConfigJson.Read<ImageConfig>(File.ReadAllText(Path.Combine(run, RunFiles.Config)), "config.json").ClassNames!);

        foreach (var spec in new[] { "top", "TOP", "1" })
        {
            var sampled = Path.Combine(root, $"{spec}.npy");
            var (code, output, err) = CliTests.Run("sample", "--checkpoint", run, "--n", "10", "--class", spec, "--out", sampled);
            Assert.True(code == 0, err);
            Assert.Contains("wrote 10 images of class 1 (top)", output);
            using var drawn = ImageData.Load(sampled);
            Assert.All(drawn.Train.Labels.Concat(drawn.Test.Labels), l => Assert.Equal(1, l));
        }
        var refused = CliTests.Run("sample", "--checkpoint", run, "--class", "cow", "--out", Path.Combine(root, "cow.png"));
        Assert.Equal(2, refused.Code);
        Assert.Equal("drift: error: --class 'cow': no class of this run has that name; its classes are 0 (left), 1 (top)", refused.Err.Trim());

        var classifier = Path.Combine(root, "classifier");
        var (trained, _, trainErr) = CliTests.Run("classifier", "--data", data, "--image-size", "8", "--epochs", "1", "--batch", "16", "--out", classifier);
        Assert.True(trained == 0, trainErr);
        // A trained network is never replaced, by another seed or by the encoder's command: nothing is trained or written.
        var weights = File.ReadAllBytes(Path.Combine(classifier, "classifier.bin"));
        foreach (var command in new[] { "classifier", "encoder" })
        {
            var again = CliTests.Run(command, "--data", data, "--image-size", "8", "--epochs", "1", "--batch", "16", "--seed", "5", "--out", classifier);
            Assert.Equal(2, again.Code);
            Assert.Equal($"drift: error: {classifier} already holds a trained network (classifier.bin); choose a new --out", again.Err.Trim());
        }
        Assert.Equal(weights, File.ReadAllBytes(Path.Combine(classifier, "classifier.bin")));
        var (evaluated, report, evalErr) = CliTests.Run("eval", "--checkpoint", run, "--classifier", classifier, "--n", "20");
        Assert.True(evaluated == 0, evalErr);
        Assert.Contains("recall of class 0 (left)", report);
        Assert.Contains("recall of class 1 (top)", report);

        // Too few test images for the FD probe's recall (k = 5): one line before the run starts, and no run folder.
        var few = Path.Combine(root, "few");
        foreach (var name in new[] { "left", "top" })
        {
            Directory.CreateDirectory(Path.Combine(few, name));
            foreach (var file in Directory.GetFiles(Path.Combine(data, name)).Order().Take(8))
                File.Copy(file, Path.Combine(few, name, Path.GetFileName(file)));
        }
        var probeRun = Path.Combine(root, "probe-run");
        var probe = CliTests.Run("train-images", "--data", few, "--image-size", "8", "--classifier", classifier, "--steps", "2", "--width", "4", "--class-batch", "4", "--out", probeRun);
        Assert.Equal(2, probe.Code);
        Assert.Matches(@"^drift: error: the FD probe \(--classifier\) needs at least 10 test and training images, \S+ has \d test and \d+ training images$", probe.Err.Trim());
        Assert.False(Directory.Exists(probeRun));
    }
}
