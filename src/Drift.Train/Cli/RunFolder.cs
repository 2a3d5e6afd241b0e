using System.CommandLine;
using System.Text.Json;
using Drift.Train.Training;

namespace Drift.Train.Cli;

/// <summary>Where a training run lives: the --config/--out/--resume options of train and train-images, the
/// default folder, and the rule that a folder holding a run is only ever resumed, with the same config.</summary>
public static class RunFolder
{
    public static (Option<string> Config, Option<string> Out, Option<string> Resume) AddOptions(Command command)
    {
        var configFile = new Option<string>("--config") { Description = "Start from a run's config.json; options given here override it." };
        var outDir = new Option<string>("--out") { Description = "Run folder. Default checkpoints/<data>-<field>[-N]." };
        var resumeDir = new Option<string>("--resume") { Description = "Continue the run in this folder from its checkpoint (only --steps and --device may change)." };
        command.Options.Add(configFile);
        command.Options.Add(outDir);
        command.Options.Add(resumeDir);
        return (configFile, outDir, resumeDir);
    }

    public static bool HoldsRun(string dir) =>
        Checkpoint.Exists(dir) || File.Exists(Path.Combine(dir, Trainer.ConfigFile)) || File.Exists(Path.Combine(dir, MetricsLog.FileName));

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
    public static void CheckResumable(Checkpoint checkpoint, string requestedJson, long requestedSteps, string dir, string? outDir)
    {
        if (outDir is not null && Path.GetFullPath(outDir) != Path.GetFullPath(dir))
            throw new UserError($"--resume continues in {dir}; drop --out {outDir}");
        var asked = JsonDocument.Parse(requestedJson).RootElement;
        var saved = JsonDocument.Parse(checkpoint.IsImages ? checkpoint.ImageConfig.ToJson() : checkpoint.Config.ToJson()).RootElement;
        var changed = saved.EnumerateObject().Select(p => p.Name).Union(asked.EnumerateObject().Select(p => p.Name))
            .Where(name => name is not ("steps" or "device"))
            .Where(name => (saved.TryGetProperty(name, out var a) ? a.GetRawText() : "") != (asked.TryGetProperty(name, out var b) ? b.GetRawText() : ""))
            .ToArray();
        if (changed.Length > 0)
            throw new UserError($"{dir} holds a run with a different config ({string.Join(", ", changed)}); a resumed run keeps its config, only --steps and --device may change");
        if (requestedSteps <= checkpoint.Step)
            throw new UserError($"{dir} is already at step {checkpoint.Step}; pass --steps above that to continue");
    }
}
