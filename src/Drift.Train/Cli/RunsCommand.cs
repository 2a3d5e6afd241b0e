using System.CommandLine;
using Drift.Train.Training;

namespace Drift.Train.Cli;

/// <summary><c>drift runs</c>: the runs below some folders (checkpoints/ by default, where <c>drift train</c> puts them;
/// a comparison's runs too), a line each: kind, data, field, the checkpoint's step of the run's steps, whether it is
/// finished, stopped (resume it) or running, its training time so far, and the last energy distance or FD it logged. Reads only.</summary>
public static class RunsCommand
{
    public static Command Create()
    {
        var command = new Command("runs", "List the runs in folders: data, field, steps done, finished, stopped or running, the last energy distance or FD logged.");
        var folders = new Argument<string[]>("folders")
        {
            Description = "Folders to list the runs of, at any depth (a run folder lists itself). Default: checkpoints.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        command.Arguments.Add(folders);
        command.SetAction(parse => Cli.Run(() =>
        {
            var given = parse.GetValue(folders) ?? [];
            string[] roots = given.Length > 0 ? given : Directory.Exists("checkpoints") ? ["checkpoints"] : [];
            foreach (var root in roots.Where(r => !Directory.Exists(r)))
            {
                // The folders take every word, an unknown option's too ("--in"): a folder of that name is ./--in.
                if (root.StartsWith('-')) throw new UserError($"drift runs has no option {root}; it takes the folders to list (see drift runs --help)");
                throw new UserError($"{root}: {(File.Exists(root) ? "a file, not a folder" : "no such folder")}");
            }
            var runs = roots.SelectMany(RunSummary.Find).Distinct().Select(RunSummary.Read).ToArray();
            if (runs.Length == 0)
            {
                Console.WriteLine($"no runs in {(roots.Length > 0 ? string.Join(", ", roots) : "checkpoints (there is no such folder here)")}");
                return 0;
            }
            string[][] rows =
            [
                ["run", "kind", "data", "field", "step", "time", "state", "last metric"],
                .. runs.Select(r => new[] { r.Dir, r.Kind, r.Data, r.Field, $"{r.Step?.ToString() ?? "-"}/{r.Steps?.ToString() ?? "-"}",
                    r.WallSeconds is { } s ? Cli.Duration(s) : "-", r.State, r.Metric ?? "-" }),
            ];
            var widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
            foreach (var row in rows)
                Console.WriteLine(string.Join("  ", row.Select((cell, c) => c == row.Length - 1 ? cell : cell.PadRight(widths[c]))));
            return 0;
        }));
        return command;
    }
}
