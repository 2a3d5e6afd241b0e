using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Train.Bench;

public static class Timing
{
    /// <summary>Two untimed warm-up runs, then the median of timed ones, each ended by a device sync.</summary>
    public static double MedianMs(Func<Tensor> work, Device dev, int repeats)
    {
        var times = new List<double>();
        for (var i = 0; i < repeats + 2; i++)
        {
            using var scope = torch.NewDisposeScope();
            var timer = Stopwatch.StartNew();
            work();
            if (dev.type == DeviceType.CUDA) torch.cuda.synchronize(dev);
            if (i >= 2) times.Add(timer.Elapsed.TotalMilliseconds);
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        times.Sort();
        return times[times.Count / 2];
    }
}
