using Drift.Loss;
using TorchSharp;
using static Drift.Tests.Tensors;
using static TorchSharp.torch;

namespace Drift.Tests;

[Trait("Category", "Numerics")]
public class UniformCubeTests
{
    /// <summary>One axis of ∇log ν_h by numerical integration: ν_h(x) ∝ ∫_{−a}^{a} φ_h(x − y) dy and
    /// ν_h'(x) ∝ −∫ (x − y)/h² φ_h(x − y) dy, each by Simpson's rule on 200 000 intervals, then their ratio.</summary>
    private static double IntegratedScore(double x, double h)
    {
        const int intervals = 200_000;
        var a = UniformCube.HalfWidth;
        var step = 2 * a / intervals;
        // Both integrands share the factor exp(−m²/2h²), m the nearest y to x: dividing it out keeps far points finite.
        var nearest = Math.Clamp(x, -a, a);
        double mass = 0, slope = 0;
        for (var i = 0; i <= intervals; i++)
        {
            var y = -a + i * step;
            var weight = i == 0 || i == intervals ? 1 : i % 2 == 1 ? 4 : 2;
            var k = Math.Exp(-(Math.Pow(x - y, 2) - Math.Pow(x - nearest, 2)) / (2 * h * h));
            mass += weight * k;
            slope += weight * k * -(x - y) / (h * h);
        }
        return slope / mass;
    }

    [Theory]
    [InlineData(0.05)]
    [InlineData(0.3)]
    [InlineData(1.0)]
    public void SmoothedScoreMatchesNumericalIntegration(double h)
    {
        var (g, seed) = Fresh();
        var a = UniformCube.HalfWidth;
        // Inside, in the boundary layer on either side of a face, and far outside (up to 12 h), both signs.
        var offsets = torch.cat([torch.rand(6, dtype: float64, generator: g) * 2 - 1, torch.randn(6, dtype: float64, generator: g) * 2, torch.rand(4, dtype: float64, generator: g) * 12]);
        var t = torch.cat([torch.rand(4, dtype: float64, generator: g) * (a - 3 * h), a + h * offsets]).clamp_min(0);
        var signs = torch.randint(0, 2, t.shape, generator: g).to(float64) * 2 - 1;
        var x = (t * signs).reshape(-1, 4);
        var score = ToArray(new UniformCube(4).SmoothedScore(x, h));
        var xs = ToArray(x);
        for (var i = 0; i < xs.GetLength(0); i++)
            for (var k = 0; k < 4; k++)
            {
                var expected = IntegratedScore(xs[i, k], h);
                Assert.True(Math.Abs(score[i, k] - expected) < 1e-7 * (1 + Math.Abs(expected)), $"seed {seed}, h={h}, x={xs[i, k]}: {score[i, k]} vs {expected}");
            }
    }

    [Fact]
    public void SamplesFillTheCubeWithUnitVariance()
    {
        var (g, seed) = Fresh();
        var s = new UniformCube(3).Sample(200_000, g);
        Assert.True(s.abs().max().item<double>() <= UniformCube.HalfWidth, $"seed {seed}");
        Assert.True(s.mean([0]).abs().max().item<double>() < 0.01, $"seed {seed}: mean {s.mean([0]).str()}");
        Assert.True((s.var(0) - 1).abs().max().item<double>() < 0.01, $"seed {seed}: variance {s.var(0).str()}");
    }
}
