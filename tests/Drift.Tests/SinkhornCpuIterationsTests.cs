using Drift.Loss;
using TorchSharp;
using static Drift.Tests.Tensors;
using static TorchSharp.torch;

namespace Drift.Tests;

/// <summary>The Sinkhorn field's one-pass CPU iterations against the updates written out in plain float64 loops: rows
/// in several tiles (the last one short), over-relaxed and plain groups.</summary>
[Trait("Category", "Numerics")]
public class SinkhornCpuIterationsTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void MatchTheUpdatesWrittenOut(int groups)
    {
        var (g, seed) = Fresh();
        const int rows = 400, columns = 170, iterations = 6;
        var kernel = torch.softmax(torch.randn([groups, rows, columns], float64, generator: g) * 3, -1);
        var b = torch.rand([groups, columns, 1], float64, generator: g) + 0.5;
        var omega = Enumerable.Range(0, groups).Select(i => i % 2 == 0 ? 1.8 : 1.0).ToArray();
        var ratio = (double)rows / columns;
        var (k, bExpected) = (ToArray3(kernel), ToArray3(b));
        var aExpected = new double[groups, rows];
        for (var group = 0; group < groups; group++)
            Reference(k, group, aExpected, bExpected, omega[group], iterations, ratio);

        var a = torch.empty([groups, rows, 1], float64);
        SinkhornCpuIterations.Run(kernel, a, b, omega, iterations, ratio);
        var (aa, bb) = (ToArray3(a), ToArray3(b));
        for (var group = 0; group < groups; group++)
        {
            for (var i = 0; i < rows; i++)
                Assert.True(Math.Abs(aa[group, i, 0] - aExpected[group, i]) < 1e-10 * aExpected[group, i], $"seed {seed}: a[{group},{i}] = {aa[group, i, 0]}, written out {aExpected[group, i]}");
            for (var j = 0; j < columns; j++)
                Assert.True(Math.Abs(bb[group, j, 0] - bExpected[group, j, 0]) < 1e-10 * bExpected[group, j, 0], $"seed {seed}: b[{group},{j}] = {bb[group, j, 0]}, written out {bExpected[group, j, 0]}");
        }
    }

    /// <summary>a_i = 1/Σ_j K_ij b_j, b_j = ratio/Σ_i K_ij a_i, each moved ω of the way in log space but the first a.</summary>
    private static void Reference(double[,,] k, int group, double[,] a, double[,,] b, double omega, int iterations, double ratio)
    {
        int rows = k.GetLength(1), columns = k.GetLength(2);
        double Moved(double old, double update) => Math.Exp(Math.Clamp((1 - omega) * Math.Log(old) + omega * Math.Log(update), -80, 80));
        for (var iteration = 0; iteration < iterations; iteration++)
        {
            for (var i = 0; i < rows; i++)
            {
                var sum = 0.0;
                for (var j = 0; j < columns; j++) sum += k[group, i, j] * b[group, j, 0];
                a[group, i] = iteration == 0 || omega == 1 ? 1 / sum : Moved(a[group, i], 1 / sum);
            }
            for (var j = 0; j < columns; j++)
            {
                var sum = 0.0;
                for (var i = 0; i < rows; i++) sum += k[group, i, j] * a[group, i];
                var update = ratio / Math.Max(sum, 1e-30);
                b[group, j, 0] = omega == 1 ? update : Moved(b[group, j, 0], update);
            }
        }
    }

    private static double[,,] ToArray3(Tensor t)
    {
        var flat = t.contiguous().data<double>().ToArray();
        var (n0, n1, n2) = ((int)t.shape[0], (int)t.shape[1], (int)t.shape[2]);
        var result = new double[n0, n1, n2];
        Buffer.BlockCopy(flat, 0, result, 0, flat.Length * sizeof(double));
        return result;
    }
}
