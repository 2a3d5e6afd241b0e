using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Drift.Data;

namespace Drift.Train.RunFolders;

/// <summary>How run configs are written and read (config.json, checkpoints): camelCase, indented, and
/// strict, so a misspelt key is an error rather than a silently ignored setting.</summary>
public static class ConfigJson
{
    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        // Paths and class names as typed ("runs/a+b", "Hémisphère"), not \uXXXX escapes.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        // A null where the config's type has none ("data": null) is as wrong as a misspelt key.
        RespectNullableAnnotations = true,
        // A key given twice (a hand edit that adds "lr" at the end, the old one left above) is ambiguous, not last-wins.
        AllowDuplicateProperties = false,
        // Enums (field, self term) by their lower-case names, as the command line spells them.
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false) },
    };

    public static string Write<T>(T config) => JsonSerializer.Serialize(config, Options);

    public static T Read<T>(string json, string origin)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(json, Options) ?? throw new UserError($"{origin}: empty configuration");
        }
        catch (JsonException e)
        {
            throw new UserError($"{origin}: not a valid run configuration: {Explain(e)}");
        }
    }

    /// <summary>The serializer's complaint in the config's own words: the key and line, without .NET type names.</summary>
    private static string Explain(JsonException e)
    {
        var key = e.Path is { Length: > 2 } p ? p[2..] : null;
        var line = e.LineNumber is { } l ? $" (line {l + 1})" : "";
        var quoted = System.Text.RegularExpressions.Regex.Match(e.Message, "'([^']*)'");
        if (e.Message.Contains("could not be mapped", StringComparison.Ordinal) && quoted.Success)
            return $"unknown key '{quoted.Groups[1].Value}'{line}";
        if (e.Message.StartsWith("Duplicate property", StringComparison.Ordinal) && key is not null)
            return $"'{key}' is given twice{line}; keep one";
        if (e.Message.Contains("null", StringComparison.Ordinal) && key is not null)
            return $"'{key}' is null{line}; give it a value or leave it out";
        if (key is not null)
            return $"'{key}' has a value of the wrong kind{line}";
        var text = e.Message;
        foreach (var cut in new[] { " Path:", " LineNumber:" })
            if (text.IndexOf(cut, StringComparison.Ordinal) is var at and > 0) text = text[..at];
        return text.TrimEnd('.') + line;
    }

    /// <summary>The config in <paramref name="path"/>: a config file, or a run's folder for the config.json in it.</summary>
    public static T Load<T>(string path)
    {
        var file = Directory.Exists(path) ? Path.Combine(path, RunFiles.Config) : path;
        var json = InputFile.ReadAllText(file, "config file", InputFile.MiB);
        var config = Read<T>(json, file);
        CheckDerived(config, json, file);
        return config;
    }

    /// <summary>Keys a config works out from its other keys (positiveCount; an image run's scales) are written for the
    /// reader and not read back, so a hand edit of one would be dropped without a word: in a file, such a key must say what
    /// the other keys give.</summary>
    private static void CheckDerived<T>(T config, string json, string origin)
    {
        var given = JsonNode.Parse(json)!.AsObject();
        var written = JsonNode.Parse(Write(config))!.AsObject();
        foreach (var key in Options.GetTypeInfo(typeof(T)).Properties.Where(p => p.Set is null).Select(p => p.Name))
            if (given[key] is { } value && !JsonNode.DeepEquals(value, written[key]))
                throw new UserError($"{origin}: '{key}' is {value.ToJsonString()} where the other keys give {written[key]?.ToJsonString() ?? "none"}; "
                    + "it is written for the reader, not read: drop it, and set the key it comes from");
    }

    public static void AtLeast(string name, long value, long min)
    {
        if (value < min) Fail($"{name} must be at least {min}, got {value}");
    }

    /// <summary>Upper bounds too: a value far past any sensible run (a batch of 10⁸) is a typo, and would take the
    /// machine's memory before failing.</summary>
    public static void Within(string name, long value, long min, long max)
    {
        if (value < min || value > max) Fail($"{name} must be between {min} and {max}, got {value}");
    }

    /// <summary>A positive, finite value up to <paramref name="max"/> (past it float32 overflows, or the run is a typo).</summary>
    public static void Positive(string name, double value, double max)
    {
        if (!(value > 0 && value <= max)) Fail($"{name} must be positive and at most {max:g3}, got {value}");
    }

    public static void Fail(string message) => throw new UserError(message);
}
