using Drift.Metrics;
using TorchSharp;
using static Drift.Tests.Tensors;
using static TorchSharp.torch;

namespace Drift.Tests;

[Trait("Category", "Numerics")]
public class DataCopyingTests
{
    /// <summary>Nearest distances against an explicit float64 loop over every pair, in one chunk and in many small ones
    /// (rows and columns both split), with exact copies among the queries at distance 0.</summary>
    [Theory]
    [InlineData(1L << 25)]
    [InlineData(300L)]
    public void NearestDistancesMatchAnExplicitLoop(long cells)
    {
        var (g, seed) = Fresh();
        var d = 3 + (int)torch.randint(20, [1], generator: g).item<long>();
        var to = Randn(g, 57, d);
        var copies = to.index_select(0, torch.randint(57, [5], generator: g));
        var from = torch.cat([Randn(g, 40, d, 1.5), copies]);
        var measured = DataCopying.NearestDistances(from, to, cells);
        var (x, y) = (ToArray(from), ToArray(to));
        for (var i = 0; i < x.GetLength(0); i++)
        {
            var nearest = double.PositiveInfinity;
            for (var j = 0; j < y.GetLength(0); j++)
            {
                var sum = 0.0;
                for (var c = 0; c < d; c++) sum += (x[i, c] - y[j, c]) * (x[i, c] - y[j, c]);
                nearest = Math.Min(nearest, Math.Sqrt(sum));
            }
            // Float32 products choose the nearest; two rows nearer to one another than that rounding are not apart.
            Assert.True(Math.Abs(measured[i] - nearest) <= 1e-5 * Math.Max(1, nearest), $"seed {seed}, row {i}: {measured[i]} against {nearest}");
        }
        Assert.All(measured[40..], v => Assert.Equal(0.0, v));
    }

    /// <summary>The z-score against U counted over every pair and the variance from the tie groups counted directly:
    /// continuous values (no ties) and small integers (many).</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MannWhitneyZMatchesAPairCount(bool ties)
    {
        var seed = Seed();
        var random = new Random(seed);
        double Draw(double shift) => ties ? random.Next(6) + Math.Round(shift) : random.NextDouble() * 3 + shift;
        var shift = random.NextDouble() - 0.5;
        var a = Enumerable.Range(0, random.Next(5, 60)).Select(_ => Draw(shift)).ToArray();
        var b = Enumerable.Range(0, random.Next(5, 60)).Select(_ => Draw(0)).ToArray();
        double u = 0;
        foreach (var x in a)
        foreach (var y in b)
            u += x > y ? 1 : x == y ? 0.5 : 0;
        double m = a.Length, k = b.Length, n = m + k;
        var groups = a.Concat(b).GroupBy(v => v).Select(t => (double)t.Count());
        var variance = m * k / 12 * (n + 1 - groups.Sum(t => t * t * t - t) / (n * (n - 1)));
        var expected = (u - m * k / 2) / Math.Sqrt(variance);
        Assert.True(Math.Abs(DataCopying.MannWhitneyZ(a, b) - expected) < 1e-9, $"seed {seed}: {DataCopying.MannWhitneyZ(a, b)} against {expected}");
        Assert.True(Math.Abs(DataCopying.MannWhitneyZ(b, a) + expected) < 1e-9, $"seed {seed}: swapped sides change the sign");
    }

    /// <summary>What the test is for: near copies of training points score far below 0 and nearly all near, fresh draws
    /// of the data about 0 and a hundredth near (as does the floor, half the held-out points against the other half), a
    /// wider distribution above 0.</summary>
    [Fact]
    public void CopiesScoreBelowZeroAndNewSamplesAboutZero()
    {
        var (g, seed) = Fresh();
        const int d = 8;
        var train = Randn(g, 3000, d);
        var heldOut = Randn(g, 1200, d);
        var (copies, floor) = DataCopying.Compute(train, heldOut, train.narrow(0, 0, 600) + Randn(g, 600, d, 0.02));
        Assert.True(copies.Z < -20 && copies.NearShare > 0.95, $"seed {seed}: copies {copies}");
        Assert.True(Math.Abs(floor.Z) < 4.5 && floor.NearShare < 0.05, $"seed {seed}: held-out points against held-out points {floor}");
        var fresh = DataCopying.Compute(train, heldOut, Randn(g, 600, d)).Generated;
        Assert.True(Math.Abs(fresh.Z) < 4.5 && fresh.NearShare < 0.05, $"seed {seed}: fresh draws {fresh}");
        var wide = DataCopying.Compute(train, heldOut, Randn(g, 600, d, 1.5)).Generated;
        Assert.True(wide.Z > 5 && wide.NearShare < 0.01, $"seed {seed}: a wider distribution {wide}");
    }
}
