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
    public static void Bind<T>(ConfigBinder<T> b, string units) where T : FieldConfig, new()
    {
        var defaults = new T();
        static T With(T c, Func<FieldConfig, FieldConfig> set) => (T)set(c);
        b.Bind(Field(), (c, v) => With(c, f => f with { Field = v }));
        b.Bind(ScaleOption(FieldScale.Bandwidth, units, defaults.Bandwidths), (c, v) => With(c, f => f with { Bandwidths = v }));
        b.Bind(ScaleOption(FieldScale.Temperature, units, defaults.Temperatures), (c, v) => With(c, f => f with { Temperatures = v }));
        b.Bind(ChoiceOption.Create<SelfTerm>("--self-term", "self term", $"{Fields(FieldKnob.SelfTerm)}: exclude (default, keeps repulsion) "
            + "or include (the theory's form) a sample's own kernel in the model KDE."), (c, v) => With(c, f => f with { SelfTerm = v }));
        b.Bind(new Option<bool>("--normalize-scales") { Description = "Scale each bandwidth's/temperature's field to unit RMS before summing. Default true." },
            (c, v) => With(c, f => f with { NormalizeScales = v }));
        b.Bind(new Option<bool>("--gaussian-kernel") { Description = $"{Fields(FieldKnob.GaussianKernel)}: Gaussian kernel exp(-|x-y|^2/2tau^2) instead of exp(-|x-y|/tau). Default false." },
            (c, v) => With(c, f => f with { GaussianKernel = v }));
        var rowsOnly = (defaults with { Field = FieldKind.All.First(f => f.Takes(FieldKnob.RowsOnly)) }).RowsOnlyInForce;
        b.Bind(new Option<bool>("--rows-only") { Description = $"{Fields(FieldKnob.RowsOnly)}: normalise each side's kernel over its own row (no column normalisation, no cross weights); with --gaussian-kernel this is the conservative field. "
            + (rowsOnly ? "Default true (--rows-only false: the paper's normalisation over both axes); a config.json without the key reads as false, as every one did before this default." : "Default false.") },
            (c, v) => With(c, f => f with { RowsOnly = v }));
        b.Bind(new Option<bool>("--cross-weights") { Description = $"{Fields(FieldKnob.CrossWeights)} over both axes: weight each side's pull by the other side's kernel mass, as the paper does. "
            + "Default true; false divides each side's entries by their own row sum, so that every sample gets the same attraction and repulsion (give --rows-only false with it)." },
            (c, v) => With(c, f => f with { CrossWeights = v }));
        b.Bind(new Option<int>("--sinkhorn-iterations") { Description = $"{Fields(FieldKnob.SinkhornIterations)}: at most this many iterations per plan "
            + "(fewer: faster, further from the plan at small bandwidths; 0: each row's softmax). Default: "
            + $"{SinkhornField.DefaultIterations} for a plan that starts cold (a single scale, the widest of several), "
            + $"{SinkhornField.DefaultWarmIterations} for one that starts from the plan a scale wider." },
            (c, v) => With(c, f => f with { SinkhornIterations = v }));
    }

    /// <summary>Refuses a field option given on the command line that none of the run's fields reads ("--temperature" for a
    /// conservative run), which would otherwise be dropped without a word. The variants (--gaussian-kernel and the like) are
    /// the config's to check (<see cref="FieldConfig"/>): a config.json holds them only when set, where it holds every scale.</summary>
    /// <param name="fields">The run's field, or a comparison's.</param>
    public static void CheckRead(ParseResult parse, IReadOnlyCollection<FieldKind> fields)
    {
        var given = parse.CommandResult.Command.Options.Where(o => parse.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToHashSet();
        var runs = fields.Count == 1 ? $"this run's field is {fields.First().Name}" : $"none of --fields {string.Join(", ", fields.Select(f => f.Name))} reads it";
        foreach (var scale in new[] { FieldScale.Bandwidth, FieldScale.Temperature })
            if (given.Contains(scale.Option) && !fields.Any(f => f.Scale == scale))
                throw new UserError($"{scale.Option} sets the scales of the {FieldKind.Names(f => f.Scale == scale, "and")} "
                    + $"field{(FieldKind.All.Count(f => f.Scale == scale) > 1 ? "s" : "")}; {runs}"
                    + (fields.Count == 1 ? $", whose scales are {fields.First().Scale.Option}" : ""));
        if (given.Contains("--self-term") && !fields.Any(f => f.Takes(FieldKnob.SelfTerm)))
            throw new UserError($"--self-term is read by the {FieldKind.Names(f => f.Takes(FieldKnob.SelfTerm), "and")} fields only; {runs}");
    }

    /// <summary>A run's config, once <see cref="CheckRead"/> finds every field option given on the command line read by its field.</summary>
    public static T Read<T>(ParseResult parse, T config) where T : FieldConfig
    {
        CheckRead(parse, [config.Field]);
        return config;
    }

    private static Option<double[]> ScaleOption(FieldScale scale, string units, double[] defaults) => new(scale.Option)
    {
        Description = $"{char.ToUpperInvariant(scale.Name[0])}{scale.Name[1..]}s {scale.Symbol} of the {FieldKind.Names(f => f.Scale == scale, "and")} "
            + $"field{(FieldKind.All.Count(f => f.Scale == scale) > 1 ? "s" : "")}, {units}. Default {string.Join(" ", defaults)}.",
        AllowMultipleArgumentsPerToken = true,
    };

    /// <summary>"Laplace field", "Conservative and mmd fields": the fields that read a knob, to start its help.</summary>
    private static string Fields(FieldKnob knob)
    {
        var names = FieldKind.Names(f => f.Takes(knob), "and");
        return char.ToUpperInvariant(names[0]) + names[1..] + (FieldKind.All.Count(f => f.Takes(knob)) > 1 ? " fields" : " field");
    }
}
