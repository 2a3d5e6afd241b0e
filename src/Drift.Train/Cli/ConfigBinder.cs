using System.CommandLine;

namespace Drift.Train.Cli;

/// <summary>Adds options to a command, each mapped onto a field of a config record; only options the user
/// actually gave override the starting config (a file's, or the defaults).</summary>
public sealed class ConfigBinder<TConfig>(Command command)
{
    private readonly List<Func<ParseResult, TConfig, TConfig>> bindings = [];

    public void Bind<T>(Option<T> option, Func<TConfig, T, TConfig> set)
    {
        command.Options.Add(option);
        bindings.Add((parse, c) => parse.GetResult(option) is { Implicit: false } ? set(c, parse.GetValue(option)!) : c);
    }

    public TConfig Apply(ParseResult parse, TConfig start) => bindings.Aggregate(start, (c, bind) => bind(parse, c));
}
