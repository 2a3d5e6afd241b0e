using System.Text.Json;
using System.Text.Json.Serialization;

namespace Drift.Train.Training;

/// <summary>How run configs are written and read (config.json, checkpoints): camelCase, indented, and
/// strict, so a misspelt key is an error rather than a silently ignored setting.</summary>
public static class ConfigJson
{
    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
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
            throw new UserError($"{origin}: not a valid run configuration: {e.Message}");
        }
    }

    public static T Load<T>(string path)
    {
        if (!File.Exists(path)) throw new UserError($"config file not found: {path}");
        return Read<T>(File.ReadAllText(path), path);
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
