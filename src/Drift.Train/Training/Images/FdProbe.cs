using Drift.Metrics;
using Drift.Models;
using Drift.Data.Images;
using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Train.Training.Images;

/// <summary>FD-&lt;dataset&gt; and recall during training: the EMA generator's images from fixed noise (classes in
/// turn), as stored (<see cref="ImageSet.AsStored"/>), against a fixed set of test images, in the metric classifier's
/// features. FD alone reads a narrow generator kindly; recall (k = 5, the share of test images inside the generated
/// images' manifold) shows it.
/// The floor is as many training images against the same test images.</summary>
public sealed class FdProbe : IDisposable
{
    /// <summary>The metrics.csv columns of <see cref="Measure"/>.</summary>
    public static readonly string[] Metrics = ["fd", "recall"];
    private const ulong NoiseSeed = 0xFD_5EED;
    private readonly Classifier classifier;
    private readonly Tensor testFeatures;
    private readonly Tensor noise;
    private readonly long[] labels;
    private readonly Device device;

    public FdProbe(string classifierDir, ImageConfig config, ImageData data, int n, Device device)
    {
        classifier = ClassifierFile.LoadFor(classifierDir, config.Channels, config.ImageSize, config.Classes, "the run makes").Model;
        classifier.to(device);
        this.device = device;
        n = Math.Min(n, Math.Min(data.Test.Count, data.Train.Count));
        if (n < ImageEvaluation.MinImages)
            throw new UserError($"the FD probe (--classifier) needs at least {ImageEvaluation.MinImages} test and training images, {config.Data} has "
                + $"{data.Test.Count} test and {data.Train.Count} training images");
        using var rng = new Generator(NoiseSeed);
        var testIdx = torch.randperm(data.Test.Count, generator: rng).narrow(0, 0, n).data<long>().ToArray();
        var trainIdx = torch.randperm(data.Train.Count, generator: rng).narrow(0, 0, n).data<long>().ToArray();
        testFeatures = ClassifierTrainer.Embed(classifier, data.Test.Batch(testIdx), device).Features;
        using var trainFeatures = ClassifierTrainer.Embed(classifier, data.Train.Batch(trainIdx), device).Features;
        Floor = FrechetDistance.Compute(trainFeatures, testFeatures);
        noise = torch.randn([n, config.NoiseDim], generator: rng).to(device);
        labels = Enumerable.Range(0, n).Select(i => config.Conditional ? (long)(i % config.Classes) : -1L).ToArray();
    }

    public double Floor { get; }

    /// <summary>FD and recall of the generator's images, in the order of <see cref="Metrics"/>.</summary>
    public double[] Measure(ConvGenerator generator)
    {
        using var scope = torch.NewDisposeScope();
        var images = ImageSet.AsStored(ImageSampling.Draw(generator, labels, 1, device, ImageSampling.Rows(noise)));
        var features = ClassifierTrainer.Embed(classifier, images, device).Features;
        return [FrechetDistance.Compute(features, testFeatures), PrecisionRecall.Compute(testFeatures, features, ImageEvaluation.K).Recall];
    }

    public void Dispose()
    {
        classifier.Dispose();
        testFeatures.Dispose();
        noise.Dispose();
    }
}
