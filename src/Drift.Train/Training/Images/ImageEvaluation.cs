using Drift.Metrics;
using Drift.Data.Images;
using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Train.Training.Images;

/// <summary>
/// Image metrics through the project's own classifier: FD-&lt;dataset&gt; (Fréchet distance of its features),
/// precision and recall on k-NN manifolds of those features (k = 5), recall within each class, class coverage,
/// class-histogram error and, for conditional runs, the share of samples classified as the class they were
/// drawn for. Each against n test images, next to n training images against the same test images (the floor).
/// Per-class recall is the diversity check: a generator that draws a few typical images of every class
/// covers the classes and can keep a fair overall recall, but not the recall inside each class.
/// Generated images are judged as a file keeps them (<see cref="ImageSet.AsStored"/>), as an outside judge sees them.
/// </summary>
public static class ImageEvaluation
{
    private const ulong ReferenceSeed = 20261123;
    /// <summary>Neighbours of the k-NN manifolds: 5, not the 3 of the first metrics, so that fewer radii are set
    /// by a pair of near-duplicates.</summary>
    public const int K = 5;

    /// <summary>The fewest images a side the metrics judge: k-NN precision and recall need more than <see cref="K"/>, and
    /// FD's covariances of a handful say nothing.</summary>
    public const int MinImages = 10;

    public static IReadOnlyList<EvaluatedMetric> Compute(Tensor generated, long[] intended, ImageData data, ClassifierInfo info,
        Drift.Models.Classifier classifier, Device device)
    {
        var (n, testIdx, trainIdx) = References(generated, data);
        using var scope = torch.NewDisposeScope();

        var (genF, genP) = ClassifierTrainer.Embed(classifier, ImageSet.AsStored(generated.narrow(0, 0, n)), device);
        var (testF, testP) = ClassifierTrainer.Embed(classifier, data.Test.Batch(testIdx), device);
        var (trainF, trainP) = ClassifierTrainer.Embed(classifier, data.Train.Batch(trainIdx), device);
        var (gp, gr) = PrecisionRecall.Compute(testF, genF, K);
        var (fp, fr) = PrecisionRecall.Compute(testF, trainF, K);
        var testLabels = testIdx.Select(i => data.Test.Labels[i]).ToArray();
        var trainLabels = trainIdx.Select(i => data.Train.Labels[i]).ToArray();
        // A sample's class is the one it was drawn for, or the classifier's call for an unconditional one.
        var genLabels = intended[..n].Select((c, i) => c >= 0 ? c : genP[i]).ToArray();
        var genPerClass = PrecisionRecall.PerClassRecall(testF, testLabels, genF, genLabels, info.Classes, K);
        var floorPerClass = PrecisionRecall.PerClassRecall(testF, testLabels, trainF, trainLabels, info.Classes, K);
        var g = ClassHistogram.Compute(genP, testP, info.Classes, intended[..n]);
        var f = ClassHistogram.Compute(trainP, testP, info.Classes, trainLabels);
        var rows = new List<EvaluatedMetric>
        {
            new($"FD-{DatasetName(info.Data)}", FrechetDistance.Compute(genF, testF), FrechetDistance.Compute(trainF, testF)),
            new($"precision (k={K})", gp, fp),
            new($"recall (k={K})", gr, fr),
            new("per-class recall, mean", Mean(genPerClass), Mean(floorPerClass)),
            new("per-class recall, worst class", Worst(genPerClass), Worst(floorPerClass)),
            new($"classes covered (of {g.Classes})", g.Covered, f.Covered),
            new("class histogram error (TV)", g.HistogramError, f.HistogramError),
        };
        if (!double.IsNaN(g.Accuracy))
            rows.Add(new("classified as drawn class", g.Accuracy, f.Accuracy));
        rows.AddRange(genPerClass.Select((r, c) => new EvaluatedMetric($"recall of class {ImageData.NameOf(data.ClassNames, c)}", r, floorPerClass[c])));
        return rows;
    }

