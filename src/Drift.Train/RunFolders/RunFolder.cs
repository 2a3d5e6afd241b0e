using System.CommandLine;
using System.Text;
using System.Text.Json;
using Drift.Data;
using Drift.Loss;

namespace Drift.Train.RunFolders;

/// <summary>Where a training run lives: the --config/--out/--resume options of train and train-images, the
/// default folder, and the rule that a folder holding a run is only ever resumed, with the same config.</summary>
public static class RunFolder
{
    public sealed record Options(Option<string> Config, Option<string> Out, Option<string> Resume);

    public static Options AddOptions(Command command)
    {
        var configFile = new Option<string>("--config") { Description = "Start from a run's config.json (or the run's folder); options given here override it." };
        var outDir = new Option<string>("--out") { Description = "Run folder. Default checkpoints/<data>-<field>[-N]." };
        var resumeDir = new Option<string>("--resume") { Description = "Continue the run in this folder from its checkpoint (only --steps, --device and --snapshot-every may change)." };
        command.Options.Add(configFile);
        command.Options.Add(outDir);
        command.Options.Add(resumeDir);
        return new(configFile, outDir, resumeDir);
    }

    /// <summary>The config and folder a train command runs with, the folder locked for this process: a new run
    /// (config from --config or the defaults, then the options, then <paramref name="complete"/>) in a new folder,
    /// or the run in --resume with its own config. Nothing in a folder is changed before the run is accepted.</summary>
    /// <param name="given">The options given on the command line, applied to a starting config.</param>
    /// <param name="processes">How many processes train the run together (mpiexec -n K).</param>
    public static (T Config, string Dir, Checkpoint? Resume, RunLock Lock) Prepare<T>(ParseResult parse, Options options, Func<T, T> given,
        Func<T, T> complete, int processes = 1) where T : class, IRunConfig, new()
    {
        var fromFile = parse.GetValue(options.Config) is { } path ? ConfigJson.Load<T>(path) : null;
        if (parse.GetValue(options.Resume) is not { } dir)
        {
            var config = Accepted(complete(given(fromFile ?? new T())), processes);
            var (newDir, held) = New(parse.GetValue(options.Out), config.Data, config.Field.Name);
            // Marked now, so that its log (RunFiles.Log, from the command's first line) is a run's file; a run that
            // fails before its config leaves neither (RunLock.Dispose).
            OwnedFolder.Mark(newDir, FolderKind.Run);
            return (config, newDir, null, held);
        }
        if (!Directory.Exists(dir)) throw new UserError($"run folder not found: {dir}");
        if (!HoldsRun(dir)) throw NoRun(dir);
        var runLock = RunLock.Acquire(dir);
        try
        {
            var (saved, checkpoint) = Saved<T>(dir);
            var config = Accepted(complete(given(fromFile ?? saved)), processes);
            CheckResumable(saved, checkpoint?.Step ?? 0, config, dir, parse.GetValue(options.Out));
            return (config, dir, checkpoint, runLock);
        }
        catch
        {
            runLock.Dispose();
            throw;
        }
    }

    /// <summary>Rank 0 of a data-parallel run hands the others, through <paramref name="share"/>, what <see cref="Prepare"/>
    /// gave it: the config and the checkpoint's bytes (empty: none). They read no file of the run (<see cref="Follow"/>),
    /// so resuming and --config need no filesystem that every machine shares.</summary>
    /// <param name="share">Rank 0's bytes to every process (<c>DataParallel.FromWriter</c>).</param>
    public static void HandOver<T>(T config, Checkpoint? checkpoint, Func<byte[], byte[]> share) where T : IRunConfig
    {
        share(Encoding.UTF8.GetBytes(config.ToJson()));
        share(checkpoint?.Contents ?? []);
    }

    /// <summary>The config and checkpoint a process other than rank 0 trains with: those rank 0 hands over
    /// (<see cref="HandOver"/>), checked against this machine's memory. Rank 0 checks, locks and writes the folder.</summary>
    public static (T Config, Checkpoint? Resume) Follow<T>(Func<byte[], byte[]> share, int processes) where T : class, IRunConfig, new()
    {
        var config = ConfigJson.Read<T>(Encoding.UTF8.GetString(share([])), "the config process 0 sent");
        var checkpoint = share([]) is { Length: > 0 } bytes ? Checkpoint.Read(bytes, "the checkpoint process 0 sent") : null;
        return (Accepted(config, processes), checkpoint);
    }

    private static UserError NoRun(string dir) =>
        new($"{dir} holds no run to resume (no {RunFiles.Checkpoint} or {RunFiles.Config}); start one there with --out {dir}");

    /// <summary>A config a run may start with: valid, its batch shared evenly by the <paramref name="processes"/>, and
    /// within the machine's memory.</summary>
    public static T Accepted<T>(T config, int processes = 1) where T : IRunConfig
    {
        config.Validate();
        config.ValidateProcesses(processes);
        MemoryBudget.Check(config);
        return config;
    }

    /// <summary>A run is its checkpoint or, before the first one, its config (written before anything else); see
    /// <see cref="RunFiles.Defining"/>. A folder of another kind holds no run.</summary>
    public static bool HoldsRun(string dir) => OwnedFolder.KindOf(dir) == FolderKind.Run
        && RunFiles.Defining.Any(f => FileTypes.Of(Path.Combine(dir, f)) != FileType.Missing);

