using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Data.Images;

/// <summary>
/// An image dataset: train and test splits, class names, and a shape every image shares. <c>--data</c>
/// names <c>fashion-mnist</c> (Debian's dataset-fashion-mnist package), a folder in the MNIST IDX layout, a
/// folder of CIFAR-10 binary batches, a folder of images (one subfolder per class, or flat), or a .npy file of
/// images (labels in NAME.labels.npy beside it).
/// </summary>
public sealed class ImageData : IDisposable
{
    public const string FashionMnist = "fashion-mnist";
    public const string FashionMnistDir = "/usr/share/datasets/fashion-mnist";
    private static readonly string[] FashionMnistClasses =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    private ImageData(string name, ImageSet train, ImageSet test, string[] classNames, TimeSpan loadTime)
    {
        Name = name;
        Train = train;
        Test = test;
        ClassNames = classNames;
        LoadTime = loadTime;
    }

    public string Name { get; }
    public ImageSet Train { get; }
    public ImageSet Test { get; }
    public string[] ClassNames { get; }
    public int Classes => ClassNames.Length;
    public TimeSpan LoadTime { get; }
    public int Channels => Train.Channels;
    public int Size => Train.Height;

    /// <summary>The class names <paramref name="spec"/> goes by without loading it: Fashion-MNIST's; null for any other.</summary>
    public static string[]? KnownClassNames(string spec) => spec == FashionMnist ? FashionMnistClasses : null;

    /// <summary>Class <paramref name="c"/> as a reader knows it: "7 (Sneaker)", or "7" where the classes are numbers.</summary>
    public static string NameOf(IReadOnlyList<string>? names, int c) =>
        names is not null && c < names.Count && names[c] != $"{c}" ? $"{c} ({names[c]})" : $"{c}";

    /// <summary>The folder a class's images go in (<c>drift sample --out DIR</c>) and are read back from: its name, with
    /// the characters a file name cannot hold ("T-shirt/top") as "_".</summary>
    public static string ClassFolder(string className) => className.Replace('/', '_').Replace('\0', '_');

    /// <summary>A hash of both splits' pixels and labels (see <see cref="DataFingerprint"/>).</summary>
    public string Fingerprint() => DataFingerprint.Of((Train.Pixels, Train.Labels), (Test.Pixels, Test.Labels));

    /// <summary>A dataset made in memory (benchmarks, tests), classes named by number.</summary>
    public static ImageData InMemory(string name, ImageSet train, ImageSet test) => new(name, train, test, NumberedClasses(train, test), TimeSpan.Zero);

    /// <summary>"0", "1", ...: one name for each label up to the largest either split uses.</summary>
    private static string[] NumberedClasses(ImageSet train, ImageSet test)
    {
        var classes = (int)Math.Max(train.Labels.DefaultIfEmpty().Max(), test.Labels.DefaultIfEmpty().Max()) + 1;
        return Enumerable.Range(0, classes).Select(c => c.ToString()).ToArray();
    }

    /// <summary>Whether <c>--data</c> names image data rather than points.</summary>
    public static bool IsImageData(string spec) => spec == FashionMnist || Directory.Exists(spec);

    /// <param name="size">Side in pixels every image is brought to; 0 keeps the dataset's own (32 for a folder of images).</param>
    public static ImageData Load(string spec, int size = 0)
    {
        var timer = Stopwatch.StartNew();
        var dir = spec == FashionMnist ? FashionMnistDir : spec;
        if (NpyFile.Names(spec) && !Directory.Exists(spec))
            return FromNpy(spec, size, timer);
        if (!Directory.Exists(dir))
            throw new DataError(spec == FashionMnist
                ? $"Fashion-MNIST not found in {FashionMnistDir}: install it with: sudo apt-get install dataset-fashion-mnist"
                : $"image data folder not found: {dir}");

        ImageSet train, test;
        string[]? names = null;
        if (IdxDataset.Holds(dir))
        {
            (train, test) = IdxDataset.Load(dir);
            names = KnownClassNames(spec);
        }
        else if (Cifar10.Holds(dir))
            (train, test, names) = Cifar10.Load(dir);
        else if (ImageFolder.Holds(dir))
            (train, test, names) = ImageFolder.Load(dir, size > 0 ? size : 32);
        else
            throw new DataError($"{dir}: no image data found (expected MNIST-format IDX files, CIFAR-10 data_batch_*.bin, or PNG/JPEG/BMP/GIF/TGA images)");

        var numbered = NumberedClasses(train, test);
        CheckLabels(spec, train, names, numbered.Length);
        names ??= numbered;
        if (size > 0 && size != train.Height)
        {
            CheckResizedFits(spec, train, test, size);
            (train, test) = (Resized(train, size), Resized(test, size));
        }
        return new ImageData(spec, train, test, names, timer.Elapsed);
    }

