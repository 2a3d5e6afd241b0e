using Drift.Loss;
using TorchSharp;
using static Drift.Tests.Tensors;
using static TorchSharp.torch;

namespace Drift.Tests;

[Trait("Category", "Numerics")]
public class GaussianMixtureTests
{
    /// <summary>log Σ_k w_k N(x; μ_k, (σ_k² + h²) I), by an explicit loop.</summary>
    private static double LogSmoothedDensity(double[] x, double[,] means, double[] stds, double[] weights, double h)
    {
        var total = 0.0;
        for (var k = 0; k < stds.Length; k++)
        {
            var v = stds[k] * stds[k] + h * h;
            var sq = 0.0;
            for (var j = 0; j < x.Length; j++) sq += Math.Pow(x[j] - means[k, j], 2);
            total += weights[k] / weights.Sum() * Math.Pow(2 * Math.PI * v, -x.Length / 2.0) * Math.Exp(-sq / (2 * v));
        }
        return Math.Log(total);
    }

    [Theory]
    [InlineData(1, 0.0)]
    [InlineData(3, 0.4)]
    [InlineData(5, 1.3)]
    public void SmoothedScoreIsTheFiniteDifferenceGradientOfTheSmoothedLogDensity(int d, double h)
    {
        var (g, seed) = Fresh();
        var means = ToArray(Randn(g, 3, d, 2));
        double[] stds = [0.5, 1.0, 0.8];
        double[] weights = [0.2, 0.5, 0.3];
        var mixture = new GaussianMixture(means, stds, weights);
        var x = Randn(g, 6, d, 1.5);
        var score = ToArray(mixture.SmoothedScore(x, h));
        var xs = ToArray(x);
        for (var i = 0; i < 6; i++)
        {
            var fd = Reference.Gradient(p => LogSmoothedDensity(p, means, stds, weights, h), Reference.Row(xs, i));
            for (var k = 0; k < d; k++)
                Assert.True(Math.Abs(score[i, k] - fd[k]) < 1e-6 * (1 + Math.Abs(fd[k])), $"seed {seed}: score {score[i, k]} vs {fd[k]}");
        }
    }

    [Fact]
    public void LineOfModesHasItsClosedFormMeanAndVariance()
    {
        var (g, seed) = Fresh();
        var line = GaussianMixture.Line(5, 2.0, 2);
        var s = line.Sample(200_000, g);
        // Means 2·(k − 2), k = 0..4, equal weights: mean 0; variance 0.25 + 2²·(5² − 1)/12 = 8.25 on the first axis.
        Assert.Equal(new[] { -4.0, -2.0, 0.0, 2.0, 4.0 }, Enumerable.Range(0, 5).Select(k => line.Means[k, 0]));
        Assert.True(s.mean([0]).abs().max().item<double>() < 0.03, $"seed {seed}: mean {s.mean([0]).str()}");
        Assert.InRange(s.var(0)[0].item<double>(), 8.15, 8.35);
        Assert.InRange(s.var(0)[1].item<double>(), 0.245, 0.255);
        Assert.Throws<ArgumentException>(() => GaussianMixture.Line(0, 2.0, 1));
    }

    [Fact]
    public void SamplesHaveTheMixturesMeanAndVariance()
    {
        var (g, seed) = Fresh();
        var mixture = GaussianMixture.Modes(3);
        var s = mixture.Sample(200_000, g);
        // Four equal modes at ±2 on axes 0 and 1 (std 0.5): mean 0; variance 0.25 + 4/2 on those axes, 0.25 on the third.
        var mean = s.mean([0]);
        var variance = s.var(0);
        Assert.True(mean.abs().max().item<double>() < 0.02, $"seed {seed}: mean {mean.str()}");
        Assert.InRange(variance[0].item<double>(), 2.2, 2.3);
        Assert.InRange(variance[1].item<double>(), 2.2, 2.3);
        Assert.InRange(variance[2].item<double>(), 0.245, 0.255);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(SelfTerm.Include)]
    [InlineData(SelfTerm.Exclude)]
    public void KdeScoreIsTheFiniteDifferenceGradientOfTheLogKde(SelfTerm? self)
    {
        var (g, seed) = Fresh();
        var x = Randn(g, 8, 2);
        var points = self is null ? Randn(g, 13, 2) : x;
        const double h = 0.7;
        var score = ToArray(ConservativeField.KdeScore(x, points, h, self));
        var xs = ToArray(x);
        var ps = ToArray(points);
        for (var i = 0; i < 8; i++)
        {
            // The self point stays where it is while the query moves.
            var skip = self == SelfTerm.Exclude ? i : -1;
            var fd = Reference.Gradient(p => Reference.LogKde(p, ps, h, skip), Reference.Row(xs, i));
            for (var k = 0; k < 2; k++)
                Assert.True(Math.Abs(score[i, k] - fd[k]) < 1e-6 * (1 + Math.Abs(fd[k])), $"seed {seed}, {self}: {score[i, k]} vs {fd[k]}");
        }
    }

    [Theory]
    [InlineData(SelfTerm.Include)]
    [InlineData(SelfTerm.Exclude)]
    public void KdeScoreInRowChunksMatchesAnExplicitLoop(SelfTerm self)
    {
        // 2100 float64 points: the 16 MiB chunk budget takes 998 rows at a time, so three chunks, the
        // excluded self pair of each found at its own offset.
        var (g, seed) = Fresh();
        const int n = 2100;
        Assert.True(FieldChunking.For(n, DeviceType.CPU, sizeof(double)).Rows < n);
        var x = Randn(g, n, 2) * 1.5;
        const double h = 0.3;
        var score = ToArray(ConservativeField.KdeScore(x, x, h, self));
        var xs = ToArray(x);
        foreach (var i in new[] { 0, 997, 998, 1500, 1996, n - 1 })
        {
            var logits = new double[n];
            for (var j = 0; j < n; j++)
                logits[j] = i == j && self == SelfTerm.Exclude ? double.NegativeInfinity
                    : -(Math.Pow(xs[i, 0] - xs[j, 0], 2) + Math.Pow(xs[i, 1] - xs[j, 1], 2)) / (2 * h * h);
            var max = logits.Max();
            var w = logits.Select(l => Math.Exp(l - max)).ToArray();
            for (var k = 0; k < 2; k++)
            {
                var expected = Enumerable.Range(0, n).Sum(j => w[j] * (xs[j, k] - xs[i, k])) / w.Sum() / (h * h);
                Assert.True(Math.Abs(score[i, k] - expected) < 1e-9 * (1 + Math.Abs(expected)), $"seed {seed}, {self}, row {i}: {score[i, k]} vs {expected}");
            }
        }
    }
}
