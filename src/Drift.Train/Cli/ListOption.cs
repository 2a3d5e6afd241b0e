using System.CommandLine;

namespace Drift.Train.Cli;

/// <summary>Options that take a list, separated by commas, spaces or both ("--fields conservative,laplace", "--fields
/// conservative laplace"): some of Drift's lists take spaces (--bandwidth 0.1 0.2) and others were written with commas,
/// and either habit should work for each.</summary>
public static class ListOption
{
    /// <param name="defaultValue">The value when the option is not given; null: none (GetValue gives an empty list then).</param>
    public static Option<string[]> Create(string name, string description, string? defaultValue = null)
    {
        var option = new Option<string[]>(name) { Description = description, AllowMultipleArgumentsPerToken = true };
        if (defaultValue is not null) option.DefaultValueFactory = _ => [defaultValue];
        return option;
    }

    /// <summary>The items of the option's values, split at commas.</summary>
    public static string[] Items(IEnumerable<string> values) =>
        values.SelectMany(v => v.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).ToArray();
}
