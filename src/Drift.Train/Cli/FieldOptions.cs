using System.CommandLine;
using Drift.Loss;
using Drift.Train.Training;

namespace Drift.Train.Cli;

/// <summary>The options of a run's field, bound once for every command that trains one (train, train-images, compare,
/// compare-images); their help and choices come from the field table, their defaults from the config.</summary>
public static class FieldOptions
{
    public static IReadOnlyDictionary<string, FieldKind> Choices { get; } =
        FieldKind.All.ToDictionary(f => f.Name, StringComparer.OrdinalIgnoreCase);

    /// <summary>--field, for runs and for the particle lab.</summary>
    public static Option<FieldKind> Field() => ChoiceOption.Create("--field", "field",
        string.Join(", ", FieldKind.All.Select(f => $"{f.Name} ({f.Summary}; scales: --{f.Scale.Name})")) + $". Default {FieldKind.Conservative.Name}.", Choices);

    /// <param name="units">What the scales are measured in, for their help.</param>
    /// <param name="oneField">Whether the command takes --field: a comparison takes --fields instead, which would
    /// override a --field without a word.</param>
    public static void Bind<T>(ConfigBinder<T> b, string units, bool oneField) where T : FieldConfig, new()
    {
        var defaults = new T();
        static T With(T c, Func<FieldConfig, FieldConfig> set) => (T)set(c);
        if (oneField) b.Bind(Field(), (c, v) => With(c, f => f with { Field = v }));
        b.Bind(ScaleOption(FieldScale.Bandwidth, units, defaults.Bandwidths), (c, v) => With(c, f => f with { Bandwidths = v }),
            c => c.Field.Scale == FieldScale.Bandwidth, $"by the {Fields(f => f.Scale == FieldScale.Bandwidth, false)}");
        b.Bind(ScaleOption(FieldScale.Temperature, units, defaults.Temperatures), (c, v) => With(c, f => f with { Temperatures = v }),
            c => c.Field.Scale == FieldScale.Temperature, $"by the {Fields(f => f.Scale == FieldScale.Temperature, false)}");
        b.Bind(ChoiceOption.Create<SelfTerm>("--self-term", "self term", $"{Fields(f => f.Takes(FieldKnob.SelfTerm))}: exclude (default, keeps repulsion) "
            + "or include (the theory's form) a sample's own kernel in the model KDE."), (c, v) => With(c, f => f with { SelfTerm = v }),
            c => c.Field.Takes(FieldKnob.SelfTerm), $"by the {Fields(f => f.Takes(FieldKnob.SelfTerm), false)}");
        b.Bind(new Option<bool>("--normalize-scales") { Description = "Scale each bandwidth's/temperature's field to unit RMS before summing. Default true." },
            (c, v) => With(c, f => f with { NormalizeScales = v }));
        b.Bind(new Option<bool>("--gaussian-kernel") { Description = $"{Fields(f => f.Takes(FieldKnob.GaussianKernel))}: Gaussian kernel exp(-|x-y|^2/2tau^2) instead of exp(-|x-y|/tau). Default false." },
            (c, v) => With(c, f => f with { GaussianKernel = v }));
        var rowsOnly = (defaults with { Field = FieldKind.All.First(f => f.Takes(FieldKnob.RowsOnly)) }).RowsOnlyInForce;
        b.Bind(new Option<bool>("--rows-only") { Description = $"{Fields(f => f.Takes(FieldKnob.RowsOnly))}: normalise each side's kernel over its own row (no column normalisation, no cross weights); with --gaussian-kernel this is the conservative field. "
            + (rowsOnly ? "Default true (--rows-only false: the paper's normalisation over both axes); a config.json without the key reads as false, as every one did before this default." : "Default false.") },
            (c, v) => With(c, f => f with { RowsOnly = v }));
        b.Bind(new Option<bool>("--cross-weights") { Description = $"{Fields(f => f.Takes(FieldKnob.CrossWeights))} over both axes: weight each side's pull by the other side's kernel mass, as the paper does. "
            + "Default true; false divides each side's entries by their own row sum, so that every sample gets the same attraction and repulsion (give --rows-only false with it)." },
            (c, v) => With(c, f => f with { CrossWeights = v }));
        b.Bind(new Option<int>("--sinkhorn-iterations") { Description = $"{Fields(f => f.Takes(FieldKnob.SinkhornIterations))}: at most this many iterations per plan "
            + "(fewer: faster, further from the plan at small bandwidths; 0: each row's softmax). Default: "
            + $"{SinkhornField.DefaultIterations} for a plan that starts cold (a single scale, the widest of several), "
            + $"{SinkhornField.DefaultWarmIterations} for one that starts from the plan a scale wider." },
            (c, v) => With(c, f => f with { SinkhornIterations = v }));
    }

    private static Option<double[]> ScaleOption(FieldScale scale, string units, double[] defaults) => new(scale.Option)
    {
        Description = $"{char.ToUpperInvariant(scale.Name[0])}{scale.Name[1..]}s {scale.Symbol} of the {FieldKind.Names(f => f.Scale == scale, "and")} "
            + $"field{(FieldKind.All.Count(f => f.Scale == scale) > 1 ? "s" : "")}, {units}. Default {string.Join(" ", defaults)}.",
        AllowMultipleArgumentsPerToken = true,
    };

    /// <summary>"Laplace field", "Conservative and mmd fields": the fields that read a knob, to start its help (or, not
    /// <paramref name="capital"/>, to end a sentence).</summary>
    private static string Fields(Func<FieldKind, bool> reads, bool capital = true)
    {
        var names = FieldKind.Names(reads, "and");
        return (capital ? char.ToUpperInvariant(names[0]) + names[1..] : names) + (FieldKind.All.Count(reads) > 1 ? " fields" : " field");
    }
}