    /// <summary>Why a new run may not start in <paramref name="dir"/>, or null: it must be new, empty, or a run folder
    /// whose run never wrote its config (killed at once).</summary>
    private static string? Refusal(string dir, string? outDir) =>
        HoldsRun(dir) ? $"{dir} already holds a run; continue it with --resume {dir}" + (outDir is null ? "" : ", or choose another --out")
        : OwnedFolder.Refusal(dir, FolderKind.Run);

    /// <summary>--out, or checkpoints/&lt;data&gt;-&lt;field&gt;[-N], locked; never a folder that already holds a run
    /// or that another process is writing.</summary>
    public static (string Dir, RunLock Lock) New(string? outDir, string data, string field)
    {
        if (outDir is not null)
        {
            // A folder that is not a run's is refused before the lock: it gets no lock file of ours. A run's folder is
            // locked first, so that one in use is named as such.
            if ((OwnedFolder.Refusal(outDir, FolderKind.Run) ?? OwnedFolder.InsideKept(outDir, "--out")) is { } why) throw new UserError(why);
            return TryNew(outDir) ?? throw new UserError(Refusal(outDir, outDir) ?? $"{outDir} changed while it was checked; try again");
        }
        var stem = Path.Combine("checkpoints", $"{Path.GetFileNameWithoutExtension(Path.TrimEndingDirectorySeparator(data))}-{field}");
        for (var n = 1; ; n++)
        {
            var dir = n == 1 ? stem : $"{stem}-{n}";
            if (Refusal(dir, null) is not null) continue;
            try
            {
                if (TryNew(dir) is { } taken) return taken;
            }
            catch (RunLock.InUse) { }
        }
    }

    /// <summary>The folder locked, when a new run may start there (checked under the lock, so two new runs cannot both take it).</summary>
    private static (string, RunLock)? TryNew(string dir)
    {
        var runLock = RunLock.Acquire(dir);
        if (Refusal(dir, null) is null) return (dir, runLock);
        runLock.Dispose();
        return null;
    }

    /// <summary>A resumed run must be the same run: only the step budget and the device may change.</summary>
    public static void CheckResumable<T>(T saved, long step, T requested, string dir, string? outDir) where T : IRunConfig
    {
        if (outDir is not null && Path.GetFullPath(outDir) != Path.GetFullPath(dir))
            throw new UserError($"--resume continues in {dir}; drop --out {outDir}");
        var changed = Changed(saved, requested, "steps", "device", "snapshotEvery");
        if (changed.Length > 0)
            throw new UserError($"{dir} holds a run with a different config ({string.Join(", ", changed)}); a resumed run keeps its config, only --steps, --device and --snapshot-every may change");
        if (requested.Steps <= step)
            throw new UserError($"{dir} is already at step {step}; pass --steps above that to continue");
    }

    /// <summary>The keys of config.json whose values differ between two configs, but for <paramref name="free"/>.</summary>
    public static string[] Changed<T>(T saved, T requested, params string[] free) where T : IRunConfig
    {
        var asked = JsonDocument.Parse(requested.ToJson()).RootElement;
        var before = JsonDocument.Parse(saved.ToJson()).RootElement;
        return before.EnumerateObject().Select(p => p.Name).Union(asked.EnumerateObject().Select(p => p.Name))
            .Where(name => !free.Contains(name))
            .Where(name => (before.TryGetProperty(name, out var a) ? a.GetRawText() : "") != (asked.TryGetProperty(name, out var b) ? b.GetRawText() : ""))
            .ToArray();
    }

    /// <summary>The keys in which the run saved as <paramref name="saved"/> is not the one <paramref name="planned"/> would
    /// start: any but the device, the snapshots and what the run filled in from its data where the plan left it unset.</summary>
    public static string[] NotPlanned<T>(T saved, T planned) where T : IRunConfig
    {
        var plan = JsonDocument.Parse(planned.ToJson()).RootElement;
        bool Unset(string key) => !plan.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null || v.GetRawText() == "0";
        return Changed(saved, planned, ["device", "snapshotEvery", .. T.FromData.Where(Unset)]);
    }

    /// <summary>The config a run in <paramref name="dir"/> trains with and its checkpoint: the checkpoint's, or before the
    /// first one the config it wrote first (then it starts again from step 0, the same run).</summary>
    public static (T Saved, Checkpoint? Checkpoint) Saved<T>(string dir) where T : class, IRunConfig, new()
    {
        var checkpoint = Checkpoint.Exists(dir) ? Checkpoint.Load(dir) : null;
        var configPath = Path.Combine(dir, RunFiles.Config);
        if (checkpoint is null)
            return (File.Exists(configPath) ? ConfigJson.Load<T>(configPath) : throw NoRun(dir), null);
        var saved = checkpoint.Config<T>();
        // config.json is written from the checkpoint's config, and again as the run resumes: an edit of it would be dropped
        // without a word. What a resume itself may change there (its steps, device, snapshots) and not yet checkpoint is not an edit.
        if (File.Exists(configPath) && Changed(saved, ConfigJson.Load<T>(configPath), "steps", "device", "snapshotEvery") is { Length: > 0 } edited)
            throw new UserError($"{configPath} differs from the run's checkpoint in {string.Join(", ", edited)}; a run resumes with its checkpoint's config: "
                + $"undo the edit (or delete config.json, which the run writes again), or start a new run from it with --config {configPath} --out NEW");
        return (saved, checkpoint);
    }
}
