using System.Globalization;

namespace Drift.Train.Training;

/// <summary>One logged step. Energy (for images: FD) is set only on evaluation steps.</summary>
public sealed record MetricsRow(long Step, double WallSeconds, double Loss, double VelocityRms, double[] ScaleRms, double? Energy);

/// <summary>
/// metrics.csv of a run: step, wall_s, loss, velocity_rms, one rms column per scale, and the evaluated
/// metric (energy distance for points, FD for images; empty between evaluations). Rows are
/// appended as training goes; a resumed run first drops the rows past its checkpoint, so the file ends
/// up as the uninterrupted run's would.
/// </summary>
public sealed class MetricsLog
{
    public const string FileName = "metrics.csv";
    private readonly string path;
    private readonly List<MetricsRow> rows = [];

    /// <param name="qualityColumn">Name of the evaluated metric's column: energy (points) or fd (images).</param>
    public MetricsLog(string dir, IEnumerable<string> scaleNames, long resumeStep, string qualityColumn = "energy")
    {
        path = Path.Combine(dir, FileName);
        Header = string.Join(',', new[] { "step", "wall_s", "loss", "velocity_rms" }
            .Concat(scaleNames.Select(s => "rms_" + s)).Append(qualityColumn));
        if (resumeStep > 0 && File.Exists(path))
            rows.AddRange(File.ReadLines(path).Skip(1).Where(l => l.Length > 0).Select(Parse).Where(r => r.Step <= resumeStep));
        Output.AtomicFile.WriteText(path, string.Join('\n', rows.Select(ToLine).Prepend(Header)) + "\n");
    }

    private string Header { get; }
    public IReadOnlyList<MetricsRow> Rows => rows;

    public void Append(MetricsRow row)
    {
        rows.Add(row);
        File.AppendAllText(path, ToLine(row) + "\n");
    }

    private static string ToLine(MetricsRow r) => string.Join(',', new[] { r.Step.ToString(CultureInfo.InvariantCulture),
            Format(r.WallSeconds), Format(r.Loss), Format(r.VelocityRms) }
        .Concat(r.ScaleRms.Select(Format)).Append(r.Energy is { } e ? Format(e) : ""));

    private MetricsRow Parse(string line)
    {
        var c = line.Split(',');
        if (c.Length != Header.Split(',').Length)
            throw new UserError($"{path}: a row does not match the header '{Header}'; the file was changed since the checkpoint");
        double D(string s) => double.Parse(s, CultureInfo.InvariantCulture);
        return new MetricsRow(long.Parse(c[0], CultureInfo.InvariantCulture), D(c[1]), D(c[2]), D(c[3]),
            c[4..^1].Select(D).ToArray(), c[^1].Length > 0 ? D(c[^1]) : null);
    }

    private static string Format(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
