using Drift.Loss;

namespace Drift.Particles;

/// <summary>One finite-particle experiment: N particles in d dimensions moved by explicit Euler steps of a
/// drifting field towards a target, without any network.</summary>
public sealed record ParticleConfig
{
    public FieldKind Field { get; init; } = FieldKind.Conservative;
    public SelfTerm SelfTerm { get; init; } = SelfTerm.Include;
    /// <summary>gaussian (N(0, I)), mixture (modes at ±2 on the first two axes, std 0.5), line (<see cref="Modes"/>
    /// modes of std 0.5 in a row along the first axis, <see cref="Spacing"/> apart) or uniform (the cube
    /// [−√3, √3]^d, a discontinuous density).</summary>
    public string Target { get; init; } = "gaussian";
    /// <summary>Modes of the line target.</summary>
    public int Modes { get; init; } = 4;
    /// <summary>Distance between neighbouring modes of the line target.</summary>
    public double Spacing { get; init; } = 2;
    /// <summary>M fixed target samples the field uses; 0: the field's <see cref="FieldKind.ExactVelocity"/> where it has
    /// one, else M = N.</summary>
    public int TargetSamples { get; init; }
    /// <summary>target (start in equilibrium), normal (N(0, I)) or shifted (the target moved by 2 along the first axis).</summary>
    public string Start { get; init; } = "shifted";
    public int N { get; init; } = 512;
    public int Dim { get; init; } = 2;
    /// <summary>Fixed bandwidth h0; when 0, h0 = BandwidthScale · N^(−1/(d+4−β)), β = <see cref="Beta"/>.</summary>
    public double Bandwidth { get; init; }
    public double BandwidthScale { get; init; } = 1.0;
    /// <summary>β in [0, 2) of the bandwidth rule h ∝ N^(−1/(d+4−β)): the rule that optimises the theory's bound
    /// when its quadrature constant grows like h^(−β); the bound's root rate is then <see cref="PredictedRate"/>.</summary>
    public double Beta { get; init; }
    /// <summary>Temperature τ of a temperature field.</summary>
    public double Temperature { get; init; } = 0.5;
    /// <summary>Scales shrink as e^(−r·t/T) over the run: r = 0 keeps them fixed.</summary>
    public double Anneal { get; init; }
    /// <summary>Move particles by the mean-shift (displacement) h²·V instead of the score difference V: the
    /// drifting paper's Gaussian-kernel field, whose size does not shrink as 1/h² at wide kernels, the time
    /// unit the annealing claim is made in. Fields that are not displacements already (<see cref="FieldKind.IsDisplacement"/>).</summary>
    public bool Displacement { get; init; }
    /// <summary>Time over which the scales shrink (T' in e^(−r·min(t, T')/T')), after which they hold at their
    /// final value; 0: the whole run.</summary>
    public double AnnealTime { get; init; }
    /// <summary>Total time T; the run takes T/η steps.</summary>
    public double Time { get; init; } = 2.0;
    /// <summary>Step size; 0: 0.25·h² at the final bandwidth (fields whose Jacobians are ~1/h²) or 0.1 (displacement
    /// fields, and any <see cref="Displacement"/> run, whose Jacobians are ~1).</summary>
    public double Eta { get; init; }
    public int RecordEvery { get; init; } = 10;
    public int FisherPoints { get; init; } = 1024;
    public long Seed { get; init; }
    /// <summary>A particle farther than this from the origin counts as diverged.</summary>
    public double Blowup { get; init; } = 1e4;

    public double InitialBandwidth => Bandwidth > 0 ? Bandwidth : BandwidthScale * Math.Pow(N, -1.0 / (Dim + 4 - Beta));

    /// <summary>The bound's exponent of N for the root residual velocity, −(2−β)/(2(d+4−β)): −1/(d+4) at β = 0.</summary>
    public static double PredictedRate(int dim, double beta) => -(2 - beta) / (2 * (dim + 4 - beta));

    /// <param name="fraction">t/T, the share of the run done.</param>
    public double ScaleAt(double fraction) =>
        Math.Exp(-Anneal * (AnnealTime > 0 ? Math.Min(1, fraction * Time / AnnealTime) : fraction));

    public double StepSize => Eta > 0 ? Eta
        : Field.IsDisplacement || Displacement ? 0.1 : 0.25 * Math.Pow(InitialBandwidth * ScaleAt(1), 2);

    public int Steps => Math.Max(1, (int)Math.Round(Time / StepSize));

    public const int MaxParticles = 1 << 16;
    /// <summary>The most steps a run takes: past it a run is a typo in --time or --eta (and its velocity log outgrows an array).</summary>
    public const int MaxSteps = 10_000_000;

    public void Validate()
    {
        if (!Enum.IsDefined(SelfTerm)) throw new ArgumentException($"unknown self term {(int)SelfTerm}: use exclude or include");
        if (Target is not ("gaussian" or "mixture" or "line" or "uniform")) throw new ArgumentException($"unknown target '{Target}': use gaussian, mixture, line or uniform");
        if (!(Beta is >= 0 and < 2)) throw new ArgumentException($"--beta must be in [0, 2), got {Beta}");
        if (Displacement && Field.IsDisplacement)
            throw new ArgumentException($"--displacement rescales the {FieldKind.Names(f => !f.IsDisplacement)} fields; the {Field.Name} field is a displacement already");
        if (Modes is < 1 or > 1024) throw new ArgumentException($"--modes must be between 1 and 1024, got {Modes}");
        if (Start is not ("target" or "normal" or "shifted")) throw new ArgumentException($"unknown start '{Start}': use target, normal or shifted");
        // Upper bounds: the field holds N×N (and N×target) kernels; past these a typo would take the machine's memory.
        if (N is < 2 or > MaxParticles) throw new ArgumentException($"--n must be between 2 and {MaxParticles}, got {N}");
        if (Dim is < 1 or > 1024) throw new ArgumentException($"--dim must be between 1 and 1024, got {Dim}");
        if (TargetSamples is < 0 or > MaxParticles) throw new ArgumentException($"--target-samples must be between 0 and {MaxParticles}, got {TargetSamples}");
        foreach (var (name, v) in new[] { ("--bandwidth", Bandwidth), ("--eta", Eta), ("--anneal", Anneal), ("--anneal-time", AnnealTime) })
            if (v < 0 || !double.IsFinite(v)) throw new ArgumentException($"{name} must be 0 (automatic) or positive, got {v}");
        foreach (var (name, v) in new[] { ("--bandwidth-scale", BandwidthScale), ("--temperature", Temperature), ("--time", Time), ("--blowup", Blowup), ("--spacing", Spacing) })
            if (!(v > 0) || !double.IsFinite(v)) throw new ArgumentException($"{name} must be positive, got {v}");
        if (RecordEvery < 1) throw new ArgumentException($"--record-every must be at least 1, got {RecordEvery}");
        if (FisherPoints is < 1 or > MaxParticles) throw new ArgumentException($"--fisher-points must be between 1 and {MaxParticles}, got {FisherPoints}");
        if (Time / StepSize is var steps and > MaxSteps)
            throw new ArgumentException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"--time {Time:g} at step size {StepSize:g3} is {steps:g3} steps, past the {MaxSteps:N0} a run may take: shorten --time or give a larger --eta"));
    }
}
