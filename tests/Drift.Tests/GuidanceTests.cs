using Drift.Loss;
using TorchSharp;
using static Drift.Tests.Tensors;
using static TorchSharp.torch;

namespace Drift.Tests;

/// <summary>Classifier-free guidance: unconditional data mixed into the negative side with weight γ.</summary>
[Trait("Category", "Numerics")]
public class GuidanceTests
{
    public static TheoryData<SelfTerm, bool> Cases => new()
    {
        { SelfTerm.Exclude, false },
        { SelfTerm.Include, false },
        { SelfTerm.Exclude, true },
        { SelfTerm.Include, true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ConservativeFieldIsTheScoreDifferenceAgainstTheMixture(SelfTerm self, bool chunked)
    {
        // V(q) = ∇ Σ_h [log ν_h(q) − log((1 − γ)/m Σ_model k + γ/U Σ_extra k)], the model set held fixed.
        var (g, seed) = Fresh();
        var x = Randn(g, 9, 3);
        var pos = Randn(g, 8, 3) + 0.7;
        var extra = Randn(g, 5, 3, 1.5) - 0.4;
        var gamma = 0.2 + 0.6 * new Random(seed).NextDouble();
        double[] hs = [0.7, 1.5];
        var field = new ConservativeField(hs, self, normalizeScales: false, chunked ? new FieldChunking(4, 3) : null);
        var v = ToArray(field.Compute(x, pos, null, new GuidanceNegatives(extra, gamma)).Velocity);

        var (xs, ps, es) = (ToArray(x), ToArray(pos), ToArray(extra));
        var m = self == SelfTerm.Exclude ? 8 : 9;
        for (var i = 0; i < 9; i++)
        {
            var skip = self == SelfTerm.Exclude ? i : -1;
            double LogMixture(double[] q, double h)
            {
                var a = Math.Log(1 - gamma) - Math.Log(m) + Reference.LogKde(q, xs, h, skip);
                var b = Math.Log(gamma) - Math.Log(5) + Reference.LogKde(q, es, h);
                var max = Math.Max(a, b);
                return max + Math.Log(Math.Exp(a - max) + Math.Exp(b - max));
            }
            var expected = Reference.Gradient(q => hs.Sum(h => Reference.LogKde(q, ps, h) - LogMixture(q, h)), Reference.Row(xs, i));
            for (var k = 0; k < 3; k++)
                Assert.True(Math.Abs(v[i, k] - expected[k]) < 1e-6 * (1 + Math.Abs(expected[k])),
                    $"seed {seed}: V[{i},{k}] = {v[i, k]}, finite difference {expected[k]}");
        }
    }

    [Theory]
    [InlineData(false, false, true)]
    [InlineData(true, false, true)]
    [InlineData(false, true, true)]
    [InlineData(true, true, true)]
    [InlineData(false, false, false)]
    [InlineData(true, false, false)]
    public void LaplaceFieldWeightsTheNormalisedEntriesOfTheExtraNegatives(bool chunked, bool rowsOnly, bool crossWeights)
    {
        var (g, seed) = Fresh();
        var x = Randn(g, 10, 4);
        var pos = Randn(g, 7, 4) + 0.5;
        var extra = Randn(g, 6, 4, 1.4);
        var gamma = 0.1 + 0.8 * new Random(seed).NextDouble();
        double[] temps = [0.5, 2.0];
        var field = new LaplaceField(temps, normalizeScales: true, chunked ? new FieldChunking(3, 3) : null, rowsOnly: rowsOnly, crossWeights: crossWeights);
        var v = ToArray(field.Compute(x, pos, null, new GuidanceNegatives(extra, gamma)).Velocity);
        var expected = Reference.Laplace(ToArray(x), ToArray(pos), null, temps, normalize: true, ToArray(extra), gamma, rowsOnly, crossWeights);
        Assert.True(MaxAbsDiff(v, expected) < 1e-9, $"seed {seed}: off by {MaxAbsDiff(v, expected)}");
    }

    [Fact]
    public void ZeroGammaIsNoGuidance()
    {
        var (g, seed) = Fresh();
        var x = Randn(g, 10, 2);
        var pos = Randn(g, 12, 2);
        var extra = Randn(g, 4, 2) + 3;
        foreach (IDriftField field in new IDriftField[] { new ConservativeField([0.5, 1]), new LaplaceField([0.3]) })
        {
            var plain = field.Compute(x, pos).Velocity;
            var guided = field.Compute(x, pos, null, new GuidanceNegatives(extra, 0)).Velocity;
            Assert.True(MaxAbs(plain - guided) == 0, $"seed {seed}: {field.GetType().Name} changed with γ = 0");
        }
    }

    [Fact]
    public void GammaFollowsTheGuidanceScale()
    {
        Assert.Equal(0, GuidanceNegatives.GammaFor(1));
        Assert.Equal(0.5, GuidanceNegatives.GammaFor(2), 12);
        Assert.Equal(0.75, GuidanceNegatives.GammaFor(4), 12);
    }
}
