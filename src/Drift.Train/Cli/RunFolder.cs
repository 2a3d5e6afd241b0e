using System.CommandLine;
using System.Text.Json;
using Drift.Loss;
using Drift.Train.Output;
using Drift.Train.Training;

namespace Drift.Train.Cli;

/// <summary>Where a training run lives: the --config/--out/--resume options of train and train-images, the
/// default folder, and the rule that a folder holding a run is only ever resumed, with the same config.</summary>
public static class RunFolder
{
    public sealed record Options(Option<string> Config, Option<string> Out, Option<string> Resume);

    public static Options AddOptions(Command command)
    {
        var configFile = new Option<string>("--config") { Description = "Start from a run's config.json; options given here override it." };
        var outDir = new Option<string>("--out") { Description = "Run folder. Default checkpoints/<data>-<field>[-N]." };
        var resumeDir = new Option<string>("--resume") { Description = "Continue the run in this folder from its checkpoint (only --steps and --device may change)." };
        command.Options.Add(configFile);
        command.Options.Add(outDir);
        command.Options.Add(resumeDir);
        return new(configFile, outDir, resumeDir);
    }

    /// <summary>The config and folder a train command runs with: a new run (config from --config or the defaults,
    /// then the options, then <paramref name="complete"/>) in a new folder, or the run in --resume with its own config.</summary>
    public static (T Config, string Dir, Checkpoint? Resume) Prepare<T>(ParseResult parse, Options options, ConfigBinder<T> binder,
        Func<T, T> complete) where T : class, IRunConfig, new()
    {
        var fromFile = parse.GetValue(options.Config) is { } path ? ConfigJson.Load<T>(path) : null;
        var resumeDir = parse.GetValue(options.Resume);
        var checkpoint = resumeDir is null ? null : Checkpoint.Load(resumeDir);
        var config = complete(binder.Apply(parse, fromFile ?? checkpoint?.Config<T>() ?? new T()));
        config.Validate();
        if (checkpoint is null)
            return (config, New(parse.GetValue(options.Out), config.Data, config.Field.Name()), null);
        CheckResumable(checkpoint, config, resumeDir!, parse.GetValue(options.Out));
        return (config, resumeDir!, checkpoint);
    }

    public static bool HoldsRun(string dir) =>
        Checkpoint.Exists(dir) || File.Exists(Path.Combine(dir, RunFiles.Config)) || File.Exists(Path.Combine(dir, RunFiles.Metrics));

    /// <summary>--out, or checkpoints/&lt;data&gt;-&lt;field&gt;[-N]; never a folder that already holds a run.</summary>
    public static string New(string? outDir, string data, string field)
    {
        if (outDir is not null)
            return HoldsRun(outDir) ? throw new UserError($"{outDir} already holds a run; continue it with --resume {outDir}, or choose another --out") : outDir;
        var stem = Path.Combine("checkpoints", $"{Path.GetFileNameWithoutExtension(Path.TrimEndingDirectorySeparator(data))}-{field}");
        var dir = stem;
        for (var n = 2; HoldsRun(dir); n++) dir = $"{stem}-{n}";
        return dir;
    }

    /// <summary>A resumed run must be the same run: only the step budget and the device may change.</summary>
    public static void CheckResumable<T>(Checkpoint checkpoint, T requested, string dir, string? outDir) where T : IRunConfig
    {
        if (outDir is not null && Path.GetFullPath(outDir) != Path.GetFullPath(dir))
            throw new UserError($"--resume continues in {dir}; drop --out {outDir}");
        var asked = JsonDocument.Parse(requested.ToJson()).RootElement;
        var saved = JsonDocument.Parse(checkpoint.Config<T>().ToJson()).RootElement;
        var changed = saved.EnumerateObject().Select(p => p.Name).Union(asked.EnumerateObject().Select(p => p.Name))
            .Where(name => name is not ("steps" or "device"))
            .Where(name => (saved.TryGetProperty(name, out var a) ? a.GetRawText() : "") != (asked.TryGetProperty(name, out var b) ? b.GetRawText() : ""))
            .ToArray();
        if (changed.Length > 0)
            throw new UserError($"{dir} holds a run with a different config ({string.Join(", ", changed)}); a resumed run keeps its config, only --steps and --device may change");
        if (requested.Steps <= checkpoint.Step)
            throw new UserError($"{dir} is already at step {checkpoint.Step}; pass --steps above that to continue");
    }
}
