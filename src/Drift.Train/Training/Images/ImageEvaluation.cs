using Drift.Metrics;
using Drift.Data.Images;
using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Train.Training.Images;

/// <summary>
/// Image metrics through the project's own classifier: FD-&lt;dataset&gt; (Fréchet distance of its features),
/// precision and recall on k-NN manifolds of those features, class coverage, class-histogram error and,
/// for conditional runs, the share of samples classified as the class they were drawn for. Each against
/// n test images, next to n training images against the same test images (the floor).
/// </summary>
public static class ImageEvaluation
{
    private const ulong ReferenceSeed = 20261123;

    public static IReadOnlyList<EvaluatedMetric> Compute(Tensor generated, long[] intended, ImageData data, ClassifierInfo info,
        Drift.Models.Classifier classifier, Device device)
    {
        var n = (int)Math.Min(generated.shape[0], Math.Min(data.Test.Count, data.Train.Count));
        if (n < 10) throw new UserError($"image metrics need at least 10 images a side, have {n}");
        using var scope = torch.NewDisposeScope();
        using var rng = new Generator(ReferenceSeed);
        var testIdx = torch.randperm(data.Test.Count, generator: rng).narrow(0, 0, n).data<long>().ToArray();
        var trainIdx = torch.randperm(data.Train.Count, generator: rng).narrow(0, 0, n).data<long>().ToArray();

        var (genF, genP) = ClassifierTrainer.Embed(classifier, generated.narrow(0, 0, n), device);
        var (testF, testP) = ClassifierTrainer.Embed(classifier, data.Test.Batch(testIdx), device);
        var (trainF, trainP) = ClassifierTrainer.Embed(classifier, data.Train.Batch(trainIdx), device);
        var (gp, gr) = PrecisionRecall.Compute(testF, genF);
        var (fp, fr) = PrecisionRecall.Compute(testF, trainF);
        var g = ClassHistogram.Compute(genP, testP, info.Classes, intended[..n]);
        var f = ClassHistogram.Compute(trainP, testP, info.Classes, trainIdx.Select(i => data.Train.Labels[i]).ToArray());
        var rows = new List<EvaluatedMetric>
        {
            new($"FD-{DatasetName(info.Data)}", FrechetDistance.Compute(genF, testF), FrechetDistance.Compute(trainF, testF)),
            new("precision (k=3)", gp, fp),
            new("recall (k=3)", gr, fr),
            new($"classes covered (of {g.Classes})", g.Covered, f.Covered),
            new("class histogram error (TV)", g.HistogramError, f.HistogramError),
        };
        if (!double.IsNaN(g.Accuracy))
            rows.Add(new("classified as drawn class", g.Accuracy, f.Accuracy));
        return rows;
    }

    public static string DatasetName(string spec) => Path.GetFileName(Path.TrimEndingDirectorySeparator(spec));
}
