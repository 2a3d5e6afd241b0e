using System.Text.Json;
using System.Text.Json.Serialization;
using static TorchSharp.torch;

namespace Drift.Loss;

/// <summary>
/// The table of drifting fields: one row per field with everything the rest of Drift asks about a field (its
/// name, its scales, which knobs it reads, its default annealing, what its bench and particle lab can do with it,
/// how to build it). Nothing outside Drift.Loss compares fields: help, errors, configs, the bench, the particle lab
/// and compare read the rows. A new field is its class and a row in <see cref="All"/>.
/// </summary>
[JsonConverter(typeof(FieldKindJson))]
public sealed class FieldKind
{
    public static readonly FieldKind Conservative = new("conservative", "KDE-gradient", FieldScale.Bandwidth,
        p => new ConservativeField(p.Scales, p.SelfTerm, p.NormalizeScales, p.Chunking))
    {
        Knobs = [FieldKnob.SelfTerm],
        DefaultAnneal = Math.Log(8),
        ImageLr = 4e-3,
        TakesGuidance = true,
        Paths = FieldPaths.RowAndColumnChunks,
        Flops = GemmFlops,
        Plain = ConservativeField.Plain,
        ExactVelocity = (target, x, h, self) => target.SmoothedScore(x, h) - ConservativeField.KdeScore(x, x, h, self),
        ThroughFieldLoss = (field, x, positives, eta) => Drift.Loss.ThroughFieldLoss.Compute((ConservativeField)field, x, positives, eta),
    };

    public static readonly FieldKind Laplace = new("laplace", "displacement", FieldScale.Temperature,
        p => new LaplaceField(p.Scales, p.NormalizeScales, p.Chunking, p.GaussianKernel, p.RowsOnly, p.CrossWeights))
    {
        Knobs = [FieldKnob.GaussianKernel, FieldKnob.RowsOnly, FieldKnob.CrossWeights],
        // Its column normalisation already makes every data point pull on its nearest samples.
        DefaultAnneal = 0,
        ImageLr = 4e-3,
        ImageRowsOnly = true,
        TakesGuidance = true,
        Paths = FieldPaths.RowChunks,
        Flops = GemmFlops,
        IsDisplacement = true,
    };

    public static readonly FieldKind Sinkhorn = new("sinkhorn", "Sinkhorn-divergence drift", FieldScale.Bandwidth,
        p => new SinkhornField(p.Scales, p.NormalizeScales, p.SinkhornIterations,
            state: p.CountIterations ? new SinkhornState() : null))
    {
        Knobs = [FieldKnob.SinkhornIterations],
        DefaultAnneal = Math.Log(8),
        // Its time goes to the iterations' matrix–vector products, as many as the plans take, which no GEMM count describes.
        Flops = null,
    };

    public static readonly FieldKind Mmd = new("mmd", "MMD gradient flow", FieldScale.Bandwidth,
        p => new MmdField(p.Scales, p.SelfTerm, p.NormalizeScales))
    {
        Knobs = [FieldKnob.SelfTerm],
        DefaultAnneal = Math.Log(8),
        Flops = GemmFlops,
    };

    /// <summary>Every field, in the order help and the bench list them.</summary>
    public static readonly IReadOnlyList<FieldKind> All = [Conservative, Laplace, Sinkhorn, Mmd];

    private readonly Func<FieldParameters, IDriftField> build;

    private FieldKind(string name, string summary, FieldScale scale, Func<FieldParameters, IDriftField> build)
    {
        Name = name;
        Summary = summary;
        Scale = scale;
        this.build = build;
    }

