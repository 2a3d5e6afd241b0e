using Drift.Loss;
using TorchSharp;
using static Drift.Tests.Tensors;
using static TorchSharp.torch;

namespace Drift.Tests;

[Trait("Category", "Numerics")]
public class ConservativeFieldTests
{
    /// <summary>Finite-difference gradient of Σ_h [log ν_h(q) − log μ_h(q)], where μ's point set is fixed.</summary>
    private static double[] FiniteDifferenceScore(double[] q, double[,] pos, double[,] neg, double[] hs, int skipNeg) =>
        Reference.Gradient(p => hs.Sum(h => Reference.LogKde(p, pos, h) - Reference.LogKde(p, neg, h, skipNeg)), q);

    [Theory]
    [InlineData(2, 1)]
    [InlineData(5, 2)]
    [InlineData(16, 3)]
    public void EqualsFiniteDifferenceGradientOfLogDensityRatio_ExplicitNegatives(int d, int scales)
    {
        var (g, seed) = Fresh();
        var x = Randn(g, 7, d);
        var pos = Randn(g, 11, d) + 0.5;
        var neg = Randn(g, 9, d, 1.3);
        var hs = Enumerable.Range(0, scales).Select(s => 0.6 + 0.7 * s).ToArray();
        var v = ToArray(new ConservativeField(hs, normalizeScales: false).Compute(x, pos, neg).Velocity);

        var xs = ToArray(x);
        for (var i = 0; i < 7; i++)
        {
            var expected = FiniteDifferenceScore(Reference.Row(xs, i), ToArray(pos), ToArray(neg), hs, -1);
            for (var k = 0; k < d; k++)
                Assert.True(Math.Abs(v[i, k] - expected[k]) < 1e-6 * (1 + Math.Abs(expected[k])),
                    $"seed {seed}: V[{i},{k}] = {v[i, k]}, finite difference {expected[k]}");
        }
    }

    [Theory]
    [InlineData(SelfTerm.Exclude)]
    [InlineData(SelfTerm.Include)]
    public void SelfTermIsTheGeneratedPointsOwnKernelInTheModelKde(SelfTerm self)
    {
        var (g, seed) = Fresh();
        const int d = 3;
        var x = Randn(g, 8, d);
        var pos = Randn(g, 10, d) + 0.3;
        double[] hs = [0.8];
        var v = ToArray(new ConservativeField(hs, self, normalizeScales: false).Compute(x, pos).Velocity);

        var xs = ToArray(x);
        for (var i = 0; i < 8; i++)
        {
            // The negatives are the batch, held fixed; the self term is x_i's own (unmoving) copy.
            var expected = FiniteDifferenceScore(Reference.Row(xs, i), ToArray(pos), xs, hs, self == SelfTerm.Exclude ? i : -1);
            for (var k = 0; k < d; k++)
                Assert.True(Math.Abs(v[i, k] - expected[k]) < 1e-6 * (1 + Math.Abs(expected[k])),
                    $"seed {seed}, {self}: V[{i},{k}] = {v[i, k]}, finite difference {expected[k]}");
        }
    }

    [Fact]
    public void SelfTermIncludedDominatesOnceTheBandwidthIsBelowTheSpacing()
    {
        // In 64 dimensions the nearest other sample is far away compared with h = 1: the included self
        // term owns the model KDE, so the repulsive part nearly vanishes; excluded, it does not.
        var (g, seed) = Fresh();
        var x = Randn(g, 64, 64);
        var pos = Randn(g, 64, 64);
        var included = new ConservativeField([1.0], SelfTerm.Include, false).Compute(x, pos).Velocity;
        var excluded = new ConservativeField([1.0], SelfTerm.Exclude, false).Compute(x, pos).Velocity;
        var repulsionIncluded = (included - TowardsData(x, pos, 1.0)).norm().item<double>();
        var repulsionExcluded = (excluded - TowardsData(x, pos, 1.0)).norm().item<double>();
        Assert.True(repulsionIncluded < 1e-3 * repulsionExcluded, $"seed {seed}: {repulsionIncluded} vs {repulsionExcluded}");
    }

    /// <summary>∇log ν_h alone, (mean-shift target − x)/h².</summary>
    private static Tensor TowardsData(Tensor x, Tensor pos, double h)
    {
        var w = torch.softmax(-torch.cdist(x, pos).pow(2) / (2 * h * h), 1);
        return (w.mm(pos) - x) / (h * h);
    }

