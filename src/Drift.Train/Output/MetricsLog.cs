using System.Globalization;
using Drift.Data;
using Drift.Train.RunFolders;

namespace Drift.Train.Output;

/// <summary>One row of metrics.csv. <paramref name="Evaluated"/> (energy distance for points; FD and recall for images) is
/// set only on evaluation steps.</summary>
/// <param name="Diagnostics">The field's counts since the previous row (the Sinkhorn field's iterations), or null when the run has none.</param>
public sealed record LoggedStep(long Step, double WallSeconds, double Loss, double VelocityRms, double[] ScaleRms, double[]? Evaluated,
    double[]? Diagnostics = null)
{
    /// <summary>The headline metric (energy, FD) on evaluation steps.</summary>
    public double? Metric => Evaluated?[0];
}

/// <summary>
/// metrics.csv of a run: step, wall_s, loss, velocity_rms, one rms column per scale, the evaluated
/// metrics (energy distance for points; FD and recall for images; empty between evaluations), and the field's
/// diagnostics where it has any (the Sinkhorn field's iterations since the previous row). Rows are
/// appended as training goes; a resumed run first drops the rows past its checkpoint, so the file ends
/// up as the uninterrupted run's would. A file from before a metric column was added (image runs logged FD
/// alone) is read with that column empty, and rewritten with it.
/// </summary>
public sealed class MetricsLog
{
    private readonly string path;
    private readonly List<LoggedStep> rows = [];

    /// <param name="metricColumns">Names of the evaluated metrics' columns: energy (points); fd, recall (images).</param>
    /// <param name="diagnosticColumns">Names of the field's diagnostic columns, last (none for most fields).</param>
    public MetricsLog(string path, IEnumerable<string> scaleNames, long resumeStep, IReadOnlyList<string> metricColumns,
        IReadOnlyList<string>? diagnosticColumns = null)
    {
        this.path = path;
        scales = scaleNames.Count();
        metrics = metricColumns.Count;
        diagnostics = diagnosticColumns?.Count ?? 0;
        Header = string.Join(',', new[] { "step", "wall_s", "loss", "velocity_rms" }
            .Concat(scaleNames.Select(s => "rms_" + s)).Concat(metricColumns).Concat(diagnosticColumns ?? []));
        if (resumeStep > 0 && File.Exists(path))
        {
            // A last line without its newline is a row a crash cut short: it is past the checkpoint, so it goes.
            var text = InputFile.ReadAllText(path, "metrics file", InputFile.Largest);
            var lines = text.Split('\n');
            var missing = Header.Split(',').Length - lines[0].Split(',').Length;
            if (missing < 0 || !(missing == 0 ? Header == lines[0] : Header.StartsWith(lines[0] + ",", StringComparison.Ordinal)))
                throw new UserError($"{path}: its header '{lines[0]}' is not this run's '{Header}'; the file was changed since the checkpoint");
            rows.AddRange(lines.Skip(1).Take(lines.Length - 2).Where(l => l.Length > 0)
                .Select(l => Parse(l + new string(',', missing))).Where(r => r.Step <= resumeStep));
        }
        AtomicFile.WriteText(path, string.Join('\n', rows.Select(ToLine).Prepend(Header)) + "\n");
    }

    private readonly int scales, metrics, diagnostics;
    private string Header { get; }
    public IReadOnlyList<LoggedStep> Rows => rows;

    public void Append(LoggedStep row)
    {
        rows.Add(row);
        File.AppendAllText(path, ToLine(row) + "\n");
    }

    private string ToLine(LoggedStep r) => string.Join(',', new[] { r.Step.ToString(CultureInfo.InvariantCulture),
            Format(r.WallSeconds), Format(r.Loss), Format(r.VelocityRms) }
        .Concat(r.ScaleRms.Select(Format)).Concat(r.Evaluated?.Select(Format) ?? Enumerable.Repeat("", metrics))
        .Concat(r.Diagnostics?.Select(Format) ?? Enumerable.Repeat("", diagnostics)));

    private LoggedStep Parse(string line)
    {
        var c = line.Split(',');
        if (c.Length != Header.Split(',').Length)
            throw new UserError($"{path}: a row does not match the header '{Header}'; the file was changed since the checkpoint");
        double D(string s) => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v
            : throw new UserError($"{path}: '{(s.Length > 20 ? s[..20] + "..." : s)}' in a row is not a number; the file was changed since the checkpoint");
        // Metrics an older file lacks read as NaN on its evaluation rows; diagnostics it lacks, as none.
        var evaluated = c[(4 + scales)..(4 + scales + metrics)];
        var counted = c[(4 + scales + metrics)..];
        var step = long.TryParse(c[0], NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s
            : throw new UserError($"{path}: a row starts with '{c[0]}', not a step; the file was changed since the checkpoint");
        return new LoggedStep(step, D(c[1]), D(c[2]), D(c[3]),
            c[4..(4 + scales)].Select(D).ToArray(), evaluated[0].Length > 0 ? evaluated.Select(e => e.Length > 0 ? D(e) : double.NaN).ToArray() : null,
            counted.Length > 0 && counted[0].Length > 0 ? counted.Select(D).ToArray() : null);
    }

    private static string Format(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>The headline metric's column (the first after the scales' rms columns: energy, fd) and its last logged
    /// value with its step; null where the file or a value is missing. Read only, as a listing of runs reads it.</summary>
    public static (string Name, long Step, double Value)? LastHeadline(string path)
    {
        if (FileTypes.Of(path) != FileType.Regular) return null;
        var lines = InputFile.ReadAllText(path, "metrics file", InputFile.Largest).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length == 0) return null;
        var header = lines[0].Split(',');
        var column = Array.FindIndex(header, 4, h => !h.StartsWith("rms_", StringComparison.Ordinal));
        if (column < 0) return null;
        foreach (var line in lines.Skip(1).Reverse())
        {
            var cells = line.Split(',');
            if (cells.Length == header.Length && cells[column].Length > 0
                && long.TryParse(cells[0], NumberStyles.None, CultureInfo.InvariantCulture, out var step)
                && double.TryParse(cells[column], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                return (header[column], step, value);
        }
        return null;
    }
}
