using System.Globalization;
using System.Text;
using Drift.Metrics;
using Drift.Train.RunFolders;

namespace Drift.Train.Output;

/// <summary>One finished run of a comparison: its field, final metrics (with floors) and logged rows.</summary>
public sealed record ComparedRun(string Field, string Dir, double WallSeconds, long Steps, IReadOnlyList<EvaluatedMetric> Metrics,
    IReadOnlyList<LoggedStep> Curve);

/// <summary>The report folder of <c>drift compare</c> and <c>drift compare-images</c>: report.md (mean ± std
/// over seeds per field, wall time, steps, and the claims the metrics' spaces agree on), report.json and curves.png
/// (the evaluated metric against step and wall time, one line per field).</summary>
public static class ComparisonReport
{
    /// <param name="setup">One paragraph saying what was run.</param>
    /// <param name="curveMetric">The metric evaluated during training (the curves' y axis).</param>
    /// <param name="families">The metrics that measure one quality in several spaces, for <see cref="Ranking.Claims"/>.</param>
    public static string Write(string dir, string title, string setup, string[] fields, IReadOnlyList<ComparedRun> runs,
        string curveMetric, double curveFloor, IReadOnlyList<MetricFamily> families)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"# {title}: {string.Join(" vs ", fields)}");
        sb.AppendLine();
        sb.AppendLine(setup + " Metrics of the final samples against held-out data" + (runs.Count > fields.Length ? " (mean ± std over seeds)" : "")
            + "; the floor is an independent draw of data.");
        sb.AppendLine();
        sb.AppendLine("| metric | " + string.Join(" | ", fields) + " | floor |");
        sb.AppendLine("|---|" + string.Concat(fields.Select(_ => "---|")) + "---|");
        IEnumerable<ComparedRun> Of(string f) => runs.Where(r => r.Field == f);
        foreach (var metric in runs[0].Metrics.Select(m => m.Name))
            sb.AppendLine($"| {metric} | " + string.Join(" | ", fields.Select(f => MeanStd(Of(f).Select(r => r.Metrics.First(m => m.Name == metric).Generated))))
                + $" | {runs[0].Metrics.First(m => m.Name == metric).Floor:g4} |");
        sb.AppendLine("| wall time, s | " + string.Join(" | ", fields.Select(f => MeanStd(Of(f).Select(r => r.WallSeconds)))) + " | |");
        sb.AppendLine("| steps | " + string.Join(" | ", fields.Select(f => Of(f).First().Steps.ToString(CultureInfo.InvariantCulture))) + " | |");
        sb.AppendLine();
        sb.AppendLine("Claims: made only where every way of measuring a quality agrees (images: each network's features and the pixels; points: "
            + "three distances) and, with several seeds, every run of the one beats every run of the other in each.");
        sb.AppendLine();
        foreach (var claim in Ranking.Claims(fields, f => Of(f).Select(r => r.Metrics).ToArray(), families))
            sb.AppendLine($"- {claim}");
        sb.AppendLine();
        sb.AppendLine($"![{curveMetric} against step and wall time](curves.png)");
        sb.AppendLine();
        sb.AppendLine("![samples of the first seed of each field](samples.png)");
        var report = sb.ToString();

        AtomicFile.WriteText(Path.Combine(dir, FolderKind.CompareReport), report);
        AtomicFile.WriteJson(Path.Combine(dir, FolderKind.CompareJson), runs.Select(r => new
        {
            field = r.Field, run = Path.GetFileName(r.Dir), wallSeconds = r.WallSeconds, steps = r.Steps,
            metrics = r.Metrics.Select(m => new { metric = m.Name, generated = m.Generated, floor = m.Floor }),
        }));
        Plots.Comparison(Path.Combine(dir, FolderKind.CompareCurves), fields.Select(f =>
            (f, (IReadOnlyList<IReadOnlyList<LoggedStep>>)Of(f).Select(r => r.Curve).ToArray())).ToArray(), curveFloor, title, curveMetric);
        return report;
    }

    /// <summary>"mean ± std" over seeds; a single seed has no spread to show.</summary>
    private static string MeanStd(IEnumerable<double> values)
    {
        var v = values.ToArray();
        var mean = v.Average();
        if (v.Length == 1) return string.Create(CultureInfo.InvariantCulture, $"{mean:g4}");
        var std = Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1));
        return string.Create(CultureInfo.InvariantCulture, $"{mean:g4} ± {std:g2}");
    }
}
