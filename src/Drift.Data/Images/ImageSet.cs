using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Data.Images;

/// <summary>Images kept as they are stored, uint8 [N, C, H, W] on the CPU, with a label per image; turned
/// into float batches in [−1, 1] only when drawn.</summary>
public sealed class ImageSet : IDisposable
{
    public ImageSet(Tensor pixels, long[] labels)
    {
        if (pixels.dtype != ScalarType.Byte || pixels.dim() != 4)
            throw new ArgumentException("image pixels must be uint8 [N, C, H, W]");
        if (pixels.shape[0] != labels.Length)
            throw new ArgumentException($"{pixels.shape[0]} images but {labels.Length} labels");
        Pixels = pixels;
        Labels = labels;
    }

    public Tensor Pixels { get; }
    public long[] Labels { get; }
    public int Count => Labels.Length;
    public int Channels => (int)Pixels.shape[1];
    public int Height => (int)Pixels.shape[2];
    public int Width => (int)Pixels.shape[3];

    /// <summary>The images at <paramref name="indices"/> as float [n, C, H, W] in [−1, 1].</summary>
    public Tensor Batch(long[] indices)
    {
        using var index = torch.tensor(indices);
        return ToUnit(Pixels.index_select(0, index));
    }

    /// <summary>Splits images that come without a split of their own (a folder, a .npy file): every tenth (indices 9, 19,
    /// ...) is the test split. Under ten images there is no tenth: the last training image stands in as the test split.</summary>
    public static (ImageSet Train, ImageSet Test) SplitEveryTenth(Tensor pixels, long[] labels)
    {
        const int Every = 10;
        var test = Enumerable.Range(0, labels.Length).Where(i => i % Every == Every - 1).Select(i => (long)i).ToArray();
        var train = Enumerable.Range(0, labels.Length).Where(i => i % Every != Every - 1).Select(i => (long)i).ToArray();
        ImageSet Subset(long[] indices)
        {
            using var index = torch.tensor(indices);
            return new ImageSet(pixels.index_select(0, index), indices.Select(i => labels[i]).ToArray());
        }
        return (Subset(train), Subset(test.Length > 0 ? test : [train[^1]]));
    }

    public static Tensor ToUnit(Tensor bytes) => bytes.to_type(ScalarType.Float32).div_(127.5).sub_(1);

    /// <summary>Float images in [−1, 1] to uint8, clamping what a generator puts outside.</summary>
    public static Tensor ToBytes(Tensor unit) =>
        unit.add(1).mul_(127.5).round_().clamp_(0, 255).to_type(ScalarType.Byte);

    /// <summary>Float images as a file keeps them (<see cref="ToBytes"/>, back to [−1, 1]): what a PNG, a .npy or
    /// another tool's judge sees, and so what the image metrics judge. A generator's values past ±1 are clamped
    /// away there, and they moved pixel recall by 0.04 when judged as floats.</summary>
    public static Tensor AsStored(Tensor unit)
    {
        using var bytes = ToBytes(unit);
        return ToUnit(bytes);
    }

    /// <summary>uint8 images [N, C, H, W] brought to size×size: area averaging down, bilinear up. A chunk of images at a
    /// time, so that the floats held stay bounded whatever the set (all of Fashion-MNIST brought to 302 pixels at once
    /// would be 22 GB of floats); each image is resized alone either way, so the chunks change no value.</summary>
    public static Tensor Resize(Tensor bytes, int size)
    {
        var (n, h, w) = (bytes.shape[0], bytes.shape[2], bytes.shape[3]);
        if (h == size && w == size) return bytes.clone();
        var chunk = Math.Max(1, ChunkFloats / (bytes.shape[1] * Math.Max(h * w, (long)size * size)));
        var resized = torch.empty([n, bytes.shape[1], size, size], ScalarType.Byte);
        for (long start = 0; start < n; start += chunk)
        {
            using var scope = torch.NewDisposeScope();
            var x = bytes.narrow(0, start, Math.Min(chunk, n - start)).to_type(ScalarType.Float32);
            var done = size < h
                ? nn.functional.interpolate(x, [size, size], mode: InterpolationMode.Area)
                : nn.functional.interpolate(x, [size, size], mode: InterpolationMode.Bilinear, align_corners: false);
            resized.narrow(0, start, x.shape[0]).copy_(done.round_().clamp_(0, 255).to_type(ScalarType.Byte));
        }
        return resized;
    }

    private const long ChunkFloats = 1L << 25;

    public void Dispose() => Pixels.Dispose();
}
