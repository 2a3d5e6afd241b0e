using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Train.Training.Images;

/// <summary>
/// How many images a network takes at once where it runs without gradient over many (sampling, metric features, the
/// encoder's tables). On the CPU, few enough that its largest map fills at most half of a block the heap serves
/// (<see cref="NativeHeap.LargestHeapBlock"/>): past a block, every batch's maps are fresh mmaps that the kernel zeroes
/// page by page, and the time goes to the system. Measured (2 cores, 20,000 samples of a width-32 generator, whose
/// largest map is 100 KB an image): batches of 1000, 500, 320, 250, 128 and 64 took 23.2, 18.4, 13.3, 12.7, 11.6 and
/// 13.4 s, 21 s of the first in the kernel and under 1 s of the others from 320 down; width 64 (200 KB), 6,000 samples:
/// 16.2 s at 1000 and 250, 10.4 s at 120. The images come out the same at any batch (checked byte for byte).
/// A GPU has its own allocator and takes the widest batch.
/// </summary>
public static class InferenceBatch
{
    /// <param name="largestMap">Floats of the largest map one image makes (<see cref="Drift.Models.ConvGenerator.LargestMap"/>,
    /// <see cref="Drift.Models.Classifier.LargestMap"/>).</param>
    public static int Images(long largestMap, Device device, int most = 1000) =>
        device.type != DeviceType.CPU ? most : (int)Math.Clamp(NativeHeap.LargestHeapBlock / 2 / (sizeof(float) * largestMap), 1, most);
}
