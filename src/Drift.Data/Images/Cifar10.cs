using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Data.Images;

/// <summary>CIFAR-10's binary version: <c>data_batch_1..5.bin</c> and <c>test_batch.bin</c>, each a run of
/// records of one label byte and 3×32×32 channel-major pixels; class names from <c>batches.meta.txt</c>.</summary>
public static class Cifar10
{
    private const int Side = 32;
    private const int Record = 1 + 3 * Side * Side;

    public static bool Holds(string dir) => Directory.EnumerateFiles(dir, "data_batch_*.bin").Any();

    public static (ImageSet Train, ImageSet Test, string[]? ClassNames) Load(string dir)
    {
        var trainFiles = Directory.GetFiles(dir, "data_batch_*.bin").Order(StringComparer.Ordinal).ToArray();
        var testFile = Path.Combine(dir, "test_batch.bin");
        if (!File.Exists(testFile)) throw new DataError($"{dir}: no test_batch.bin beside the data_batch files");
        var meta = Path.Combine(dir, "batches.meta.txt");
        var names = File.Exists(meta) ? InputFile.ReadAllText(meta, "class names file", InputFile.MiB).Split('\n').Where(l => l.Trim().Length > 0).Select(l => l.Trim()).ToArray() : null;
        return (Read(trainFiles), Read([testFile]), names);
    }

    private static ImageSet Read(string[] files)
    {
        var pixels = new List<byte>();
        var labels = new List<long>();
        foreach (var file in files)
        {
            var bytes = InputFile.ReadAllBytes(file, "CIFAR-10 batch", InputFile.GiB);
            if (bytes.Length == 0 || bytes.Length % Record != 0)
                throw new DataError($"{file}: {bytes.Length} bytes is not a whole number of {Record}-byte CIFAR-10 records (truncated?)");
            for (var offset = 0; offset < bytes.Length; offset += Record)
            {
                if (bytes[offset] > 9) throw new DataError($"{file}: label {bytes[offset]} in record {offset / Record}, CIFAR-10 has classes 0-9");
                labels.Add(bytes[offset]);
                pixels.AddRange(bytes.AsSpan(offset + 1, Record - 1));
            }
        }
        return new ImageSet(torch.tensor(pixels.ToArray(), [labels.Count, 3, Side, Side], ScalarType.Byte), labels.ToArray());
    }
}