    [Fact]
    public void JacobianIsSymmetric()
    {
        var (g, seed) = Fresh();
        const int d = 4;
        var pos = Randn(g, 12, d);
        var neg = Randn(g, 10, d, 1.5);
        var field = new ConservativeField([0.7, 1.5], normalizeScales: false);
        var j = FieldJacobian(q => field.Compute(q, pos, neg).Velocity, Randn(g, 1, d), 0);
        var asymmetry = (j - j.t()).norm().item<double>() / j.norm().item<double>();
        Assert.True(asymmetry < 1e-6, $"seed {seed}: relative asymmetry {asymmetry}");
    }

    /// <summary>The field the training loop uses: negatives = the generated batch itself. Moving one sample x_i
    /// (the others fixed) moves its own negative with it; its self term k(x_i, x_i) is then a constant (include) or
    /// absent (exclude), so V_i is still ∇ of log ν_h − log μ_h in x_i and its Jacobian symmetric.</summary>
    [Theory]
    [InlineData(SelfTerm.Exclude, 3)]
    [InlineData(SelfTerm.Include, 3)]
    [InlineData(SelfTerm.Exclude, 8)]
    [InlineData(SelfTerm.Include, 8)]
    public void JacobianIsSymmetricWithTheBatchAsNegatives(SelfTerm self, int d)
    {
        var (g, seed) = Fresh();
        var batch = Randn(g, 9, d, 1.3);
        var pos = Randn(g, 12, d);
        var field = new ConservativeField([0.8, 2.0], self, normalizeScales: false);
        var row = (int)(seed % 9);
        var j = FieldJacobian(q => field.Compute(q, pos).Velocity, batch, row);
        var asymmetry = (j - j.t()).norm().item<double>() / j.norm().item<double>();
        Assert.True(asymmetry < 1e-6, $"seed {seed}: relative asymmetry {asymmetry}");
    }

    /// <summary>Per-scale normalisation divides each scale's field by its RMS over the batch. For a frozen batch
    /// (the RMS taken as constants, as they are within one step) the sum Σ_s V_s/rms_s is a positive combination
    /// of gradient fields, so still a gradient: the normalised field is that sum, and its Jacobian is symmetric.</summary>
    [Theory]
    [InlineData(SelfTerm.Exclude)]
    [InlineData(SelfTerm.Include)]
    public void NormalisedFieldIsAGradientForAFrozenBatch(SelfTerm self)
    {
        var (g, seed) = Fresh();
        const int d = 4;
        var batch = Randn(g, 10, d, 1.2);
        var pos = Randn(g, 14, d);
        double[] hs = [0.5, 1.1, 2.4];
        var normalised = new ConservativeField(hs, self, normalizeScales: true).Compute(batch, pos);
        var rms = normalised.ScaleRms.data<double>().ToArray();
        var single = hs.Select(h => new ConservativeField([h], self, normalizeScales: false)).ToArray();
        Tensor Frozen(Tensor q) => single.Select((f, s) => f.Compute(q, pos).Velocity / (rms[s] + 1e-12)).Aggregate((a, b) => a + b);

        Assert.True(MaxAbs(normalised.Velocity - Frozen(batch)) < 1e-10 * MaxAbs(normalised.Velocity), $"seed {seed}");
        var row = (int)(seed % 10);
        var j = FieldJacobian(Frozen, batch, row);
        var asymmetry = (j - j.t()).norm().item<double>() / j.norm().item<double>();
        Assert.True(asymmetry < 1e-6, $"seed {seed}: relative asymmetry {asymmetry}");
    }

    /// <summary>∂V_row/∂x_row by central differences, the other rows held fixed.</summary>
    internal static Tensor FieldJacobian(Func<Tensor, Tensor> velocity, Tensor x, int row)
    {
        var d = (int)x.shape[1];
        var j = torch.zeros([d, d], dtype: float64);
        for (var k = 0; k < d; k++)
        {
            var up = x.clone();
            var down = x.clone();
            up[row, k] += 1e-6;
            down[row, k] -= 1e-6;
            j[.., k] = (velocity(up)[row] - velocity(down)[row]) / 2e-6;
        }
        return j;
    }
}
