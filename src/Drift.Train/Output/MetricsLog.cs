using System.Globalization;

namespace Drift.Train.Output;

/// <summary>One row of metrics.csv. <paramref name="Metric"/> (energy distance for points, FD for images) is set only on evaluation steps.</summary>
public sealed record LoggedStep(long Step, double WallSeconds, double Loss, double VelocityRms, double[] ScaleRms, double? Metric);

/// <summary>
/// metrics.csv of a run: step, wall_s, loss, velocity_rms, one rms column per scale, and the evaluated
/// metric (energy distance for points, FD for images; empty between evaluations). Rows are
/// appended as training goes; a resumed run first drops the rows past its checkpoint, so the file ends
/// up as the uninterrupted run's would.
/// </summary>
public sealed class MetricsLog
{
    private readonly string path;
    private readonly List<LoggedStep> rows = [];

    /// <param name="metricColumn">Name of the evaluated metric's column: energy (points) or fd (images).</param>
    public MetricsLog(string path, IEnumerable<string> scaleNames, long resumeStep, string metricColumn)
    {
        this.path = path;
        Header = string.Join(',', new[] { "step", "wall_s", "loss", "velocity_rms" }
            .Concat(scaleNames.Select(s => "rms_" + s)).Append(metricColumn));
        if (resumeStep > 0 && File.Exists(path))
        {
            // A last line without its newline is a row a crash cut short: it is past the checkpoint, so it goes.
            var text = File.ReadAllText(path);
            var lines = text.Split('\n');
            rows.AddRange(lines.Skip(1).Take(lines.Length - 2).Where(l => l.Length > 0).Select(Parse).Where(r => r.Step <= resumeStep));
        }
        AtomicFile.WriteText(path, string.Join('\n', rows.Select(ToLine).Prepend(Header)) + "\n");
    }

    private string Header { get; }
    public IReadOnlyList<LoggedStep> Rows => rows;

    public void Append(LoggedStep row)
    {
        rows.Add(row);
        File.AppendAllText(path, ToLine(row) + "\n");
    }

    private static string ToLine(LoggedStep r) => string.Join(',', new[] { r.Step.ToString(CultureInfo.InvariantCulture),
            Format(r.WallSeconds), Format(r.Loss), Format(r.VelocityRms) }
        .Concat(r.ScaleRms.Select(Format)).Append(r.Metric is { } e ? Format(e) : ""));

    private LoggedStep Parse(string line)
    {
        var c = line.Split(',');
        if (c.Length != Header.Split(',').Length)
            throw new UserError($"{path}: a row does not match the header '{Header}'; the file was changed since the checkpoint");
        double D(string s) => double.Parse(s, CultureInfo.InvariantCulture);
        return new LoggedStep(long.Parse(c[0], CultureInfo.InvariantCulture), D(c[1]), D(c[2]), D(c[3]),
            c[4..^1].Select(D).ToArray(), c[^1].Length > 0 ? D(c[^1]) : null);
    }

    private static string Format(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
