using System.Diagnostics;
using Drift.Loss;
using Drift.Metrics;
using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Particles;

/// <param name="MeanSquaredVelocity">(1/N) Σ ‖V(X_i)‖².</param>
/// <param name="CentreVelocity">‖(1/N) Σ V(X_i)‖²: how fast the cloud's centre still moves.</param>
/// <param name="SelfWeight">Fields with a self term: the mean share of each particle's model KDE owed to its own
/// kernel, K(0)/Σ_j K(X_i − X_j). Null for the others.</param>
/// <param name="Fisher">Smoothed Fisher discrepancy E_z ‖∇log ν_h(z) − ∇log μ_h(z)‖² at fresh target points z.</param>
/// <param name="ModeMassError">Targets of several modes: total variation between the particles' shares of the modes
/// and the target's weights (<see cref="ModeCoverage"/>); null for one mode.</param>
public sealed record ParticleSnapshot(int Step, double Time, double Bandwidth, double MeanSquaredVelocity,
    double CentreVelocity, double? SelfWeight, double Fisher, double Energy, double? ModeMassError);

/// <summary>Where and when a run left the finite world.</summary>
public sealed record Divergence(int Step, double Time, int Particle, double Norm);

/// <param name="RootTimeAveragedVelocity">sqrt of the time average over [0, T] of the mean squared velocity: what
/// the theorem bounds.</param>
/// <param name="RootLateVelocity">The same over the last quarter of the run.</param>
/// <param name="RootFisher">sqrt of the smoothed Fisher discrepancy at the end.</param>
/// <param name="QuadratureGap">A field with an exact velocity against an analytic target: <see cref="ParticleSystem.QuadratureGap"/>
/// at the end; null otherwise.</param>
public sealed record ParticleRun(ParticleConfig Config, double Eta, int Steps, IReadOnlyList<ParticleSnapshot> Trace,
    Divergence? Diverged, double RootTimeAveragedVelocity, double RootLateVelocity, double RootFisher, double Energy,
    double? QuadratureGap, double Seconds, double[,] Final, double[,] TargetSample);

/// <summary>N particles moved by explicit Euler steps X ← X + η V(X) of a drifting field, in float64.</summary>
public static class ParticleSystem
{
    private const int EnergyPoints = 2000;
    private const int QuadratureDraws = 4;

    public static Tensor Step(Tensor x, Tensor velocity, double eta) => x + eta * velocity;

    public static ISmoothedTarget TargetOf(ParticleConfig c) => c.Target switch
    {
        "mixture" => GaussianMixture.Modes(c.Dim),
        "line" => GaussianMixture.Line(c.Modes, c.Spacing, c.Dim),
        "uniform" => new UniformCube(c.Dim),
        _ => GaussianMixture.StandardNormal(c.Dim),
    };

    /// <summary>The run's field at its initial scale, unnormalised: a single bandwidth or temperature.</summary>
    public static IDriftField FieldOf(ParticleConfig c) => c.Field.Create(
        new FieldParameters([c.Field.Scale == FieldScale.Temperature ? c.Temperature : c.InitialBandwidth]) { SelfTerm = c.SelfTerm, NormalizeScales = false });

    /// <summary>The field at the particles, its scale multiplied by <paramref name="scale"/>. Against an analytic target, a
    /// field with an <see cref="FieldKind.ExactVelocity"/> uses it; otherwise the field sees the M fixed target samples.</summary>
    public static Tensor Velocity(ParticleConfig c, IDriftField field, Tensor x, ISmoothedTarget target, Tensor? targetSamples, double scale)
    {
        var h = c.InitialBandwidth * scale;
        var v = c.Field.ExactVelocity is { } exact && targetSamples is null
            ? exact(target, x, h, c.SelfTerm)
            : field.Scaled(scale).Compute(x, targetSamples!).Velocity;
        return c.Displacement ? v * (h * h) : v;
    }

    /// <param name="progress">Told the number of steps taken after each one (for a command's progress line).</param>
    public static ParticleRun Run(ParticleConfig c, Action<long>? progress = null)
    {
        c.Validate();
        var timer = Stopwatch.StartNew();
        var target = TargetOf(c);
        using var rng = new Generator((ulong)c.Seed);
        using var probeRng = new Generator((ulong)c.Seed ^ 0x9E3779B97F4A7C15);
        var x = InitialPositions(c, target, rng);
        var m = c.TargetSamples > 0 ? c.TargetSamples : c.Field.ExactVelocity is not null ? 0 : c.N;
        var field = FieldOf(c);
        using var targetSamples = m > 0 ? target.Sample(m, rng) : null;

        var eta = c.StepSize;
        var steps = c.Steps;
        var velocities = new double[steps];
        var trace = new List<ParticleSnapshot>();
        Divergence? diverged = null;
        for (var step = 0; step < steps; step++)
        {
            var scale = c.ScaleAt((double)step / steps);
            using var scope = torch.NewDisposeScope();
            var v = Velocity(c, field, x, target, targetSamples, scale);
            velocities[step] = v.pow(2).sum(1).mean().item<double>();
            if (step % c.RecordEvery == 0)
                trace.Add(Measure(c, step, step * eta, x, v, target, targetSamples, scale, probeRng));
            var next = Step(x, v, eta);
            diverged = Check(next, step + 1, (step + 1) * eta, c.Blowup);
            x.Dispose();
            x = next.MoveToOuterDisposeScope();
            progress?.Invoke(step + 1);
            if (diverged is not null)
            {
                velocities = velocities[..(step + 1)];
                break;
            }
        }
        if (diverged is null)
        {
            using var scope = torch.NewDisposeScope();
            var v = Velocity(c, field, x, target, targetSamples, c.ScaleAt(1));
            trace.Add(Measure(c, steps, steps * eta, x, v, target, targetSamples, c.ScaleAt(1), probeRng));
        }
        var last = trace[^1];
        double? gap = diverged is null && c.Field.ExactVelocity is not null && m == 0
            ? QuadratureGap(x, target, c.InitialBandwidth * c.ScaleAt(1), probeRng) : null;
        var late = velocities[(velocities.Length * 3 / 4)..];
        var final = x.data<double>().ToArray();
        using var reference = target.Sample(Math.Min(EnergyPoints, c.N), probeRng);
        x.Dispose();
        return new ParticleRun(c, eta, steps, trace, diverged,
            Math.Sqrt(velocities.Average()), Math.Sqrt(late.Average()), Math.Sqrt(last.Fisher), last.Energy, gap,
            timer.Elapsed.TotalSeconds, Matrix(final, c.Dim), Matrix(reference.data<double>().ToArray(), c.Dim));
    }

