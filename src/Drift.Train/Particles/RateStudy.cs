using System.Globalization;
using System.Text;
using Drift.Loss;
using Drift.Metrics;
using Drift.Train.Output;
using Microsoft.Extensions.Logging;

namespace Drift.Train.Particles;

/// <summary>One quantity's fitted exponent against N, in one dimension.</summary>
public sealed record RateRow(int Dim, string Quantity, SlopeFit? Fit, double Predicted, int Diverged);

/// <summary>
/// The finite-particle rate study: runs every (N, d, seed) of a grid and fits, per dimension and quantity,
/// the log–log slope against N with its 95% interval, next to the predicted exponent −1/(d+4).
/// </summary>
public static class RateStudy
{
    public static readonly (string Name, Func<ParticleRun, double> Value)[] Quantities =
    [
        ("root time-averaged velocity", r => r.RootTimeAveragedVelocity),
        ("root late velocity", r => r.RootLateVelocity),
        ("root smoothed Fisher", r => r.RootFisher),
        ("energy distance", r => r.Energy),
    ];

    public static IReadOnlyList<RateRow> Run(ParticleConfig baseConfig, int[] ns, int[] dims, int seeds, string outDir, ILogger log,
        Action<string> onRun)
    {
        var runs = new List<ParticleRun>();
        foreach (var d in dims)
        foreach (var n in ns)
        for (var s = 0; s < seeds; s++)
        {
            var run = ParticleSystem.Run(baseConfig with { Dim = d, N = n, Seed = baseConfig.Seed + s });
            runs.Add(run);
            onRun($"d={d} N={n} seed {s}: h={run.Config.InitialBandwidth:g3} {run.Steps} steps, velocity {run.RootTimeAveragedVelocity:g3}"
                + (run.Diverged is { } div ? $", diverged at step {div.Step}" : "") + $" ({run.Seconds:F1} s)");
        }

        var rates = new List<RateRow>();
        foreach (var d in dims)
        {
            var ok = runs.Where(r => r.Config.Dim == d && r.Diverged is null).ToArray();
            var diverged = runs.Count(r => r.Config.Dim == d && r.Diverged is not null);
            foreach (var (name, value) in Quantities)
            {
                SlopeFit? fit = null;
                try { fit = LogLogFit.Fit(ok.Select(r => (double)r.Config.N).ToArray(), ok.Select(value).ToArray()); }
                catch (ArgumentException e) { log.LogWarning("d={Dim} {Quantity}: no fit ({Reason})", d, name, e.Message); }
                rates.Add(new RateRow(d, name, fit, -1.0 / (d + 4), diverged));
            }
        }

        Directory.CreateDirectory(outDir);
        AtomicFile.WriteText(Path.Combine(outDir, "sweep.csv"), SweepCsv(runs));
        AtomicFile.WriteText(Path.Combine(outDir, "rates.csv"), RatesCsv(rates));
        AtomicFile.WriteText(Path.Combine(outDir, "rates.md"), RatesMarkdown(baseConfig, ns, seeds, rates, runs));
        Plots.Rates(Path.Combine(outDir, "rates.png"), Panels(runs, rates));
        return rates;
    }

    /// <summary>Per quantity, each dimension's finished runs against N with their fit.</summary>
    private static RatePanel[] Panels(IReadOnlyList<ParticleRun> runs, IReadOnlyList<RateRow> rates)
    {
        var dims = runs.Select(r => r.Config.Dim).Distinct().Order().ToArray();
        return Quantities.Select(q => new RatePanel(q.Name, dims.Select(d =>
        {
            var ok = runs.Where(r => r.Config.Dim == d && r.Diverged is null).ToArray();
            var fit = rates.FirstOrDefault(r => r.Dim == d && r.Quantity == q.Name)?.Fit;
            var label = fit is null ? $"d={d}" : $"d={d}: slope {fit.Slope:F3} (theory {-1.0 / (d + 4):F3})";
            return new RateSeries(label, ok.Select(r => (double)r.Config.N).ToArray(), ok.Select(q.Value).ToArray(), fit);
        }).ToArray())).ToArray();
    }

    private static string F(double v) => v.ToString("G6", CultureInfo.InvariantCulture);

    private static string SweepCsv(IEnumerable<ParticleRun> runs)
    {
        var sb = new StringBuilder("dim,n,seed,bandwidth,eta,steps,root_time_avg_velocity,root_late_velocity,root_fisher,energy,diverged_step,seconds\n");
        foreach (var r in runs)
            sb.AppendLine(string.Join(',', r.Config.Dim, r.Config.N, r.Config.Seed, F(r.Config.InitialBandwidth), F(r.Eta), r.Steps,
                F(r.RootTimeAveragedVelocity), F(r.RootLateVelocity), F(r.RootFisher), F(r.Energy),
                r.Diverged?.Step.ToString(CultureInfo.InvariantCulture) ?? "", F(r.Seconds)));
        return sb.ToString();
    }

    private static string RatesCsv(IEnumerable<RateRow> rates)
    {
        var sb = new StringBuilder("dim,quantity,slope,ci_low,ci_high,predicted,points,diverged\n");
        foreach (var r in rates)
            sb.AppendLine(string.Join(',', r.Dim, r.Quantity, F(r.Fit?.Slope ?? double.NaN), F(r.Fit?.Lower ?? double.NaN),
                F(r.Fit?.Upper ?? double.NaN), F(r.Predicted), r.Fit?.Points ?? 0, r.Diverged));
        return sb.ToString();
    }

    private static string RatesMarkdown(ParticleConfig c, int[] ns, int seeds, IEnumerable<RateRow> rates, IReadOnlyList<ParticleRun> runs)
    {
        var bandwidth = c.Bandwidth > 0 ? $"fixed h = {F(c.Bandwidth)}" : $"h = {F(c.BandwidthScale)}·N^(−1/(d+4))";
        var sb = new StringBuilder();
        sb.AppendLine($"# Finite-particle rates: {c.Field.Name()} field" + (c.Field == FieldKind.Conservative ? $", self term {c.SelfTerm.ToString().ToLowerInvariant()}" : $", τ = {F(c.Temperature)}"));
        sb.AppendLine();
        sb.AppendLine($"Target {c.Target}, start {c.Start}, {bandwidth}, anneal r = {F(c.Anneal)}, time T = {F(c.Time)}, "
            + $"N in {string.Join(", ", ns)}, {seeds} seed(s) each; {runs.Sum(r => r.Seconds):F0} s of runs in all.");
        sb.AppendLine();
        sb.AppendLine("| d | quantity | fitted slope vs N | 95% interval | predicted −1/(d+4) | runs | diverged |");
        sb.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var r in rates)
            sb.AppendLine(r.Fit is { } f
                ? $"| {r.Dim} | {r.Quantity} | {f.Slope:F3} | [{f.Lower:F3}, {f.Upper:F3}] | {r.Predicted:F3} | {f.Points} | {r.Diverged} |"
                : $"| {r.Dim} | {r.Quantity} | — | — | {r.Predicted:F3} | 0 | {r.Diverged} |");
        return sb.ToString();
    }
}
