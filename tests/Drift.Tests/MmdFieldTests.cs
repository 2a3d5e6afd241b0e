using Drift.Loss;
using TorchSharp;
using Drift.Train.RunFolders;
using Drift.Train.Training.Points;
using static Drift.Tests.Tensors;
using static TorchSharp.torch;

namespace Drift.Tests;

/// <summary>
/// The MMD field against explicit float64 loops of its formula, against central differences of the MMD witness
/// function it is the gradient of, in float32 where its raw kernels underflow, per group, and through the field table.
/// </summary>
[Trait("Category", "Numerics")]
public class MmdFieldTests
{
    /// <summary>Σ over scales of (1/h²)[(1/M)Σⱼ k(xᵢ, yⱼ)(yⱼ − xᵢ) − (1/N')Σ k(xᵢ, nₗ)(nₗ − xᵢ)], each scale at unit RMS when
    /// asked; the batch as negatives without (exclude: N' = N − 1) or with (N' = N) its own pair.</summary>
    private static double[,] Explicit(double[,] x, double[,] pos, double[,]? neg, double[] bandwidths, SelfTerm self, bool normalize)
    {
        int b = x.GetLength(0), d = x.GetLength(1);
        var model = neg ?? x;
        var total = new double[b, d];
        foreach (var h in bandwidths)
        {
            var v = new double[b, d];
            for (var i = 0; i < b; i++)
            {
                var xi = Reference.Row(x, i);
                void Add(double[,] y, double weight, int skip)
                {
                    for (var j = 0; j < y.GetLength(0); j++)
                    {
                        if (j == skip) continue;
                        var k = Math.Exp(-Reference.Distance2(y, j, xi) / (2 * h * h));
                        for (var c = 0; c < d; c++) v[i, c] += weight * k * (y[j, c] - xi[c]) / (h * h);
                    }
                }
                var skipSelf = neg is null && self == SelfTerm.Exclude;
                Add(pos, 1.0 / pos.GetLength(0), -1);
                Add(model, -1.0 / (model.GetLength(0) - (skipSelf ? 1 : 0)), skipSelf ? i : -1);
            }
            var rms = normalize ? Math.Sqrt(v.Cast<double>().Sum(e => e * e) / v.Length) : 1;
            for (var i = 0; i < b; i++)
            for (var c = 0; c < d; c++) total[i, c] += v[i, c] / rms;
        }
        return total;
    }

    [Theory]
    [InlineData(SelfTerm.Exclude, false, false)]
    [InlineData(SelfTerm.Include, false, false)]
    [InlineData(SelfTerm.Exclude, true, false)]
    [InlineData(SelfTerm.Include, true, true)]
    public void MatchesAnExplicitFloat64Loop(SelfTerm self, bool normalize, bool explicitNegatives)
    {
        var (g, seed) = Fresh();
        var x = Randn(g, 11, 3);
        var pos = Randn(g, 14, 3) + 0.7;
        var neg = explicitNegatives ? Randn(g, 9, 3) - 0.2 : null;
        double[] bandwidths = [0.6, 1.5];
        var v = ToArray(new MmdField(bandwidths, self, normalize).Compute(x, pos, neg).Velocity);
        var expected = Explicit(ToArray(x), ToArray(pos), neg is null ? null : ToArray(neg), bandwidths, self, normalize);
        var scale = expected.Cast<double>().Max(Math.Abs);
        Assert.True(MaxAbsDiff(v, expected) < 1e-10 * scale, $"seed {seed}: off by {MaxAbsDiff(v, expected)} (largest entry {scale})");
    }

