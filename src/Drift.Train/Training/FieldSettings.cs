using Drift.Loss;
using static Drift.Train.Training.ConfigJson;

namespace Drift.Train.Training;

/// <summary>The field part of a run config, the same for points and image runs.</summary>
public interface IFieldSettings
{
    FieldKind Field { get; }
    double[] Bandwidths { get; }
    double[] Temperatures { get; }
    SelfTerm SelfTerm { get; }
    bool NormalizeScales { get; }
    /// <summary>Laplace field: the Gaussian kernel exp(−‖x − y‖²/2τ²) instead of exp(−‖x − y‖/τ).</summary>
    bool GaussianKernel { get; }
    /// <summary>Laplace field: each side's kernel normalised over its own row, no column normalisation or cross
    /// weights. With <see cref="GaussianKernel"/>, τ² times the conservative field (exactly it with normalised scales).</summary>
    bool RowsOnly { get; }
}

/// <summary>What a run does with its <see cref="IFieldSettings"/>: check them, and build the field once.</summary>
public static class FieldSettings
{
    /// <summary>The scales of the chosen field: bandwidths or temperatures.</summary>
    public static IReadOnlyList<double> Scales(this IFieldSettings c) => c.Field == FieldKind.Laplace ? c.Temperatures : c.Bandwidths;

    /// <param name="sinkhorn">Where the Sinkhorn field counts its iterations; other fields ignore it.</param>
    public static IDriftField BuildField(this IFieldSettings c, SinkhornState? sinkhorn = null) => DriftFields.Create(c.Field, c.Scales(), c.SelfTerm,
        c.NormalizeScales, gaussianKernel: c.GaussianKernel, rowsOnly: c.RowsOnly, sinkhornState: sinkhorn);

    /// <summary>The metrics.csv columns a field adds after the evaluated metrics: the Sinkhorn field's iteration counts.</summary>
    public static IReadOnlyList<string> DiagnosticNames(this IDriftField field, IEnumerable<string> scaleNames) =>
        field is SinkhornField { State: not null } ? SinkhornState.CountNames(scaleNames) : [];

    /// <summary>The values of <see cref="DiagnosticNames"/> since the last call, or null when the field has none.</summary>
    public static double[]? TakeDiagnostics(this IDriftField field) =>
        field is SinkhornField { State: { } state } ? state.TakeCounts(field.Scales.Count) : null;

    /// <summary>Throws a <see cref="UserError"/> naming the first bad value.</summary>
    public static void ValidateField(this IFieldSettings c)
    {
        if (!Enum.IsDefined(c.Field)) Fail($"unknown field {(int)c.Field}: use conservative, laplace or sinkhorn");
        if (!Enum.IsDefined(c.SelfTerm)) Fail($"unknown self term {(int)c.SelfTerm}: use exclude or include");
        var option = c.Field == FieldKind.Laplace ? "--temperature" : "--bandwidth";
        if ((c.GaussianKernel || c.RowsOnly) && c.Field != FieldKind.Laplace)
            Fail($"--gaussian-kernel and --rows-only are variants of the laplace field, not of {c.Field.Name()}: use --field laplace");
        if (c.Scales().Count == 0) Fail($"{option} needs at least one value");
        if (c.Scales().Count > 32) Fail($"{option} takes at most 32 values, got {c.Scales().Count}");
        foreach (var s in c.Scales())
            Positive(option, s, 1e6);
    }
}
