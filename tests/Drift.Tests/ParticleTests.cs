using Drift.Loss;
using Drift.Metrics;
using Drift.Particles;
using TorchSharp;
using static Drift.Tests.Tensors;
using static TorchSharp.torch;

namespace Drift.Tests;

public class ParticleTests
{
    [Theory]
    [InlineData("conservative", "include", 0)]
    [InlineData("conservative", "exclude", 40)]
    [InlineData("laplace", "include", 0)]
    [InlineData("sinkhorn", "include", 0)]
    [InlineData("mmd", "exclude", 0)]
    [InlineData("mmd", "include", 0, true)]
    [InlineData("conservative", "include", 0, true)]
    [InlineData("sinkhorn", "include", 0, true)]
    public void OneRunStepIsExactlyXPlusEtaV(string field, string self, int targetSamples, bool displacement = false)
    {
        var seed = Tensors.Seed();
        var c = new ParticleConfig { Field = FieldKind.Named(field), SelfTerm = Enum.Parse<SelfTerm>(self, true), TargetSamples = targetSamples, N = 30, Dim = 3,
            Eta = 0.01, Time = 0.01, Seed = seed, Target = "mixture", Displacement = displacement };
        var told = new List<long>();
        var run = ParticleSystem.Run(c, told.Add);
        Assert.Equal(1, run.Steps);
        Assert.Equal([1L], told);

        using var rng = new Generator((ulong)seed);
        var target = ParticleSystem.TargetOf(c);
        var x0 = ParticleSystem.InitialPositions(c, target, rng);
        var m = targetSamples > 0 ? targetSamples : field == "conservative" ? 0 : c.N;
        var y = m > 0 ? target.Sample(m, rng) : null;
        var expected = ToArray(x0 + 0.01 * ParticleSystem.Velocity(c, ParticleSystem.FieldOf(c), x0, target, y, 1.0));
        Assert.Equal(0.0, MaxAbsDiff(expected, run.Final));
    }

    [Fact]
    public void DisplacementIsTheFieldTimesHSquared()
    {
        var (g, seed) = Fresh();
        var c = new ParticleConfig { N = 40, Dim = 2, Bandwidth = 0.7, Target = "mixture" };
        var x = Randn(g, 40, 2);
        var target = ParticleSystem.TargetOf(c);
        var score = ParticleSystem.Velocity(c, ParticleSystem.FieldOf(c), x, target, null, 0.5);
        var shift = ParticleSystem.Velocity(c with { Displacement = true }, ParticleSystem.FieldOf(c), x, target, null, 0.5);
        // h = 0.7 · 0.5; the mean shift towards the smoothed target minus that towards the particles' KDE.
        var h = 0.35;
        var expected = (target.SmoothedScore(x, h) - ConservativeField.KdeScore(x, x, h, SelfTerm.Include)) * (h * h);
        Assert.True(MaxAbs(shift - expected) < 1e-12 && MaxAbs(shift - score * (h * h)) < 1e-12, $"seed {seed}");
        Assert.Equal(0.1, (c with { Displacement = true }).StepSize);
    }

    [Fact]
    public void QuadratureGapMatchesAnExplicitLoop()
    {
        // Against N(0, I), whose smoothed score is −y/(1 + h²); the same ξ drawn again from the same seed.
        var (g, seed) = Fresh();
        const int n = 30, d = 2, draws = 4;
        const double h = 0.6;
        var x = Randn(g, n, d);
        var gap = ParticleSystem.QuadratureGap(x, GaussianMixture.StandardNormal(d), h, new Generator((ulong)seed));
        var xi = ToArray((torch.randn([draws, n, d], dtype: float64, generator: new Generator((ulong)seed)) * h).reshape(-1, d));
        var xs = ToArray(x);
        double G(double[] y)
        {
            var logits = Enumerable.Range(0, n).Select(j => -Enumerable.Range(0, d).Sum(k => Math.Pow(y[k] - xs[j, k], 2)) / (2 * h * h)).ToArray();
            var w = logits.Select(l => Math.Exp(l - logits.Max())).ToArray();
            return Enumerable.Range(0, d).Sum(k =>
            {
                var kde = Enumerable.Range(0, n).Sum(j => w[j] * (xs[j, k] - y[k])) / w.Sum() / (h * h);
                return Math.Pow(-y[k] / (1 + h * h) - kde, 2);
            });
        }
        var atParticles = Enumerable.Range(0, n).Average(i => G(Reference.Row(xs, i)));
        var smoothed = Enumerable.Range(0, draws * n).SelectMany(r => new[] { +1.0, -1.0 }.Select(sign =>
            G(Enumerable.Range(0, d).Select(k => xs[r % n, k] + sign * xi[r, k]).ToArray()))).Average();
        Assert.True(Math.Abs(gap - Math.Abs(atParticles - smoothed)) < 1e-10 * (1 + gap), $"seed {seed}: {gap} vs {Math.Abs(atParticles - smoothed)}");
    }

