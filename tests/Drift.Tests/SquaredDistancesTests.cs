using Drift.Loss;
using TorchSharp;
using static Drift.Tests.Tensors;
using static TorchSharp.torch;

namespace Drift.Tests;

/// <summary>The squared distances every field builds on, against float64 loops over the same float32 points.</summary>
[Trait("Category", "Numerics")]
public class SquaredDistancesTests
{
    /// <summary>In 1–3 dimensions from the differences themselves: pairs 1e-3 apart at coordinates of about 3 keep their
    /// distance to float32 rounding (the expansion ‖x‖² + ‖y‖² − 2x·y is off there by several times the distance), and
    /// the gradient is 2(x − y) weighted, to float32 rounding of its sum (relative to the sum of its terms' sizes: the
    /// terms cancel, so relative to the sum itself a correct gradient was once 5e-4 off). Groups [G, B, d] give each
    /// group's distances.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void FewCoordinatesKeepNearPairsExact(int dim)
    {
        var (g, seed) = Fresh();
        var x = (Randn(g, 40, dim) + 3).to(float32);
        var y = torch.cat([(x[..25].to(float64) + Randn(g, 25, dim, 1e-3)).to(float32), (Randn(g, 30, dim) + 3).to(float32)]);
        x.requires_grad_(true);
        var d = FieldMath.SquaredDistances(x, y);
        var weights = torch.rand(d.shape, dtype: float32, generator: g);
        (d * weights).sum().backward();

        var (xa, ya, w) = (ToArray(x.detach()), ToArray(y), ToArray(weights));
        var (da, grad) = (ToArray(d.detach()), ToArray(x.grad!));
        var (worst, worstGrad) = (0.0, 0.0);
        for (var i = 0; i < xa.GetLength(0); i++)
        {
            var (expectedGrad, termSizes) = (new double[dim], new double[dim]);
            for (var j = 0; j < ya.GetLength(0); j++)
            {
                var expected = 0.0;
                for (var c = 0; c < dim; c++)
                {
                    var diff = xa[i, c] - ya[j, c];
                    expected += diff * diff;
                    expectedGrad[c] += 2 * w[i, j] * diff;
                    termSizes[c] += Math.Abs(2 * w[i, j] * diff);
                }
                worst = Math.Max(worst, Math.Abs(da[i, j] - expected) / expected);
            }
            for (var c = 0; c < dim; c++) worstGrad = Math.Max(worstGrad, Math.Abs(grad[i, c] - expectedGrad[c]) / termSizes[c]);
        }
        Assert.True(worst < 1e-6, $"seed {seed}, d = {dim}: a distance off by {worst} of itself");
        Assert.True(worstGrad < 1e-5, $"seed {seed}, d = {dim}: the gradient off by {worstGrad} of its terms' sizes");

        var groups = torch.stack([x.detach(), x.detach().flip(0)]);
        var grouped = FieldMath.SquaredDistances(groups, torch.stack([y, y.flip(0)]));
        Assert.Equal(0, MaxAbs((grouped[0] - d.detach()).to(float64)));
        Assert.Equal(0, MaxAbs((grouped[1] - d.detach().flip(0, 1)).to(float64)));
    }

    /// <summary>In high dimension through the expansion's matrix product: within float32 rounding of the squared norms,
    /// and never negative.</summary>
    [Fact]
    public void ManyCoordinatesAreWithinRoundingOfTheNorms()
    {
        var (g, seed) = Fresh();
        var x = Randn(g, 30, 64).to(float32);
        var y = torch.cat([x[..10], Randn(g, 20, 64).to(float32)]);
        var d = ToArray(FieldMath.SquaredDistances(x, y));
        var (xa, ya) = (ToArray(x), ToArray(y));
        for (var i = 0; i < xa.GetLength(0); i++)
        for (var j = 0; j < ya.GetLength(0); j++)
        {
            var (expected, norms) = (0.0, 0.0);
            for (var c = 0; c < 64; c++)
            {
                expected += (xa[i, c] - ya[j, c]) * (xa[i, c] - ya[j, c]);
                norms += xa[i, c] * xa[i, c] + ya[j, c] * ya[j, c];
            }
            Assert.True(d[i, j] >= 0 && Math.Abs(d[i, j] - expected) < 1e-5 * norms, $"seed {seed}: ({i}, {j}) {d[i, j]} against {expected}");
        }
    }
}
