using System.CommandLine;

namespace Drift.Train.Cli;

/// <summary>Adds options to a command, each mapped onto a field of a config record; only options the user
/// actually gave override the starting config (a file's, or the defaults).</summary>
public sealed class ConfigBinder<TConfig>(Command command)
{
    private readonly List<Func<ParseResult, TConfig, TConfig>> bindings = [];
    private readonly List<(Option Option, Func<TConfig, bool> Reads, string When)> conditional = [];

    public void Bind<T>(Option<T> option, Func<TConfig, T, TConfig> set)
    {
        command.Options.Add(option);
        bindings.Add((parse, c) => parse.GetResult(option) is { Implicit: false } ? set(c, parse.GetValue(option)!) : c);
    }

    /// <summary>An option that only some configs read (--unconditional-negatives, without guidance, is not).</summary>
    /// <param name="when">When a config reads it, as the refusal says: "with guidance (--guidance-max above 1)".</param>
    public void Bind<T>(Option<T> option, Func<TConfig, T, TConfig> set, Func<TConfig, bool> reads, string when)
    {
        Bind(option, set);
        conditional.Add((option, reads, when));
    }

    public TConfig Apply(ParseResult parse, TConfig start) => bindings.Aggregate(start, (c, bind) => bind(parse, c));

    /// <summary>Refuses an option given on the command line that none of the <paramref name="configs"/> a command will run
    /// reads (a run's; a comparison's or drift field's, one a field of --fields), rather than drop it without a word.</summary>
    public void CheckRead(ParseResult parse, IReadOnlyCollection<TConfig> configs)
    {
        foreach (var (option, reads, when) in conditional)
            if (parse.GetResult(option) is { Implicit: false } && !configs.Any(reads))
                throw new UserError($"{option.Name} is read only {when}{(configs.Count > 1 ? "; none of --fields reads it" : "")}");
    }

    /// <summary>A run's config, once <see cref="CheckRead"/> finds every option given read by it.</summary>
    public TConfig Read(ParseResult parse, TConfig config)
    {
        CheckRead(parse, [config]);
        return config;
    }
}