    [Theory]
    [InlineData(1, 0.0)]
    [InlineData(2, 1.0)]
    [InlineData(4, 1.5)]
    public void BetaRuleSetsTheBandwidthAndTheBoundsExponent(int d, double beta)
    {
        var c = new ParticleConfig { N = 4096, Dim = d, Beta = beta, BandwidthScale = 0.8 };
        Assert.Equal(0.8 * Math.Pow(4096, -1.0 / (d + 4 - beta)), c.InitialBandwidth, 12);
        // The bound balances h^(2−β) against 1/(N h^(d+2)); its square root at that h is N^(−(2−β)/(2(d+4−β))).
        var h = Math.Pow(4096, -1.0 / (d + 4 - beta));
        Assert.Equal(Math.Log(Math.Sqrt(Math.Pow(h, 2 - beta))) / Math.Log(4096), ParticleConfig.PredictedRate(d, beta), 12);
        Assert.Equal(-1.0 / (d + 4), ParticleConfig.PredictedRate(d, 0), 12);
    }

    [Fact]
    public void ParticlesStartedInTheUniformCubeStayCloseToIt()
    {
        var run = ParticleSystem.Run(new ParticleConfig { Target = "uniform", Start = "target", N = 400, Dim = 2, Time = 1, Seed = Tensors.Seed() });
        Assert.Null(run.Diverged);
        Assert.True(run.Energy < 0.05, $"energy distance {run.Energy}");
        Assert.NotNull(run.QuadratureGap);
    }

    [Fact]
    public void AnnealedScaleHoldsAfterItsAnnealTime()
    {
        var c = new ParticleConfig { Anneal = 2, AnnealTime = 1, Time = 4 };
        Assert.Equal(Math.Exp(-1), c.ScaleAt(0.125), 12);   // t = 0.5: half of r
        Assert.Equal(Math.Exp(-2), c.ScaleAt(0.25), 12);    // t = 1: all of r
        Assert.Equal(Math.Exp(-2), c.ScaleAt(0.9), 12);     // held
        Assert.Equal(Math.Exp(-1), (c with { AnnealTime = 0 }).ScaleAt(0.5), 12);
    }

    /// <summary>The trace's mode-mass error against an explicit count of the final particles by nearest mode.</summary>
    [Fact]
    public void ModeMassErrorCountsTheParticlesOfEachMode()
    {
        var seed = Tensors.Seed();
        var c = new ParticleConfig { Target = "line", Modes = 3, Spacing = 2, Start = "normal", N = 90, Dim = 1, Time = 0.05, Seed = seed };
        var run = ParticleSystem.Run(c);
        var counts = new double[3];
        var off = 0.0;
        for (var i = 0; i < c.N; i++)
        {
            var nearest = Enumerable.Range(0, 3).MinBy(k => Math.Abs(run.Final[i, 0] - 2.0 * (k - 1)));
            if (Math.Abs(run.Final[i, 0] - 2.0 * (nearest - 1)) <= 1.5) counts[nearest]++;
            else off++;
        }
        var expected = 0.5 * counts.Sum(n => Math.Abs(n / c.N - 1.0 / 3)) + 0.5 * off / c.N;
        Assert.Equal(expected, run.Trace[^1].ModeMassError!.Value, 12);
        Assert.Null(ParticleSystem.Run(c with { Target = "gaussian" }).Trace[^1].ModeMassError);
    }

    [Fact]
    public void VelocityVanishesWhenTheTargetSamplesAreTheParticles()
    {
        var (g, seed) = Fresh();
        var c = new ParticleConfig { Field = FieldKind.Conservative, SelfTerm = SelfTerm.Include, N = 50, Dim = 2, TargetSamples = 50 };
        var x = Randn(g, 50, 2);
        var v = ParticleSystem.Velocity(c, ParticleSystem.FieldOf(c), x, ParticleSystem.TargetOf(c), x.clone(), 1.0);
        Assert.True(MaxAbs(v) < 1e-12, $"seed {seed}: max |V| = {MaxAbs(v)}");
    }

    [Fact]
    public void DivergenceIsReportedAsAResult()
    {
        // Shifted by 2, most particles already lie beyond a blow-up radius of 1.5 after the first step.
        var run = ParticleSystem.Run(new ParticleConfig { N = 64, Dim = 2, Blowup = 1.5, Seed = Tensors.Seed() });
        Assert.NotNull(run.Diverged);
        Assert.Equal(1, run.Diverged!.Step);
        Assert.InRange(run.Diverged.Particle, 0, 63);
        Assert.True(run.Diverged.Norm > 1.5);
        Assert.True(double.IsFinite(run.RootTimeAveragedVelocity));
    }

