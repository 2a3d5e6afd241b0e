using System.Diagnostics;
using Drift.Models;
using Drift.Data.Images;
using Microsoft.Extensions.Logging;
using TorchSharp;
using Drift.Train.RunFolders;
using static TorchSharp.torch;

namespace Drift.Train.Training.Images;

/// <summary>Trains the metric classifier: Adam, cross-entropy, shuffled mini-batches, test accuracy after each epoch.</summary>
public static class ClassifierTrainer
{
    public static ClassifierInfo Run(string dataSpec, int imageSize, int epochs, int batch, long seed, string outDir, Device device, ILogger log,
        ClassifierArchitecture architecture = ClassifierArchitecture.Conv)
    {
        using var data = ImageData.Load(dataSpec, imageSize);
        torch.manual_seed(seed);
        using var model = new Classifier(data.Channels, data.Size, data.Classes, architecture);
        model.to(device);
        using var optimizer = torch.optim.Adam(model.parameters(), 1e-3);
        using var rng = new Generator((ulong)seed);
        var timer = Stopwatch.StartNew();
        var accuracy = 0.0;
        for (var epoch = 1; epoch <= epochs; epoch++)
        {
            model.train();
            using (var order = torch.randperm(data.Train.Count, generator: rng))
            {
                var indices = order.data<long>().ToArray();
                for (var start = 0; start < indices.Length; start += batch)
                {
                    using var scope = torch.NewDisposeScope();
                    var idx = indices[start..Math.Min(start + batch, indices.Length)];
                    var x = data.Train.Batch(idx).to(device);
                    var y = torch.tensor(idx.Select(i => data.Train.Labels[i]).ToArray()).to(device);
                    optimizer.zero_grad();
                    nn.functional.cross_entropy(model.forward(x), y).backward();
                    optimizer.step();
                }
            }
            accuracy = Accuracy(model, data.Test, device);
            log.LogInformation("epoch {Epoch}/{Epochs}: test accuracy {Accuracy:P2} ({Seconds:F0} s)", epoch, epochs, accuracy, timer.Elapsed.TotalSeconds);
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        var info = new ClassifierInfo(dataSpec, data.Size, data.Channels, data.Classes, epochs, seed, accuracy, architecture);
        // Checked again (FolderKind.Finished): another drift classifier may have finished there meanwhile.
        OwnedFolder.Mark(outDir, FolderKind.Classifier);
        model.cpu();
        ClassifierFile.Save(outDir, info, model);
        return info;
    }

    public static double Accuracy(Classifier model, ImageSet set, Device device)
    {
        var (_, predicted) = Embed(model, set.Batch(Enumerable.Range(0, set.Count).Select(i => (long)i).ToArray()), device);
        return predicted.Zip(set.Labels).Count(p => p.First == p.Second) / (double)set.Count;
    }

    /// <summary>Classifier features [n, 128] (CPU) and predicted classes of images in [−1, 1], a batch of
    /// <see cref="HeapBatch"/>'s size at a time.</summary>
    public static (Tensor Features, long[] Predicted) Embed(Classifier model, Tensor images, Device device)
    {
        model.eval();
        var batch = HeapBatch.Images(model.LargestMap(), device);
        var features = new List<Tensor>();
        var predicted = new List<long>();
        using var noGrad = torch.no_grad();
        for (long start = 0; start < images.shape[0]; start += batch)
        {
            using var scope = torch.NewDisposeScope();
            var f = model.Features(images.narrow(0, start, Math.Min(batch, images.shape[0] - start)).to(device));
            predicted.AddRange(model.Classify(f).argmax(1).cpu().data<long>().ToArray());
            features.Add(f.cpu().MoveToOuterDisposeScope());
        }
        var all = torch.cat(features, 0);
        foreach (var f in features) f.Dispose();
        return (all, predicted.ToArray());
    }
}
