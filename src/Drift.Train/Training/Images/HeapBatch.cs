using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Train.Training.Images;

/// <summary>
/// How many images a network takes at once on the CPU: few enough that its largest map fills at most half of a block the
/// heap serves (<see cref="NativeHeap.LargestHeapBlock"/>). Past a block, every batch's maps (and in training their
/// gradients) are fresh mmaps that the kernel zeroes page by page, and the time goes to the system. Measured (2 cores,
/// 20,000 samples of a width-32 generator, whose largest map is 100 KB an image): batches of 1000, 500, 320, 250, 128
/// and 64 took 23.2, 18.4, 13.3, 12.7, 11.6 and 13.4 s, 21 s of the first in the kernel and under 1 s of the others from
/// 320 down; width 64 (200 KB), 6,000 samples: 16.2 s at 1000 and 250, 10.4 s at 120. The images come out the same at
/// any batch (checked byte for byte). A GPU has its own allocator and takes the widest batch.
/// </summary>
public static class HeapBatch
{
    /// <param name="largestMap">Floats of the largest map one image makes (<see cref="Drift.Models.ConvGenerator.LargestMap"/>,
    /// <see cref="Drift.Models.Classifier.LargestMap"/>).</param>
    /// <param name="most">The widest batch, and a GPU's.</param>
    public static int Images(long largestMap, Device device, int most = 1000) =>
        device.type != DeviceType.CPU ? most : (int)Math.Clamp(NativeHeap.LargestHeapBlock / 2 / (sizeof(float) * largestMap), 1, most);

    /// <summary>A network's pass over <paramref name="n"/> images (a training step's generator, with gradient): where their
    /// largest map overfills a heap block on the CPU, <paramref name="pass"/>(start, count) over each chunk of
    /// <see cref="Images"/>'s size, joined, so that each chunk's maps and their gradients come from the heap; otherwise
    /// (always on a GPU) one pass, as a batch the heap serves gains nothing in chunks (the documented step, 320 images
    /// at width 32, took 0.55 s a step either way) and its results stay exactly as they were.</summary>
    public static Tensor Pass(long n, long largestMap, Device device, Func<long, long, Tensor> pass) =>
        Pass(n, largestMap, device, (start, count) => [pass(start, count)])[0];

    /// <summary><see cref="Pass(long, long, Device, Func{long, long, Tensor})"/> for a pass with several outputs (an
    /// encoder's maps and features), each joined over the chunks.</summary>
    public static Tensor[] Pass(long n, long largestMap, Device device, Func<long, long, Tensor[]> pass)
    {
        if (device.type != DeviceType.CPU || n * sizeof(float) * largestMap <= NativeHeap.LargestHeapBlock) return pass(0, n);
        var chunk = Images(largestMap, device, most: (int)Math.Min(int.MaxValue, n));
        var parts = new List<Tensor[]>();
        for (long start = 0; start < n; start += chunk)
            parts.Add(pass(start, Math.Min(chunk, n - start)));
        return Enumerable.Range(0, parts[0].Length).Select(i => torch.cat(parts.Select(p => p[i]).ToList(), 0)).ToArray();
    }
}
