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
}

/// <summary>What a run does with its <see cref="IFieldSettings"/>: check them, and build the field once.</summary>
public static class FieldSettings
{
    /// <summary>The scales of the chosen field: bandwidths or temperatures.</summary>
    public static IReadOnlyList<double> Scales(this IFieldSettings c) => c.Field == FieldKind.Laplace ? c.Temperatures : c.Bandwidths;

    public static IDriftField BuildField(this IFieldSettings c) => DriftFields.Create(c.Field, c.Scales(), c.SelfTerm, c.NormalizeScales);

    /// <summary>Throws a <see cref="UserError"/> naming the first bad value.</summary>
    public static void ValidateField(this IFieldSettings c)
    {
        if (!Enum.IsDefined(c.Field)) Fail($"unknown field {(int)c.Field}: use conservative, laplace or sinkhorn");
        if (!Enum.IsDefined(c.SelfTerm)) Fail($"unknown self term {(int)c.SelfTerm}: use exclude or include");
        var option = c.Field == FieldKind.Laplace ? "--temperature" : "--bandwidth";
        if (c.Scales().Count == 0) Fail($"{option} needs at least one value");
        if (c.Scales().Count > 32) Fail($"{option} takes at most 32 values, got {c.Scales().Count}");
        foreach (var s in c.Scales())
            Positive(option, s, 1e6);
    }
}