    /// <summary>The lower-case name configs and the command line use.</summary>
    public string Name { get; }
    /// <summary>A few words for help text.</summary>
    public string Summary { get; }
    public FieldScale Scale { get; }
    /// <summary>The knobs besides its scales that it reads; the others must stay at their defaults.</summary>
    public IReadOnlyList<FieldKnob> Knobs { get; private init; } = [];
    /// <summary>A training run's default annealing rate r (scales shrink as e^(−r·step/steps)): ln 8 for the Gaussian
    /// fields, whose wide kernels first reach distant modes that a row-normalised narrow kernel never sees.</summary>
    public double DefaultAnneal { get; private init; }
    /// <summary>An image run's default peak learning rate. The laplace field's is 4e-3: 2e-3 improved its FD and recall
    /// over 1e-3 in all three metric spaces (two seeds, 300 and 1200 steps), and 4e-3 its FD and recall over 2e-3 in the
    /// spaces that agreed with the outside judge (two seeds at 1200 steps, images judged as stored). The conservative
    /// field's is 4e-3 since 2026-12-06: with the encoder's spaces it improved FD and recall over 1e-3 in all four metric
    /// spaces on two seeds at 1200 steps (without them, 2e-3 had traded FD for recall). The others keep 1e-3: the MMD
    /// field's 4e-3, better in every space at 300 steps, split the spaces at 1200, and the sinkhorn field collapses on
    /// images at either rate (docs/quality.md, "The conservative field at 4e-3", "The sinkhorn and MMD fields at 4e-3").</summary>
    public double ImageLr { get; private init; } = 1e-3;
    /// <summary>An image run's default for <see cref="FieldKnob.RowsOnly"/> (a points run's is off). The laplace field's
    /// is on since 2026-12-06: at the documented 1200 steps it raised recall in all four metric spaces on two seeds (stored
    /// pixels +0.09 and +0.11) at some cost in FD and precision, the trade the outside judge asked for (its recall 0.48
    /// against precision 0.90), for the same step time (docs/quality.md, "The laplace field normalised over rows only").</summary>
    public bool ImageRowsOnly { get; private init; }
    /// <summary>Takes classifier-free guidance negatives (<see cref="GuidanceNegatives"/>).</summary>
    public bool TakesGuidance { get; private init; }
    public FieldPaths Paths { get; private init; }
    /// <summary>The bench's cost model: floating-point operations of one call on (rows, columns, dimension, scales);
    /// null where no count describes the time.</summary>
    public Func<double, double, double, int, double>? Flops { get; private init; }
    /// <summary>A straightforward dense implementation (x, positives, scales) the optimised paths are benched against.</summary>
    public Func<Tensor, Tensor, double[], Tensor>? Plain { get; private init; }
    /// <summary>Already a displacement (its Jacobians are ~1, not ~1/h²): the particle lab steps it at 0.1 and
    /// refuses to rescale it by h².</summary>
    public bool IsDisplacement { get; private init; }
    /// <summary>Its field against an analytic target from the target's smoothed score (target, x, h, self term),
    /// with no target samples: the particle lab's exact reference. Null: the field needs target samples.</summary>
    public Func<ISmoothedTarget, Tensor, double, SelfTerm, Tensor>? ExactVelocity { get; private init; }
    /// <summary>The stop-gradient ablation's loss (field, x, positives, η), backpropagating through the field; null: none.</summary>
    public Func<IDriftField, Tensor, Tensor, double, DriftLossResult>? ThroughFieldLoss { get; private init; }

    public bool Takes(FieldKnob knob) => Knobs.Contains(knob);

    public IDriftField Create(FieldParameters parameters) => build(parameters);

    /// <summary>The fields a predicate holds for, named for help and errors: "conservative or laplace".</summary>
    public static string Names(Func<FieldKind, bool>? where = null, string conjunction = "or")
    {
        var names = All.Where(where ?? (_ => true)).Select(f => f.Name).ToArray();
        return names.Length < 2 ? string.Join("", names) : $"{string.Join(", ", names[..^1])} {conjunction} {names[^1]}";
    }

    /// <summary>A per-field default for help text, the fields grouped by its value: "0.002 for laplace, 0.001 for conservative, sinkhorn and mmd".</summary>
    public static string DefaultsByField(Func<FieldKind, double> value, string format) =>
        string.Join(", ", All.GroupBy(value).Select(g => $"{g.Key.ToString(format, System.Globalization.CultureInfo.InvariantCulture)} for {Names(f => value(f) == g.Key, "and")}"));

