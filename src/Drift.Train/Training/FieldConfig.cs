using Drift.Loss;
using System.Text.Json.Serialization;
using static Drift.Train.RunFolders.ConfigJson;

namespace Drift.Train.Training;

/// <summary>
/// The field part of a run config, the same for points and image runs: which field (a row of <see cref="FieldKind"/>)
/// and the knobs of every field, each read only by the fields that take it. A base record, so that config.json keeps
/// its flat keys in their old place: after the keys a run config writes first (order −2), before the rest (0).
/// </summary>
public abstract record FieldConfig : IJsonOnDeserialized
{
    private bool? rowsOnly;

    /// <param name="images">Image runs take <see cref="FieldScale.ImageDefaults"/>, points runs <see cref="FieldScale.PointDefaults"/>.</param>
    protected FieldConfig(bool images)
    {
        Bandwidths = images ? FieldScale.Bandwidth.ImageDefaults : FieldScale.Bandwidth.PointDefaults;
        Temperatures = images ? FieldScale.Temperature.ImageDefaults : FieldScale.Temperature.PointDefaults;
    }

    [JsonPropertyOrder(-1)] public FieldKind Field { get; init; } = FieldKind.Conservative;
    /// <summary>Scales of the bandwidth fields at the start of the run.</summary>
    [JsonPropertyOrder(-1)] public double[] Bandwidths { get; init; }
    /// <summary>Scales of the temperature fields.</summary>
    [JsonPropertyOrder(-1)] public double[] Temperatures { get; init; }
    [JsonPropertyOrder(-1)] public SelfTerm SelfTerm { get; init; } = SelfTerm.Exclude;
    /// <summary>Scale each bandwidth's or temperature's field to unit RMS before summing, so that every
    /// scale has a say (unscaled, the conservative field's 1/h² lets the smallest bandwidth drown the rest).</summary>
    [JsonPropertyOrder(-1)] public bool NormalizeScales { get; init; } = true;
    /// <summary>Laplace field: the Gaussian kernel exp(−‖x − y‖²/2τ²) instead of exp(−‖x − y‖/τ). Left out of
    /// config.json when off, like <see cref="RowsOnly"/>, so that configs from before it read and write back unchanged.</summary>
    [JsonPropertyOrder(-1), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool GaussianKernel { get; init; }
    /// <summary>Laplace field: each side's kernel normalised over its own row, no column normalisation or cross
    /// weights. With <see cref="GaussianKernel"/>, τ² times the conservative field (exactly it with normalised scales).
    /// Null: the run's default (<see cref="DefaultRowsOnly"/>), written out when the run starts.</summary>
    [JsonIgnore]
    public bool? RowsOnly { get => rowsOnly; init => rowsOnly = value; }

    /// <summary><see cref="RowsOnly"/> as config.json holds it: only when on, so that configs from before it read and
    /// write back unchanged. A file without it reads as off (<see cref="IJsonOnDeserialized.OnDeserialized"/>): every
    /// file was written so before the image runs' default came, and a saved run must stay the run it was.</summary>
    [JsonInclude, JsonPropertyName("rowsOnly"), JsonPropertyOrder(-1), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    private bool RowsOnlyInFile { get => rowsOnly == true; init => rowsOnly = value; }

    void IJsonOnDeserialized.OnDeserialized() => rowsOnly ??= false;

    /// <summary>Laplace field over both axes: the paper's cross weights (W+ = A+·ΣA−, W− = A−·ΣA+). Off, each side's entries
    /// are divided by their own row sum, so that only the column normalisation tells the field from the one over rows
    /// only (docs/quality.md, "Without the cross weights").</summary>
    [JsonIgnore]
    public bool CrossWeights { get; init; } = true;

    /// <summary><see cref="CrossWeights"/> as config.json holds it: only when off, so that configs from before it read and
    /// write back unchanged, and a file without it reads as on, as every one was.</summary>
    [JsonInclude, JsonPropertyName("crossWeights"), JsonPropertyOrder(-1), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    private bool? CrossWeightsInFile { get => CrossWeights ? null : false; init => CrossWeights = value ?? true; }

    /// <summary>The field's <see cref="RowsOnly"/> default for this kind of run.</summary>
    protected abstract bool DefaultRowsOnly { get; }

    /// <summary><see cref="RowsOnly"/>, or the run's default where it is not set.</summary>
    [JsonIgnore]
    public bool RowsOnlyInForce => RowsOnly ?? DefaultRowsOnly;

    /// <summary>The field with the variants in force, as logs and reports name it: "laplace field over rows only". A
    /// default that is not the paper's field is said where the run starts.</summary>
    [JsonIgnore]
    public string FieldDescription => $"{Field.Name} field" + (GaussianKernel ? " with the Gaussian kernel" : "")
        + (RowsOnlyInForce ? " over rows only" : "") + (CrossWeights ? "" : " without cross weights");
    /// <summary>Sinkhorn field: the cap on each plan's iterations, the field's cost against its accuracy at small
    /// bandwidths (docs/bench.md). Null (left out of config.json): <see cref="SinkhornField.DefaultIterations"/> for a plan
    /// that starts cold, <see cref="SinkhornField.DefaultWarmIterations"/> for one that starts from the plan a scale wider.</summary>
    [JsonPropertyOrder(-1)]
    public int? SinkhornIterations { get; init; }

    /// <summary>The scales of the chosen field: its bandwidths or temperatures.</summary>
    [JsonIgnore]
    public IReadOnlyList<double> FieldScales => Field.Scale == FieldScale.Temperature ? Temperatures : Bandwidths;

    /// <summary>The run's field, built once; annealing and feature spaces rescale it. It counts what it iterates
    /// (<see cref="IDriftField.DiagnosticNames"/>).</summary>
    public IDriftField BuildField() => Field.Create(new FieldParameters(FieldScales)
    {
        SelfTerm = SelfTerm, NormalizeScales = NormalizeScales, GaussianKernel = GaussianKernel, RowsOnly = RowsOnlyInForce,
        CrossWeights = CrossWeights,
        SinkhornIterations = SinkhornIterations, CountIterations = true,
    });

    /// <summary>This config for one field of several (a comparison's --fields, drift field's): a knob only some of them take
    /// (--gaussian-kernel, the laplace field's) set for those and at its default for the rest, where validation refused the
    /// whole list. A knob none of <paramref name="fields"/> takes stays set, so that validation refuses it as for one run.</summary>
    public FieldConfig ForField(FieldKind field, IReadOnlyCollection<FieldKind> fields)
    {
        bool Keep(FieldKnob knob) => field.Takes(knob) || !fields.Any(f => f.Takes(knob));
        return this with
        {
            Field = field,
            GaussianKernel = GaussianKernel && Keep(FieldKnob.GaussianKernel),
            RowsOnly = Keep(FieldKnob.RowsOnly) ? RowsOnly : null,
            CrossWeights = CrossWeights || !Keep(FieldKnob.CrossWeights),
            SinkhornIterations = Keep(FieldKnob.SinkhornIterations) ? SinkhornIterations : null,
        };
    }

    /// <summary>Throws a <see cref="UserError"/> naming the first bad value.</summary>
    protected void ValidateField()
    {
        if (!Enum.IsDefined(SelfTerm)) Fail($"unknown self term {(int)SelfTerm}: use exclude or include");
        foreach (var (knob, name, set, unset) in new[]
                 {
                     (FieldKnob.GaussianKernel, "--gaussian-kernel", GaussianKernel, "--gaussian-kernel false"),
                     (FieldKnob.RowsOnly, "--rows-only", RowsOnly == true, "--rows-only false"),
                     (FieldKnob.CrossWeights, "--cross-weights false", !CrossWeights, "--cross-weights true"),
                 })
            if (set && !Field.Takes(knob))
                // No option named for the field (train has --field, compare --fields); "or give …": the value may come
                // from a --config file written by a run of the other field.
                Fail($"{name} is a variant of the {FieldKind.Names(f => f.Takes(knob))} field, not of {Field.Name}: use it with the {FieldKind.All.First(f => f.Takes(knob)).Name} field, or give {unset}");
        if (!CrossWeights && Field.Takes(FieldKnob.CrossWeights) && RowsOnlyInForce)
            Fail("--cross-weights false is a variant of the laplace field over both axes; over rows only it has no cross weights: give --rows-only false with it");
        if (SinkhornIterations is { } cap)
        {
            if (!Field.Takes(FieldKnob.SinkhornIterations))
                Fail($"--sinkhorn-iterations caps the sinkhorn field's plans, not the {Field.Name} field's: use --field sinkhorn");
            Within("--sinkhorn-iterations", cap, 0, 100_000);
        }
        var option = Field.Scale.Option;
        if (FieldScales.Count == 0) Fail($"{option} needs at least one value");
        if (FieldScales.Count > 32) Fail($"{option} takes at most 32 values, got {FieldScales.Count}");
        foreach (var s in FieldScales)
            Positive(option, s, 1e6);
    }
}
