using Drift.Metrics;
using TorchSharp;
using static Drift.Tests.Tensors;
using static TorchSharp.torch;

namespace Drift.Tests;

[Trait("Category", "Numerics")]
public class EnergyDistanceTests
{
    [Fact]
    public void MatchesExplicitPairLoop()
    {
        var (g, seed) = Fresh();
        var x = Randn(g, 40, 3);
        var y = Randn(g, 25, 3, 1.5) + 0.5;
        var expected = 2 * Reference.MeanDistance(ToArray(x), ToArray(y))
            - Reference.MeanDistance(ToArray(x), ToArray(x)) - Reference.MeanDistance(ToArray(y), ToArray(y));
        Assert.True(Math.Abs(EnergyDistance.Compute(x, y) - expected) < 1e-12, $"seed {seed}");
        Assert.True(Math.Abs(EnergyDistance.Compute(x.to(float32), y.to(float32)) - expected) < 1e-5, $"seed {seed}: float32 input");
    }

    [Fact]
    public void ZeroForIdenticalSamples()
    {
        var (g, seed) = Fresh();
        var x = Randn(g, 50, 2);
        Assert.True(EnergyDistance.Compute(x, x.clone()) < 1e-12, $"seed {seed}");
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(2.5)]
    public void ApproachesTheClosedFormForShiftedGaussians(double mu)
    {
        // X ~ N(0,1), Y ~ N(mu,1) in one dimension: X − Y ~ N(−mu, 2), and E|N(m, s²)| is
        // s·sqrt(2/π)·exp(−m²/2s²) + m·(1 − 2Φ(−m/s)).
        var (g, seed) = Fresh();
        const int n = 6000;
        var x = torch.randn([n, 1], dtype: float64, generator: g);
        var y = torch.randn([n, 1], dtype: float64, generator: g) + mu;
        var s = Math.Sqrt(2);
        var cross = s * Math.Sqrt(2 / Math.PI) * Math.Exp(-mu * mu / (2 * s * s)) + mu * (1 - 2 * NormalCdf(-mu / s));
        var within = s * Math.Sqrt(2 / Math.PI);
        var expected = 2 * cross - 2 * within;
        // The V-statistic is biased up by about 2·within/n; the sampling error is a few times 1/sqrt(n).
        var measured = EnergyDistance.Compute(x, y);
        Assert.True(Math.Abs(measured - expected) < 0.06 + 0.05 * expected + 2 * within / n, $"seed {seed}: {measured} vs closed form {expected}");
    }

    private static double NormalCdf(double z) => 0.5 * (1 + Erf(z / Math.Sqrt(2)));

    /// <summary>Abramowitz–Stegun 7.1.26, error below 1.5e-7.</summary>
    private static double Erf(double x)
    {
        var t = 1 / (1 + 0.3275911 * Math.Abs(x));
        var y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.Exp(-x * x);
        return Math.Sign(x) * y;
    }
}