    public static FieldKind? Find(string name) => All.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <exception cref="ArgumentException">No field has that name.</exception>
    public static FieldKind Named(string name) => Find(name) ?? throw new ArgumentException($"unknown field '{name}': use {Names()}");

    public override string ToString() => Name;

    /// <summary>Distances and weighted means are each a 2·N·(N+M)·d GEMM; the distance one is shared by the scales.</summary>
    private static double GemmFlops(double rows, double cols, double dim, int scales) => 2.0 * rows * (rows + cols) * dim * (1 + scales);

    /// <summary>Config files spell a field by its name.</summary>
    private sealed class FieldKindJson : JsonConverter<FieldKind>
    {
        public override FieldKind Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.String && Find(reader.GetString()!) is { } field ? field
                : throw new JsonException($"unknown field: use {Names()}");

        public override void Write(Utf8JsonWriter writer, FieldKind value, JsonSerializerOptions options) => writer.WriteStringValue(value.Name);
    }
}

/// <summary>What a field's scales are, with the defaults of a points run (standardised units) and of an image run
/// (relative to each feature space's mean distance √D), and the typical scales (relative to √d) benches use.</summary>
public sealed record FieldScale(string Name, string Symbol, double[] PointDefaults, double[] ImageDefaults, double[] Typical)
{
    public static readonly FieldScale Bandwidth = new("bandwidth", "h", [0.4, 0.8, 1.6, 3.2], [0.1, 0.2, 0.4], [1, 0.5, 2]);
    /// <summary>The image defaults are the original paper's values.</summary>
    public static readonly FieldScale Temperature = new("temperature", "tau", [0.05, 0.2, 0.5], [0.02, 0.05, 0.2], [0.2, 0.05, 0.5]);

    public string Option => "--" + Name;
}

/// <summary>The knobs a field may read besides its scales and their normalisation.</summary>
public enum FieldKnob
{
    /// <summary><see cref="Loss.SelfTerm"/>.</summary>
    SelfTerm,
    /// <summary><see cref="LaplaceField.Gaussian"/>.</summary>
    GaussianKernel,
    /// <summary><see cref="LaplaceField.RowsOnly"/>.</summary>
    RowsOnly,
    /// <summary><see cref="LaplaceField.CrossWeights"/>.</summary>
    CrossWeights,
    /// <summary><see cref="SinkhornField.Iterations"/>.</summary>
    SinkhornIterations,
}

/// <summary>How a field can walk its kernel matrices (<see cref="FieldChunking"/>).</summary>
public enum FieldPaths
{
    /// <summary>Whole matrices only: each iteration needs whole rows and whole columns.</summary>
    Dense,
    /// <summary>Chunks of rows, each row needing its whole row of logits.</summary>
    RowChunks,
    /// <summary>Chunks of rows and, with an online softmax, of columns.</summary>
    RowAndColumnChunks,
}

/// <summary>Everything a field is built from; each field reads its own (<see cref="FieldKind.Knobs"/>).</summary>
/// <param name="Scales">Bandwidths or temperatures (<see cref="FieldKind.Scale"/>).</param>
public sealed record FieldParameters(IReadOnlyList<double> Scales)
{
    public SelfTerm SelfTerm { get; init; } = SelfTerm.Exclude;
    public bool NormalizeScales { get; init; } = true;
    /// <summary>Null: the field's own choice for the device and size.</summary>
    public FieldChunking? Chunking { get; init; }
    public bool GaussianKernel { get; init; }
    public bool RowsOnly { get; init; }
    public bool CrossWeights { get; init; } = true;
    /// <summary>The cap on each Sinkhorn plan's iterations; null: <see cref="SinkhornField.DefaultIterations"/> for a plan that
    /// starts cold, <see cref="SinkhornField.DefaultWarmIterations"/> for one that starts warm.</summary>
    public int? SinkhornIterations { get; init; }
    /// <summary>Count iterations where a field iterates (<see cref="IDriftField.DiagnosticNames"/>); a run's field does.</summary>
    public bool CountIterations { get; init; }
}