    /// <summary>Images and labels as <c>drift sample --out x.npy</c> writes them (<see cref="NpyImages"/>), split as a folder
    /// is; without a labels file, one class.</summary>
    private static ImageData FromNpy(string path, int size, Stopwatch timer)
    {
        var (pixels, labels) = NpyImages.Read(path);
        using (pixels)
        {
            var (n, h, w) = (pixels.shape[0], pixels.shape[2], pixels.shape[3]);
            if (n < 2) throw new DataError($"{path}: needs at least 2 images, found {n}");
            if (h != w) throw new DataError($"{path}: images of {h}×{w}; a generator makes square images: crop them first");
            // Past n, classes without an image would outnumber the images (and a label of 10^9 would name 10^9 classes).
            if ((labels ?? []).Where(l => l < 0 || l > n).Take(1).ToArray() is [var bad])
                throw new DataError($"{NpyImages.LabelsPath(path)}: label {bad} is not a class index 0..K-1 of these {n} images");
            var (train, test) = ImageSet.SplitEveryTenth(pixels, labels ?? new long[n]);
            var numbered = NumberedClasses(train, test);
            CheckLabels(path, train, null, numbered.Length);
            if (size > 0 && size != h)
            {
                CheckResizedFits(path, train, test, size);
                (train, test) = (Resized(train, size), Resized(test, size));
            }
            return new ImageData(path, train, test, numbered, timer.Elapsed);
        }
    }

    /// <summary>Labels are class indices 0..K−1: one past a named dataset's classes, or, where the classes are only
    /// numbered, one that leaves a run of classes without a single training image (a stray byte in a label file),
    /// would train classes that do not exist. One empty class is allowed: EMNIST letters count from 1.</summary>
    private static void CheckLabels(string spec, ImageSet train, string[]? names, int classes)
    {
        var largest = classes - 1;
        if (names is not null)
        {
            if (largest >= names.Length)
                throw new DataError($"{spec}: label {largest} is outside the dataset's {names.Length} classes (0..{names.Length - 1})");
            return;
        }
        var present = train.Labels.ToHashSet();
        var empty = Enumerable.Range(0, classes).Where(c => !present.Contains(c)).ToArray();
        if (empty.Length > 1)
            throw new DataError($"{spec}: labels run up to {largest}, but {empty.Length} classes below it have no training image "
                + $"(first {empty[0]}); labels must be class indices 0..K-1");
    }

    /// <summary>Refuses a set that brought to <paramref name="size"/> would not fit in this machine's memory beside itself
    /// (Fashion-MNIST at 1024 pixels: 73 GB).</summary>
    private static void CheckResizedFits(string spec, ImageSet train, ImageSet test, int size)
    {
        var need = (long)(train.Count + test.Count) * train.Channels * size * size + train.Pixels.NumberOfElements + test.Pixels.NumberOfElements;
        var memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (need > memory)
            throw new DataError($"{spec} brought to {size}×{size} pixels takes {InputFile.Size(need)}, more than the {InputFile.Size(memory)} this machine has");
    }

    private static ImageSet Resized(ImageSet set, int size)
    {
        using (set)
            return new ImageSet(ImageSet.Resize(set.Pixels, size), set.Labels);
    }

    public void Dispose()
    {
        Train.Dispose();
        Test.Dispose();
    }
}
