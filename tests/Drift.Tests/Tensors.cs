using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Tests;

internal static class Tensors
{
    /// <summary>A fresh seed per test, named in every failure message; DRIFT_TEST_SEED=N replays a failing one.</summary>
    public static (Generator Rng, int Seed) Fresh()
    {
        var seed = Seed();
        return (new Generator((ulong)seed), seed);
    }

    public static int Seed() => int.TryParse(Environment.GetEnvironmentVariable("DRIFT_TEST_SEED"), out var fixedSeed) ? fixedSeed : Random.Shared.Next();

    public static Tensor Randn(Generator g, int n, int d, double scale = 1) =>
        torch.randn([n, d], dtype: float64, generator: g) * scale;

    public static double[,] ToArray(Tensor t)
    {
        var c = t.to(float64).cpu().contiguous();
        var flat = c.data<double>().ToArray();
        var result = new double[c.shape[0], c.shape[1]];
        Buffer.BlockCopy(flat, 0, result, 0, flat.Length * sizeof(double));
        return result;
    }

    public static Tensor FromArray(double[,] a) => torch.tensor(a, dtype: float64);

    public static double MaxAbs(Tensor t) => t.abs().max().item<double>();

    public static double MaxAbsDiff(double[,] a, double[,] b)
    {
        var m = 0.0;
        for (var i = 0; i < a.GetLength(0); i++)
        for (var k = 0; k < a.GetLength(1); k++)
            m = Math.Max(m, Math.Abs(a[i, k] - b[i, k]));
        return m;
    }
}
