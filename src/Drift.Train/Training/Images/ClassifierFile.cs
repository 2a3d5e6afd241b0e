using System.Text;
using Drift.Data;
using Drift.Models;
using TorchSharp;
using Drift.Train.RunFolders;

namespace Drift.Train.Training.Images;

/// <summary>What a trained metric classifier is: its dataset, image shape, network, and the test accuracy it reached.</summary>
/// <param name="Architecture">Absent from classifiers written before there were two: those are <c>conv</c>.</param>
public sealed record ClassifierInfo(string Data, int ImageSize, int Channels, int Classes, int Epochs, long Seed, double TestAccuracy,
    ClassifierArchitecture Architecture = ClassifierArchitecture.Conv);

/// <summary><c>classifier.bin</c>: a magic, the <see cref="ClassifierInfo"/> as JSON, the weights. Written atomically.</summary>
public static class ClassifierFile
{
    public const string FileName = FolderKind.ClassifierFile;
    private const string Magic = "DRIFT-CLASSIFIER-1";

    /// <summary>checkpoints/&lt;role&gt;-&lt;dataset&gt;: where <c>drift classifier</c> (role classifier) and <c>drift encoder</c>
    /// (role encoder) write, and where the image metrics look for the classifier unless told.</summary>
    public static string DefaultDir(string data, string role = "classifier") =>
        Path.Combine("checkpoints", $"{role}-{ImageEvaluation.DatasetName(data)}");

    public static void Save(string dir, ClassifierInfo info, Classifier model)
    {
        AtomicFile.Write(Path.Combine(dir, FileName), tmp =>
        {
            using var stream = File.Create(tmp);
            using var w = new BinaryWriter(stream, Encoding.UTF8);
            w.Write(Magic);
            w.Write(ConfigJson.Write(info));
            model.save(w);
        });
    }

    /// <summary>The classifier in <paramref name="dir"/>, refused in one line unless it takes the images it is to judge:
    /// <paramref name="channels"/>×<paramref name="imageSize"/>² of <paramref name="classes"/> classes (null: any number,
    /// for images whose data is not loaded yet; <see cref="MetricClassifiers.CheckClasses"/> checks them then).</summary>
    /// <param name="theImages">How the message names those images: "the run makes", "the images are".</param>
    public static (ClassifierInfo Info, Classifier Model) LoadFor(string dir, int channels, int imageSize, int? classes, string theImages)
    {
        var (info, model) = Load(dir);
        if ((info.ImageSize, info.Channels, info.Classes) == (imageSize, channels, classes ?? info.Classes)) return (info, model);
        model.Dispose();
        throw new UserError($"the classifier in {dir} was trained on {info.Channels}×{info.ImageSize}² images of {info.Classes} classes, {theImages} "
            + $"{channels}×{imageSize}²" + (classes is { } k ? $" of {k}" : ""));
    }

    /// <summary>The classifier in <paramref name="dir"/>, on the CPU, in eval mode.</summary>
    public static (ClassifierInfo Info, Classifier Model) Load(string dir)
    {
        var path = Path.Combine(dir, FileName);
        if (FileTypes.Of(path) == FileType.Missing) throw new UserError($"no classifier in {dir} (expected {FileName}; train one with drift classifier)");
        InputFile.Check(path, "classifier", InputFile.Largest);
        try
        {
            using var r = new BinaryReader(File.OpenRead(path), Encoding.UTF8);
            if (r.ReadString() != Magic) throw new InvalidDataException("not a drift classifier");
            var info = ConfigJson.Read<ClassifierInfo>(r.ReadString(), path);
            var model = new Classifier(info.Channels, info.ImageSize, info.Classes, info.Architecture);
            model.load(r);
            model.eval();
            return (info, model);
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException or IOException or ArgumentException)
        {
            throw new UserError($"classifier {path} is corrupt or incomplete: {e.Message.Split('\n')[0]}");
        }
    }
}
