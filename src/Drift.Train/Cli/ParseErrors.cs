using System.CommandLine;
using System.CommandLine.Parsing;

namespace Drift.Train.Cli;

/// <summary>The one line a command line that does not parse gets, ending with where its help is.</summary>
public static class ParseErrors
{
    /// <summary>The first error, or null when there is none. An option left without its value comes first: System.CommandLine
    /// then takes the next option's name for that value ("--temperature --steps 2" gives --temperature the value "--steps";
    /// "--classifier --n 10" reads a classifier from a folder "--n"), and either blames the wrong thing ("'--steps' is not a
    /// number") or finds no error at all, so that case is named for what it is.</summary>
    public static string? Find(ParseResult parse)
    {
        var command = parse.CommandResult.Command;
        if (command is RootCommand root)
            return parse.Errors.Count == 0 ? null : NoCommand(root, parse.UnmatchedTokens.FirstOrDefault()) + " (see drift --help)";
        var help = $" (see drift {command.Name} --help)";
        var names = command.Options.SelectMany(o => o.Aliases.Prepend(o.Name)).ToHashSet();
        Token? option = null;
        foreach (var token in parse.Tokens)
        {
            if (token.Type == TokenType.Option) option = token;
            else if (token.Type == TokenType.Argument && option is not null && names.Contains(token.Value))
                return $"{option.Value} needs a value before {token.Value}{help}";
        }
        if (parse.Errors.Count == 0) return null;
        if (parse.UnmatchedTokens.FirstOrDefault(t => t.StartsWith("--", StringComparison.Ordinal)) is { } unknown)
        {
            // A near miss ("--feature" for "--features", "--stesp") is most likely a typo of the closest option.
            var near = command.Options.Select(o => o.Name).Select(n => (Name: n, Distance: EditDistance(unknown, n)))
                .Where(c => c.Distance <= 2).OrderBy(c => c.Distance).Select(c => c.Name).FirstOrDefault();
            return $"drift {command.Name} has no option {unknown}{(near is null ? "" : $"; did you mean {near}?")}{help}";
        }
        if (parse.UnmatchedTokens.FirstOrDefault() is { } stray)
        {
            // A value left over is named by the option it follows: a switch's that is not true or false ("--standardize
            // maybe"), or one more than its option takes ("--seeds 2 3").
            var at = parse.Tokens.ToList().FindIndex(t => t.Type == TokenType.Argument && t.Value == stray);
            var owner = parse.Tokens.Take(at).LastOrDefault(t => t.Type == TokenType.Option);
            var taker = owner is null ? null : command.Options.FirstOrDefault(o => o.Name == owner.Value || o.Aliases.Contains(owner.Value));
            if (taker is not null && taker.ValueType == typeof(bool) && at > 0 && parse.Tokens[at - 1] == owner)
                return $"{owner!.Value} takes true or false (or nothing, for true), got '{stray}'{help}";
            if (taker is not null && taker.Arity.MaximumNumberOfValues == 1)
                return $"{owner!.Value} takes one value, and '{stray}' is one more{help}";
            return $"drift {command.Name} takes options only, and '{stray}' follows none that takes it{help}";
        }
        return Plain(parse.Errors[0].Message) + help;
    }

    /// <summary>System.CommandLine's complaint about a value, without .NET's type names ("as expected type 'System.Int32'"),
    /// and a missing option's as the rest of Drift's messages put it.</summary>
    private static string Plain(string message)
    {
        var missing = System.Text.RegularExpressions.Regex.Match(message, "^Option '(.*)' is required\\.$");
        if (missing.Success) return $"{missing.Groups[1].Value} is required";
        var empty = System.Text.RegularExpressions.Regex.Match(message, "^Required argument missing for option: '(.*)'\\.$");
        if (empty.Success) return $"{empty.Groups[1].Value} needs a value";
        var twice = System.Text.RegularExpressions.Regex.Match(message, "^Option '(.*)' expects a single argument but ([0-9]+) were provided\\.$");
        if (twice.Success) return $"{twice.Groups[1].Value} is given {(twice.Groups[2].Value == "2" ? "twice" : twice.Groups[2].Value + " times")}; give it once";
        // An optional option's type reads "System.Nullable`1[System.Int32]".
        var bad = System.Text.RegularExpressions.Regex.Match(message, "^Cannot parse argument '(.*)' for option '(.*)' as expected type '(?:System\\.Nullable`1\\[)?System\\.(\\w+)");
        if (!bad.Success) return message;
        var (value, option) = (bad.Groups[1].Value, bad.Groups[2].Value);
        var kind = bad.Groups[3].Value switch
        {
            // A whole number past the type's range ("--n 3000000000") is one, so the bound is what to name.
            "Int32" when System.Text.RegularExpressions.Regex.IsMatch(value, "^[+-]?[0-9]+$") =>
                value.StartsWith('-') ? $"a whole number of at least {int.MinValue}" : $"a whole number of at most {int.MaxValue}",
            "Int32" or "Int64" => "a whole number",
            "Boolean" => "true or false",
            _ => "a number",
        };
        return $"{option} takes {kind}, got '{value}'";
    }

    /// <summary>Without a command System.CommandLine's first error is "Required command was not provided", even for a
    /// misspelt one ("drift trian"), whose own error comes second.</summary>
    private static string NoCommand(RootCommand root, string? unmatched)
    {
        var commands = string.Join(", ", root.Subcommands.Select(c => c.Name));
        return unmatched switch
        {
            null => $"no command given; the commands are {commands}",
            _ when unmatched.StartsWith('-') => $"no command given before {unmatched}; the commands are {commands}",
            _ => $"unknown command '{unmatched}'; the commands are {commands}",
        };
    }

    /// <summary>Levenshtein distance: the fewest single-character insertions, deletions and substitutions from a to b.</summary>
    private static int EditDistance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var diagonal = row[0];
            row[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var next = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                (diagonal, row[j]) = (row[j], next);
            }
        }
        return row[b.Length];
    }
}
