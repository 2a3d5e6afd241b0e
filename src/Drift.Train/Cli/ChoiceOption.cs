using System.CommandLine;

namespace Drift.Train.Cli;

/// <summary>Options whose values are named choices, spelled in lower case (--field laplace, --self-term
/// include); anything else is a one-line error that names the choices.</summary>
public static class ChoiceOption
{
    /// <param name="what">What the value is, for the error: "field", "self term".</param>
    public static Option<T> Create<T>(string name, string what, string description) where T : struct, Enum =>
        Create(name, what, description, Choices<T>());

    /// <param name="choices">Each value by its name, in the order help lists them.</param>
    public static Option<T> Create<T>(string name, string what, string description, IReadOnlyDictionary<string, T> choices)
    {
        return new Option<T>(name)
        {
            Description = description,
            HelpName = string.Join("|", choices.Keys),
            CustomParser = result =>
            {
                var token = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
                if (choices.TryGetValue(token, out var value)) return value;
                result.AddError(Unknown(what, token, choices.Keys));
                return default!;
            },
        };
    }

    /// <summary>One value of a list option (--format onnx,web); a <see cref="UserError"/> if it names no member.</summary>
    public static T Parse<T>(string token, string what) where T : struct, Enum => Parse(token, what, Choices<T>());

    /// <summary>One value of a list option (--fields conservative,laplace); a <see cref="UserError"/> if it names no choice.</summary>
    public static T Parse<T>(string token, string what, IReadOnlyDictionary<string, T> choices) =>
        choices.TryGetValue(token, out var value) ? value : throw new UserError(Unknown(what, token, choices.Keys));

    private static Dictionary<string, T> Choices<T>() where T : struct, Enum =>
        Enum.GetValues<T>().ToDictionary(v => v.ToString().ToLowerInvariant(), StringComparer.OrdinalIgnoreCase);

    private static string Unknown(string what, string token, IEnumerable<string> choices) =>
        $"unknown {what} '{token}': use {string.Join(" or ", choices)}";
}