    /// <summary>
    /// The feature space no network chose: Fréchet distance and k-NN precision and recall of the raw pixels,
    /// against the same test and training images as <see cref="Compute"/>. Blind to what a network finds salient,
    /// but trained by no one, so a third opinion beside two classifiers'. Then whether the samples copy training
    /// images (<see cref="DataCopying"/>), which no metric against held-out images sees: each sample's distance to its
    /// nearest training image, every one of them, against the same for half the test images; the other half, judged
    /// the same way, is the floor (z about 0, a hundredth near).
    /// </summary>
    public static IReadOnlyList<EvaluatedMetric> Pixels(Tensor generated, ImageData data)
    {
        var (n, testIdx, trainIdx) = References(generated, data);
        using var scope = torch.NewDisposeScope();
        Tensor Flat(Tensor images) => images.to(ScalarType.Float32).cpu().reshape(images.shape[0], -1);
        var gen = Flat(ImageSet.AsStored(generated.narrow(0, 0, n)));
        var test = Flat(data.Test.Batch(testIdx));
        var train = Flat(data.Train.Batch(trainIdx));
        var (gp, gr) = PrecisionRecall.Compute(test, gen, K);
        var (fp, fr) = PrecisionRecall.Compute(test, train, K);
        // Copies are found among the stored bytes, where a copied image is at distance 0.
        Tensor Bytes(Tensor images) => images.reshape(images.shape[0], -1);
        var everyTrainingImage = Bytes(data.Train.Pixels);
        var held = Bytes(data.Test.Pixels.index_select(0, torch.tensor(testIdx)));
        var (copying, floor) = DataCopying.Compute(everyTrainingImage, held, Bytes(ImageSet.ToBytes(generated.narrow(0, 0, n))));
        return
        [
            new("FD in pixels", FrechetDistance.Compute(gen, test), FrechetDistance.Compute(train, test)),
            new($"precision (k={K}) in pixels", gp, fp),
            new($"recall (k={K}) in pixels", gr, fr),
            new("copying z in pixels, distance (below -3: copies or blur)", copying.Z, floor.Z),
            new("copying z in pixels, 1st/2nd ratio (below -3: copies)", copying.RatioZ, floor.RatioZ),
            new("near copies in pixels (share)", copying.NearShare, floor.NearShare),
        ];
    }

    /// <summary>The n test and n training images every space compares against: one fixed draw, so that metrics in
    /// different spaces judge the same images.</summary>
    private static (int N, long[] Test, long[] Train) References(Tensor generated, ImageData data)
    {
        var n = (int)Math.Min(generated.shape[0], Math.Min(data.Test.Count, data.Train.Count));
        if (n < MinImages) throw new UserError($"image metrics need at least {MinImages} images a side, have {n}");
        using var rng = new Generator(ReferenceSeed);
        var test = torch.randperm(data.Test.Count, generator: rng).narrow(0, 0, n).data<long>().ToArray();
        var train = torch.randperm(data.Train.Count, generator: rng).narrow(0, 0, n).data<long>().ToArray();
        return (n, test, train);
    }

    /// <summary>Over the classes with a defined recall (NaN when none has).</summary>
    private static double Mean(double[] perClass) => perClass.Where(r => !double.IsNaN(r)).DefaultIfEmpty(double.NaN).Average();
    private static double Worst(double[] perClass) => perClass.Where(r => !double.IsNaN(r)).DefaultIfEmpty(double.NaN).Min();

    /// <summary>The dataset's name in metric names and default folders: its folder's or file's name (a .npy file's
    /// without its extension).</summary>
    public static string DatasetName(string spec) => Drift.Data.NpyFile.Names(spec)
        ? Path.GetFileNameWithoutExtension(spec)
        : Path.GetFileName(Path.TrimEndingDirectorySeparator(spec));
}