    [Fact]
    public void ExcludedSelfTermBlowsUpAnIsolatedParticle()
    {
        // Leave-one-out, a particle far from the rest is pushed away by (x − nearest)/h², faster than the
        // smoothed target pulls it back (~x): the run must end as a reported divergence, not a crash.
        var run = ParticleSystem.Run(new ParticleConfig { SelfTerm = SelfTerm.Exclude, N = 256, Dim = 2, Time = 4, Seed = 3 });
        Assert.NotNull(run.Diverged);
    }

    [Fact]
    public void ParticlesStartedAtTheTargetStayCloseToIt()
    {
        var run = ParticleSystem.Run(new ParticleConfig { Start = "target", N = 400, Dim = 2, Time = 1, Seed = Tensors.Seed() });
        Assert.Null(run.Diverged);
        Assert.True(run.Energy < 0.05, $"energy distance {run.Energy}");
    }

    [Theory]
    [InlineData(-0.2)]
    [InlineData(-0.125)]
    [InlineData(0.5)]
    public void SlopeFitterRecoversAPlantedExponent(double exponent)
    {
        var rng = new Random();
        var ns = new[] { 64.0, 128, 256, 512, 1024, 2048 };
        var xs = ns.SelectMany(n => Enumerable.Repeat(n, 5)).ToArray();
        var ys = xs.Select(n => 3.0 * Math.Pow(n, exponent) * Math.Exp(0.05 * Gaussian(rng))).ToArray();
        var fit = LogLogFit.Fit(xs, ys);
        Assert.True(Math.Abs(fit.Slope - exponent) < 0.05, $"slope {fit.Slope} for planted {exponent}");
        Assert.True(fit.Lower < fit.Slope && fit.Slope < fit.Upper);
        // Noise-free points give the exponent to rounding and a zero-width interval.
        var exact = LogLogFit.Fit(ns, ns.Select(n => 7 * Math.Pow(n, exponent)).ToArray());
        Assert.Equal(exponent, exact.Slope, 10);
        Assert.Equal(Math.Log(7), exact.Intercept, 8);
        Assert.True(exact.Upper - exact.Lower < 1e-8);
    }

    [Fact]
    public void SlopeIntervalCoversThePlantedExponentAtTheNominalRate()
    {
        // Over many noisy replicates a 95% interval must cover the truth close to 95% of the time.
        var rng = new Random();
        var ns = new[] { 64.0, 128, 256, 512, 1024 };
        var covered = 0;
        const int trials = 400;
        for (var t = 0; t < trials; t++)
        {
            var fit = LogLogFit.Fit(ns, ns.Select(n => Math.Pow(n, -0.3) * Math.Exp(0.2 * Gaussian(rng))).ToArray());
            if (fit.Lower <= -0.3 && -0.3 <= fit.Upper) covered++;
        }
        Assert.InRange(covered / (double)trials, 0.90, 0.99);
    }

    [Fact]
    public void PerSeedIntervalCoversWhenEachSeedHasItsOwnSlope()
    {
        // Each seed's runs share a random slope offset (as runs sharing their first draws do): the per-seed interval
        // keeps its 95% coverage, the pooled one, which counts every run as independent, falls well short.
        var rng = new Random();
        var ns = new[] { 64.0, 128, 256, 512, 1024, 2048, 4096 };
        int seedCovered = 0, pooledCovered = 0;
        const int trials = 400;
        for (var t = 0; t < trials; t++)
        {
            var groups = Enumerable.Range(0, 6).Select(_ =>
            {
                var slope = -0.3 + 0.05 * Gaussian(rng);
                return (ns, ns.Select(n => Math.Pow(n / 512, slope) * Math.Exp(0.02 * Gaussian(rng))).ToArray());
            }).ToArray();
            var perSeed = LogLogFit.FitPerGroup(groups);
            var pooled = LogLogFit.Fit(groups.SelectMany(g => g.ns).ToArray(), groups.SelectMany(g => g.Item2).ToArray());
            Assert.Equal(pooled.Slope, perSeed.Slope, 10);
            if (perSeed.Lower <= -0.3 && -0.3 <= perSeed.Upper) seedCovered++;
            if (pooled.Lower <= -0.3 && -0.3 <= pooled.Upper) pooledCovered++;
        }
        Assert.InRange(seedCovered / (double)trials, 0.90, 0.99);
        Assert.True(pooledCovered < 0.8 * trials, $"pooled coverage {pooledCovered / (double)trials}");
    }

    private static double Gaussian(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
