using System.CommandLine;
using System.CommandLine.Parsing;

namespace Drift.Train.Cli;

/// <summary>The one line a command line that does not parse gets.</summary>
public static class ParseErrors
{
    /// <summary>The first error, or null when there is none. An option left without its value comes first: System.CommandLine
    /// then takes the next option's name for that value ("--temperature --steps 2" gives --temperature the value "--steps";
    /// "--classifier --n 10" reads a classifier from a folder "--n"), and either blames the wrong thing ("'--steps' is not a
    /// number") or finds no error at all, so that case is named for what it is.</summary>
    public static string? Find(ParseResult parse)
    {
        // Without a command System.CommandLine's first error is "Required command was not provided", even for a misspelt
        // one ("drift trian"), whose own error comes second.
        if (parse.CommandResult.Command is RootCommand root && parse.Errors.Count > 0)
        {
            var commands = string.Join(", ", root.Subcommands.Select(c => c.Name));
            return parse.UnmatchedTokens.FirstOrDefault() switch
            {
                null => $"no command given; the commands are {commands}",
                var flag when flag.StartsWith('-') => $"no command given before {flag}; the commands are {commands}",
                var unknown => $"unknown command '{unknown}'; the commands are {commands}",
            };
        }
        var names = parse.CommandResult.Command.Options.SelectMany(o => o.Aliases.Prepend(o.Name)).ToHashSet();
        Token? option = null;
        foreach (var token in parse.Tokens)
        {
            if (token.Type == TokenType.Option) option = token;
            else if (token.Type == TokenType.Argument && option is not null && names.Contains(token.Value))
                return $"{option.Value} needs a value before {token.Value}";
        }
        return parse.Errors.Count > 0 ? parse.Errors[0].Message : null;
    }
}
