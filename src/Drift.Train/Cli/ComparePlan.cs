using System.CommandLine;
using Drift.Loss;
using Drift.Metrics;
using Drift.Train.Output;
using Drift.Train.Training;
using Microsoft.Extensions.Logging;
using Drift.Train.RunFolders;

namespace Drift.Train.Cli;

/// <summary>The runs of <c>drift compare</c> and <c>drift compare-images</c>: each field with seeds seed, seed+1, ...,
/// each in its own folder, <c>&lt;out&gt;/runs/&lt;field&gt;-seed&lt;N&gt;</c>; and <see cref="TrainAndReport"/>, the loop
/// both commands run them with. A comparison stopped before its report continues when its command is run again: a run
/// already there must be the run the plan would start (<see cref="Claim"/>), and resumes from its checkpoint.</summary>
public sealed record ComparePlan(string Dir, FieldKind[] Fields, int Seeds, IReadOnlyList<(FieldKind Field, long Seed, string Dir)> Runs)
{
    public sealed record Options(Option<string[]> Fields, Option<int> Seeds, Option<string> Out);

    public static Options AddOptions(Command command)
    {
        var options = new Options(
            ListOption.Create("--fields", $"Fields, separated by commas or spaces: {string.Join(", ", FieldKind.All)}. Default conservative,laplace.", "conservative,laplace"),
            new Option<int>("--seeds") { Description = "Seeds per field (seed, seed+1, ...). Default 3.", DefaultValueFactory = _ => 3 },
            new Option<string>("--out") { Description = "Report folder. Default checkpoints/compare-<data>. A comparison stopped before its report continues when the same command is run again." });
        command.Options.Add(options.Fields);
        command.Options.Add(options.Seeds);
        command.Options.Add(options.Out);
        return options;
    }

    /// <param name="dataName">Names the default folder, checkpoints/compare-&lt;data&gt;.</param>
    public static ComparePlan Make(ParseResult parse, Options options, long firstSeed, string dataName)
    {
        var fields = ListOption.Items(parse.GetValue(options.Fields)!).Select(f => ChoiceOption.Parse(f, "field", FieldOptions.Choices)).Distinct().ToArray();
        if (fields.Length == 0) throw new UserError("--fields needs at least one field");
        var seeds = parse.GetValue(options.Seeds);
        if (seeds < 1) throw new UserError($"--seeds must be at least 1, got {seeds}");
        var dir = parse.GetValue(options.Out) ?? Path.Combine("checkpoints", $"compare-{dataName}");
        var runs = fields.SelectMany(f => Enumerable.Range(0, seeds).Select(s =>
            (Field: f, Seed: firstSeed + s, Dir: Path.Combine(dir, FolderKind.CompareRuns, $"{f.Name}-seed{firstSeed + s}")))).ToArray();
        return new ComparePlan(dir, fields, seeds, runs);
    }

    /// <summary>Locks and marks the report folder for this process, once the runs' <paramref name="configs"/> are accepted:
    /// it must be new, empty or an unfinished comparison's (<see cref="FolderKind.Finished"/>), and, under the lock, hold no
    /// runs of another plan (the report would sit beside runs it does not name). A run folder holds nothing, or a run of this
    /// plan, not in use, with its config (<see cref="RunFolder.NotPlanned"/>); the checkpoint it continues from is returned.</summary>
    public (RunLock Lock, Checkpoint?[] Resume) Claim<T>(IReadOnlyList<T> configs) where T : class, IRunConfig, new()
    {
        OwnedFolder.Check(Dir, FolderKind.Comparison, "--out");
        var held = RunLock.Acquire(Dir);
        try
        {
            var runsDir = Path.Combine(Dir, FolderKind.CompareRuns);
            var planned = Runs.Select(r => Path.GetFileName(r.Dir)).ToHashSet();
            string[] others = Directory.Exists(runsDir)
                ? Directory.EnumerateFileSystemEntries(runsDir).Select(e => Path.GetFileName(e)).Where(n => !planned.Contains(n)).Order().ToArray()
                : [];
            if (others.Length > 0)
                throw new UserError($"{runsDir} holds runs of another comparison ({string.Join(", ", others.Take(3))}{(others.Length > 3 ? ", ..." : "")}); choose a new --out");
            var resume = new Checkpoint?[Runs.Count];
            for (var i = 0; i < Runs.Count; i++)
            {
                var dir = Runs[i].Dir;
                if (!RunFolder.HoldsRun(dir))
                {
                    if (OwnedFolder.Refusal(dir, FolderKind.Run) is { } why) throw new UserError(why);
                    continue;
                }
                using (RunLock.Acquire(dir))
                {
                    var (saved, checkpoint) = RunFolder.Saved<T>(dir);
                    if (RunFolder.NotPlanned(saved, configs[i]) is { Length: > 0 } changed)
                        throw new UserError($"{dir} holds a run with a different config ({string.Join(", ", changed)}); "
                            + "a comparison continues only with the options it started with: give those, or choose another --out");
                    resume[i] = checkpoint;
                }
            }
            OwnedFolder.Mark(Dir, FolderKind.Comparison);
            return (held, resume);
        }
        catch
        {
            held.Dispose();
            throw;
        }
    }

    public string[] FieldNames => Fields.Select(f => f.Name).ToArray();

    /// <summary>Trains each run in turn into its folder, evaluates it, logs it, then writes report.md, report.json and
    /// curves.png and returns report.md; null when a signal stopped a run (its folder resumes like any run's).</summary>
    /// <param name="train">Trains run i of <see cref="Runs"/>.</param>
    /// <param name="evaluate">The final metrics of run i, once trained.</param>
    /// <param name="floor">The headline metric's data-vs-data floor, from the first run.</param>
    public string? TrainAndReport<TResult>(ILogger log, Func<int, TResult> train, Func<int, IReadOnlyList<EvaluatedMetric>> evaluate,
        string title, string setup, string metric, Func<TResult, double> floor, IReadOnlyList<MetricFamily> families) where TResult : ITrainedRun
    {
        var runs = new List<ComparedRun>();
        var headlineFloor = double.NaN;
        for (var i = 0; i < Runs.Count; i++)
        {
            var (field, seed, dir) = Runs[i];
            log.LogInformation("training {Field}, seed {Seed} -> {Dir}", field.Name, seed, dir);
            TResult result;
            // Locked while it trains, as a run of drift train is: a drift train --resume of it meanwhile is refused.
            using (RunLock.Acquire(dir))
                result = train(i);
            if (result.Interrupted)
            {
                log.LogWarning("stopped at step {Step} of {Dir}; run the same command again to continue the comparison", result.Step, dir);
                return null;
            }
            if (i == 0) headlineFloor = floor(result);
            // Said before it starts: an image run's evaluation (thousands of samples in several networks) takes tens of seconds.
            log.LogInformation("evaluating {Field}, seed {Seed}", field.Name, seed);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var metrics = evaluate(i);
            log.LogInformation("{Field} seed {Seed}: {Metrics} (evaluated in {Seconds:F1} s)", field.Name, seed,
                string.Join(", ", metrics.Select(m => $"{m.Name} {m.Generated:g4}")), clock.Elapsed.TotalSeconds);
            runs.Add(new ComparedRun(field.Name, dir, result.WallSeconds, result.Step, metrics, result.Metrics));
        }
        return ComparisonReport.Write(Dir, title, setup, FieldNames, runs, metric, headlineFloor, families);
    }
}
