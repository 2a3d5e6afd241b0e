using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Drift.Train.Cli;

/// <summary>Numbers on the command line are read as written, in the invariant culture and without thousands
/// separators: .NET's default reading takes "--bandwidth 1,2" for 12, where the user meant two values.</summary>
public static class StrictNumbers
{
    /// <summary>Gives every double option below <paramref name="command"/> the strict reading.</summary>
    public static void Apply(Command command)
    {
        foreach (var option in command.Options)
        {
            if (option is Option<double> single) single.CustomParser = r => Parse(r).FirstOrDefault();
            if (option is Option<double[]> many) many.CustomParser = r => Parse(r).ToArray();
        }
        foreach (var sub in command.Subcommands) Apply(sub);
    }

    private static IEnumerable<double> Parse(ArgumentResult result)
    {
        var values = new List<double>();
        foreach (var token in result.Tokens)
        {
            if (double.TryParse(token.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
                values.Add(v);
            else
            {
                result.AddError(token.Value.Contains(',')
                    ? $"'{token.Value}' is not a number: separate several values with spaces, not commas"
                    : $"'{token.Value}' is not a number");
                break;
            }
        }
        return values;
    }
}
