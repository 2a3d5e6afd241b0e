using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Data.Images;

/// <summary>A folder in the MNIST layout (MNIST, Fashion-MNIST, EMNIST, KMNIST): train and test image and
/// label files, gzipped or not, named as those sets name them (<c>train-images-idx3-ubyte.gz</c>,
/// <c>t10k-labels.idx1-ubyte</c>, <c>emnist-letters-test-images-idx3-ubyte</c>, ...).</summary>
public static class IdxDataset
{
    public static bool Holds(string dir) => Find(dir, "train", "images", required: false) is not null;

    public static (ImageSet Train, ImageSet Test) Load(string dir) =>
        (LoadSplit(dir, "train"), LoadSplit(dir, "test"));

    private static ImageSet LoadSplit(string dir, string split)
    {
        var imagesPath = Find(dir, split, "images", required: true)!;
        var labelsPath = Find(dir, split, "labels", required: true)!;
        var (shape, pixels) = IdxFile.Read(imagesPath);
        if (shape.Length != 3) throw new DataError($"{imagesPath}: images need 3 dimensions (count, rows, columns), the file has {shape.Length}");
        var (labelShape, labels) = IdxFile.Read(labelsPath);
        if (labelShape.Length != 1) throw new DataError($"{labelsPath}: labels need 1 dimension, the file has {labelShape.Length}");
        if (labelShape[0] != shape[0])
            throw new DataError($"{labelsPath}: {labelShape[0]} labels for the {shape[0]} images of {Path.GetFileName(imagesPath)}");
        var tensor = torch.tensor(pixels, [shape[0], 1, shape[1], shape[2]], ScalarType.Byte);
        return new ImageSet(tensor, labels.Select(l => (long)l).ToArray());
    }

    private static string? Find(string dir, string split, string kind, bool required)
    {
        var rank = kind == "images" ? "idx3" : "idx1";
        var splitNames = split == "train" ? new[] { "train" } : ["t10k", "test"];
        var matches = Directory.EnumerateFiles(dir)
            .Where(f => !InputFile.Hidden(f))
            .Where(f =>
            {
                var name = Path.GetFileName(f).ToLowerInvariant();
                return name.Contains(rank) && splitNames.Any(s => name.Contains($"{s}-{kind}"));
            })
            .OrderBy(f => f, StringComparer.Ordinal).ToArray();
        if (matches.Length > 1)
            throw new DataError($"{dir}: several {split} {kind} files ({string.Join(", ", matches.Select(Path.GetFileName))}); keep one");
        if (matches.Length == 0 && required)
            throw new DataError($"{dir}: no {split} {kind} file (expected a name like {splitNames[0]}-{kind}-{rank}-ubyte[.gz])");
        return matches.FirstOrDefault();
    }
}
