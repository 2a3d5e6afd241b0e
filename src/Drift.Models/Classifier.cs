using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Drift.Models;

/// <summary>The networks a metric classifier can be: two, so that image metrics can be read in two feature spaces
/// that share no architecture (and no seed), as an outside judge's network shares neither.</summary>
public enum ClassifierArchitecture
{
    /// <summary>Two stages of two 3×3 convolutions and a 2×2 max-pool, flattened into a 128-d feature layer.</summary>
    Conv,
    /// <summary>Three stages of 5×5 convolutions with group norm, wider (48, 96, 192 channels), global average pooling
    /// and a 128-d projection: position-free features where <see cref="Conv"/>'s are tied to positions.</summary>
    Pooled,
}

/// <summary>
/// A small CNN the project trains on each image dataset for its own metrics (<see cref="ClassifierArchitecture"/>),
/// a 128-d feature layer and a linear head. Its features stand in for Inception's in a Fréchet distance
/// ("FD-&lt;dataset&gt;"), its predictions for class coverage.
/// </summary>
public sealed class Classifier : Module<Tensor, Tensor>
{
    public const int FeatureDim = 128;
    private readonly Sequential body;
    private readonly Linear head;

    public Classifier(int channels, int imageSize, int classes, ClassifierArchitecture architecture = ClassifierArchitecture.Conv) : base(nameof(Classifier))
    {
        if (imageSize % 4 != 0 || classes < 2 || channels < 1)
            throw new ArgumentException($"classifier needs an image size divisible by 4 and at least 2 classes (size {imageSize}, classes {classes})");
        body = architecture switch
        {
            ClassifierArchitecture.Pooled => Sequential(
                new SafeConv2d(channels, 48, 5), GroupNorms.Create(8, 48), SiLU(), MaxPool2d(2),
                new SafeConv2d(48, 96, 5), GroupNorms.Create(8, 96), SiLU(), MaxPool2d(2),
                new SafeConv2d(96, 192), GroupNorms.Create(8, 192), SiLU(),
                AdaptiveAvgPool2d(1), Flatten(), Linear(192, FeatureDim), SiLU()),
            _ => Sequential(
                new SafeConv2d(channels, 32), SiLU(), new SafeConv2d(32, 32), SiLU(), MaxPool2d(2),
                new SafeConv2d(32, 64), SiLU(), new SafeConv2d(64, 64), SiLU(), MaxPool2d(2),
                Flatten(), Linear(64 * (imageSize / 4) * (imageSize / 4), FeatureDim), SiLU()),
        };
        head = Linear(FeatureDim, classes);
        ImageSize = imageSize;
        RegisterComponents();
    }

    /// <summary>Images in [−1, 1] → the 128-d features.</summary>
    public Tensor Features(Tensor images) => body.forward(images);

    /// <summary>The side of the images it takes, in pixels.</summary>
    public int ImageSize { get; }

    /// <summary>How many maps <see cref="MapsAndFeatures"/> returns before the features: the body's max-pools.</summary>
    public int MapCount => body.children().Count(layer => layer is MaxPool2d);

    /// <summary>Images in [−1, 1] → in one pass, the map after each max-pool ([n, C, h, w]; for
    /// <see cref="ClassifierArchitecture.Conv"/> at 28 px, 32×14×14 and 64×7×7), then the 128-d features: the strokes
    /// and shapes the features are read from, before the projection that keeps only what tells classes apart.</summary>
    public Tensor[] MapsAndFeatures(Tensor images)
    {
        var readouts = new List<Tensor>();
        var x = images;
        // The body stays one Sequential, so that saved classifiers keep their parameter names.
        foreach (var layer in body.children())
        {
            x = ((Module<Tensor, Tensor>)layer).call(x);
            if (layer is MaxPool2d) readouts.Add(x);
        }
        readouts.Add(x);
        return [.. readouts];
    }

    /// <summary>Multiplies and adds of <see cref="Features"/> over <paramref name="images"/> images: 2 per weight of each
    /// linear map and per weight and output pixel of each convolution as computed (<see cref="SafeConv2d.ForwardFlops"/>;
    /// norms, activations and pooling not counted).</summary>
    public double ForwardFlops(long images)
    {
        var (flops, size) = (0.0, (long)ImageSize);
        foreach (var layer in body.children())
            switch (layer)
            {
                case SafeConv2d conv: flops += conv.ForwardFlops(images, size); break;
                case TorchSharp.Modules.MaxPool2d: size /= 2; break;
                case TorchSharp.Modules.AdaptiveAvgPool2d: size = 1; break;
                case Linear linear: flops += 2.0 * images * linear.weight!.numel(); break;
            }
        return flops;
    }

    /// <summary>Floats of the largest map one image makes in <see cref="Features"/> (<see cref="SafeConv2d.LargestMap"/>):
    /// a batch's memory is about this many floats an image.</summary>
    public long LargestMap()
    {
        var (most, size) = (0L, (long)ImageSize);
        foreach (var layer in body.children())
            switch (layer)
            {
                case SafeConv2d conv: most = Math.Max(most, conv.LargestMap(size)); break;
                case TorchSharp.Modules.MaxPool2d: size /= 2; break;
            }
        return most;
    }

    /// <summary>Features → class logits.</summary>
    public Tensor Classify(Tensor features) => head.forward(features);

    /// <summary>Images in [−1, 1] → class logits.</summary>
    public override Tensor forward(Tensor images) => head.forward(body.forward(images));

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            body.Dispose();
            head.Dispose();
        }
        base.Dispose(disposing);
    }
}
