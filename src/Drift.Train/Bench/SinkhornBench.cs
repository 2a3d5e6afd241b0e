using Drift.Loss;
using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Train.Bench;

/// <summary>What one Sinkhorn iteration costs at one size, on each way the field can iterate: in one pass over the kernel
/// (<see cref="SinkhornField"/> on the CPU) and as tensor operations (as on a GPU). Two plans a call (the batch's plan to
/// itself is given a copy of the batch, so that both take the alternating updates), run to a fixed count with no
/// tolerance; the call without iterations is subtracted, which leaves the iterations and the kernel rebuilds they need.</summary>
public static class SinkhornBench
{
    private const int Iterations = 100;

    public static IEnumerable<string> Rows(int rows, int cols, int dim, Device dev, int repeats)
    {
        using var g = new Generator(1);
        using var x = torch.randn([rows, dim], generator: g).to(dev);
        using var pos = (torch.randn([cols, dim], generator: g) + 0.3).to(dev);
        using var negatives = x.clone();
        double[] bandwidth = [0.5 * Math.Sqrt(dim)];
        double Ms(SinkhornField field) => Timing.MedianMs(() => field.Compute(x, pos, negatives).Velocity, dev, repeats);
        var paths = new List<(string Name, SinkhornField Field)>();
        var field = new SinkhornField(bandwidth, iterations: Iterations, tolerance: 0);
        if (dev.type == DeviceType.CPU) paths.Add(("one pass over the kernel (CPU)", field));
        paths.Add(("tensor operations", field.WithTensorIterations()));
        var none = Ms(new SinkhornField(bandwidth, iterations: 0));
        foreach (var (name, iterating) in paths)
            yield return $"| {rows} | {cols} | {dim} | {name} | {(Ms(iterating) - none) * 1000 / (2 * Iterations):F0} |";
    }
}