    [Fact]
    public void IsTheGradientOfTheWitnessFunction()
    {
        // w(z) = (1/M) Σⱼ k(z, yⱼ) − (1/N) Σₗ k(z, nₗ); V(xᵢ) = ∇w(xᵢ), by central differences in z alone.
        var (g, seed) = Fresh();
        const int d = 4;
        const double h = 1.1, step = 1e-5;
        var x = Randn(g, 6, d);
        var pos = Randn(g, 10, d) + 0.4;
        var neg = Randn(g, 8, d);
        var v = ToArray(new MmdField([h]).Compute(x, pos, neg).Velocity);
        var (ya, na) = (ToArray(pos), ToArray(neg));
        double Witness(double[] z) =>
            Enumerable.Range(0, 10).Average(j => Math.Exp(-Reference.Distance2(ya, j, z) / (2 * h * h)))
            - Enumerable.Range(0, 8).Average(l => Math.Exp(-Reference.Distance2(na, l, z) / (2 * h * h)));
        var xa = ToArray(x);
        for (var i = 0; i < 6; i++)
        for (var c = 0; c < d; c++)
        {
            var plus = Reference.Row(xa, i);
            var minus = Reference.Row(xa, i);
            plus[c] += step;
            minus[c] -= step;
            var expected = (Witness(plus) - Witness(minus)) / (2 * step);
            Assert.True(Math.Abs(v[i, c] - expected) < 1e-8, $"seed {seed}: V[{i},{c}] = {v[i, c]}, ∂w/∂z by central differences {expected}");
        }
    }

    [Fact]
    public void NarrowKernelsInHighDimensionDoNotUnderflowInFloat32()
    {
        // ‖x − y‖²/2h² ≈ 400 here: every raw kernel entry is below float32's smallest number, yet the normalised
        // field is the float64 one, and the raw RMS the float64 one where float64 still holds it.
        var (g, seed) = Fresh();
        const int d = 100;
        var x = Randn(g, 20, d);
        var pos = Randn(g, 24, d) + 0.1;
        double[] bandwidths = [0.5];
        var field = new MmdField(bandwidths, normalizeScales: true);
        var single = field.Compute(x.to(float32), pos.to(float32));
        var reference = field.Compute(x, pos);
        var error = MaxAbs(single.Velocity.to(float64) - reference.Velocity) / MaxAbs(reference.Velocity);
        Assert.True(error < 1e-3, $"seed {seed}: float32 off by {error} relative");
        Assert.True(torch.isfinite(single.Velocity).all().item<bool>() && MaxAbs(single.Velocity.to(float64)) > 0, $"seed {seed}: the float32 field vanished");
        var expected = Explicit(ToArray(x), ToArray(pos), null, bandwidths, SelfTerm.Exclude, normalize: false);
        var rms = Math.Sqrt(expected.Cast<double>().Sum(e => e * e) / expected.Length);
        Assert.True(Math.Abs(reference.ScaleRms[0].item<double>() - rms) < 1e-9 * rms, $"seed {seed}: raw RMS {reference.ScaleRms[0].item<double>()}, loop {rms}");
    }

    [Fact]
    public void GroupsAreIndependentProblems()
    {
        var (g, seed) = Fresh();
        var x = torch.randn([3, 8, 2], dtype: float64, generator: g);
        var pos = torch.randn([3, 12, 2], dtype: float64, generator: g) + 0.5;
        var field = new MmdField([0.4, 1.0], normalizeScales: true);
        var grouped = field.Compute(x, pos);
        for (var k = 0; k < 3; k++)
        {
            var alone = field.Compute(x[k], pos[k]);
            Assert.True(MaxAbs(grouped.Velocity[k] - alone.Velocity) < 1e-12, $"seed {seed}: group {k} differs");
        }
    }

    [Fact]
    public void TheTableRowBuildsItAndConfigsSpellItByName()
    {
        var field = FieldKind.Mmd.Create(new FieldParameters([0.3, 0.9]) { SelfTerm = SelfTerm.Include });
        Assert.Equal((0.3, 0.9, SelfTerm.Include, true), (field.Scales[0], field.Scales[1], ((MmdField)field).SelfTerm, ((MmdField)field).NormalizeScales));
        var config = new TrainConfig { Field = FieldKind.Named("mmd") };
        Assert.Contains("\"field\": \"mmd\"", config.ToJson());
        Assert.Same(FieldKind.Mmd, ConfigJson.Read<TrainConfig>(config.ToJson(), "test").Field);
        Assert.Throws<ArgumentException>(() => field.Compute(torch.zeros(4, 2), torch.ones(4, 2), null, new GuidanceNegatives(torch.ones(2, 2), 0.5)));
    }
}
