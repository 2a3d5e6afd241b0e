using Drift.Data.Images;
using Drift.Metrics;
using Drift.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Train.Training.Images;

/// <summary>
/// The networks whose features judge images, loaded and checked against the images before any work: every image
/// metric is read in each one's features (named by its folder when there are several), then in raw pixels. Metrics
/// whose spaces disagree about two runs rank neither (docs/judges.md).
/// </summary>
public sealed class MetricClassifiers : IDisposable
{
    private readonly (string Dir, ClassifierInfo Info, Classifier Model)[] _loaded;

    private MetricClassifiers((string, ClassifierInfo, Classifier)[] loaded) => _loaded = loaded;

    /// <param name="dirs">Classifier folders; none: the data's default classifier.</param>
    /// <param name="theImages">How a mismatch names the images (<see cref="ClassifierFile.LoadFor"/>).</param>
    public static MetricClassifiers Load(string[]? dirs, string data, int channels, int imageSize, int? classes, string theImages)
    {
        var loaded = new List<(string, ClassifierInfo, Classifier)>();
        try
        {
            foreach (var dir in dirs is { Length: > 0 } ? dirs : [ClassifierFile.DefaultDir(data)])
            {
                var (info, model) = ClassifierFile.LoadFor(dir, channels, imageSize, classes, theImages);
                loaded.Add((dir, info, model));
            }
            return new MetricClassifiers([.. loaded]);
        }
        catch
        {
            foreach (var (_, _, model) in loaded) model.Dispose();
            throw;
        }
    }

    /// <summary>Throws unless every network tells <paramref name="classes"/> classes apart, as <paramref name="data"/> has:
    /// for networks loaded before their data (<see cref="Load"/> without classes).</summary>
    public void CheckClasses(int classes, string data)
    {
        foreach (var (dir, info, _) in _loaded)
            if (info.Classes != classes)
                throw new UserError($"the classifier in {dir} was trained on {info.Classes} classes, {data} has {classes}");
    }

    /// <param name="images">Float images [N, C, H, W] in [−1, 1].</param>
    /// <param name="labels">The class each image was drawn for, −1 where none (the classifier's call stands in).</param>
    /// <param name="judged">Told the feature spaces judged so far (of <see cref="Spaces"/>) after each.</param>
    public IReadOnlyList<EvaluatedMetric> Evaluate(Tensor images, long[] labels, ImageData data, Device device, Action<long>? judged = null)
    {
        var rows = new List<EvaluatedMetric>();
        for (var k = 0; k < _loaded.Length; k++)
        {
            var (dir, info, model) = _loaded[k];
            model.to(device);
            var named = Path.GetFileName(Path.TrimEndingDirectorySeparator(dir));
            rows.AddRange(ImageEvaluation.Compute(images, labels, data, info, model, device)
                .Select(r => _loaded.Length > 1 ? r with { Name = $"{r.Name} [{named}]" } : r));
            judged?.Invoke(k + 1);
        }
        rows.AddRange(ImageEvaluation.Pixels(images, data));
        judged?.Invoke(Spaces);
        return rows;
    }

    /// <summary>The feature spaces <see cref="Evaluate"/> judges in: each network's, then the pixels.</summary>
    public int Spaces => _loaded.Length + 1;

    /// <summary>The networks for a report: "the classifier X (test accuracy 89.7 %)", or each of several.</summary>
    public string Describe() => (_loaded.Length == 1 ? "the classifier " : $"{_loaded.Length} classifiers: ")
        + string.Join(", ", _loaded.Select(l => $"{Path.GetFileName(Path.TrimEndingDirectorySeparator(l.Dir))} (test accuracy {l.Info.TestAccuracy:P1})"));

    public void Dispose()
    {
        foreach (var (_, _, model) in _loaded) model.Dispose();
    }
}