    private static double[,] Matrix(double[] flat, int d)
    {
        var m = new double[flat.Length / d, d];
        Buffer.BlockCopy(flat, 0, m, 0, flat.Length * sizeof(double));
        return m;
    }

    /// <summary>The start, drawn first from the run's generator (the M target samples come next).</summary>
    public static Tensor InitialPositions(ParticleConfig c, ISmoothedTarget target, Generator rng) => c.Start switch
    {
        "target" => target.Sample(c.N, rng),
        "normal" => torch.randn([c.N, c.Dim], dtype: float64, generator: rng),
        _ => target.Sample(c.N, rng) + torch.nn.functional.one_hot(torch.tensor(0L), c.Dim).to(float64) * 2,
    };

    private static ParticleSnapshot Measure(ParticleConfig c, int step, double time, Tensor x, Tensor v,
        ISmoothedTarget target, Tensor? targetSamples, double scale, Generator probeRng)
    {
        var h = c.InitialBandwidth * scale;
        var msv = v.pow(2).sum(1).mean().item<double>();
        var centre = v.mean([0]).pow(2).sum().item<double>();
        double? selfWeight = c.Field.Takes(FieldKnob.SelfTerm) ? SelfWeight(x, h) : null;
        var z = target.Sample(c.FisherPoints, probeRng);
        var targetScore = targetSamples is null ? target.SmoothedScore(z, h) : ConservativeField.KdeScore(z, targetSamples, h);
        var fisher = (targetScore - ConservativeField.KdeScore(z, x, h)).pow(2).sum(1).mean().item<double>();
        var count = Math.Min(EnergyPoints, c.N);
        var energy = EnergyDistance.Compute(x[..count], target.Sample(count, probeRng));
        double? modeMass = target is GaussianMixture { Weights.Length: > 1 } modes
            ? ModeCoverage.Compute(x, modes.Means, modes.Stds.Max(), modes.Weights).MassError : null;
        return new ParticleSnapshot(step, time, h, msv, centre, selfWeight, fisher, energy, modeMass);
    }

    /// <summary>
    /// |S − F|, the error of the quadrature that turns the empirical Stein drift S = (1/N) Σ_i g(X_i) at the
    /// particles into the smoothed Fisher discrepancy F = ∫ g dμ_h of their KDE, with g = ‖∇log ν_h − ∇log μ_h‖²
    /// (μ_h every particle's kernel, as in the theory). F = (1/N) Σ_i E_ξ g(X_i + hξ), ξ ~ N(0, I), by
    /// <see cref="QuadratureDraws"/> antithetic pairs ±ξ per particle, which cancel the odd terms of the error.
    /// </summary>
    public static double QuadratureGap(Tensor x, ISmoothedTarget target, double h, Generator rng)
    {
        using var scope = torch.NewDisposeScope();
        Tensor G(Tensor y) => (target.SmoothedScore(y, h) - ConservativeField.KdeScore(y, x, h)).pow(2).sum(1);
        var xi = torch.randn([QuadratureDraws, x.shape[0], x.shape[1]], dtype: x.dtype, generator: rng) * h;
        var smoothed = G(torch.cat([x + xi, x - xi]).reshape(-1, x.shape[1])).mean().item<double>();
        return Math.Abs(G(x).mean().item<double>() - smoothed);
    }

    /// <summary>mean_i K(0)/Σ_j K(X_i − X_j), in the row chunks of <see cref="FieldChunking.For"/>.</summary>
    private static double SelfWeight(Tensor x, double h)
    {
        var n = x.shape[0];
        var rows = FieldChunking.For(n, x.device_type, x.ElementSize).Rows;
        var sum = 0.0;
        for (long r0 = 0; r0 < n; r0 += rows)
        {
            using var scope = torch.NewDisposeScope();
            // The own pair set to exactly 0: cdist leaves rounding error of ~1e-8 there.
            var sq = torch.cdist(x.narrow(0, r0, Math.Min(rows, n - r0)), x).pow(2);
            sq.diagonal(r0).fill_(0);
            sum += torch.exp(-torch.logsumexp(sq * (-0.5 / (h * h)), 1)).sum().item<double>();
        }
        return sum / n;
    }

    /// <summary>A non-finite position, or one beyond the blow-up radius, ends the run as a result.</summary>
    private static Divergence? Check(Tensor x, int step, double time, double blowup)
    {
        var norms = x.norm(1);
        var finite = torch.isfinite(norms);
        if (!finite.all().item<bool>())
            return new Divergence(step, time, (int)(~finite).nonzero()[0, 0].item<long>(), double.NaN);
        var worst = (int)norms.argmax().item<long>();
        var norm = norms[worst].item<double>();
        return norm > blowup ? new Divergence(step, time, worst, norm) : null;
    }
}
