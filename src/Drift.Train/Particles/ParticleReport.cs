using System.Globalization;
using System.Text;
using Drift.Loss;
using Drift.Particles;
using Drift.Train.Output;
using Drift.Train.RunFolders;

namespace Drift.Train.Particles;

/// <summary>The folders the particle lab writes: one run's trace.csv, curves.png (the trace) and particles.png
/// (final positions); a rate study's sweep.csv, rates.csv, rates.md and rates.png.</summary>
public static class ParticleReport
{
    public static void Write(string dir, ParticleRun run)
    {
        var c = run.Config;
        OwnedFolder.Mark(dir, FolderKind.Particles);
        AtomicFile.WriteText(Path.Combine(dir, FolderKind.ParticleTrace), TraceCsv(run));
        var series = new List<(string, double[])>
        {
            ("mean squared velocity", run.Trace.Select(s => s.MeanSquaredVelocity).ToArray()),
            ("squared centre velocity", run.Trace.Select(s => s.CentreVelocity).ToArray()),
            ("smoothed Fisher discrepancy", run.Trace.Select(s => s.Fisher).ToArray()),
            ("energy distance to target", run.Trace.Select(s => s.Energy).ToArray()),
        };
        if (c.Field.Takes(FieldKnob.SelfTerm))
            series.Add(("self weight", run.Trace.Select(s => s.SelfWeight ?? double.NaN).ToArray()));
        Plots.Trace(Path.Combine(dir, FolderKind.ParticleCurves), $"{c.Field.Name} particles, N={c.N}, d={c.Dim}",
            run.Trace.Select(s => s.Time).ToArray(), series);
        Plots.Samples(Path.Combine(dir, FolderKind.ParticlePositions), ToFloat(run.TargetSample), ToFloat(run.Final),
            $"{c.Field.Name} particles, N={c.N}, d={c.Dim}, t={run.Trace[^1].Time:g3}");
    }

    private static float[,] ToFloat(double[,] a)
    {
        var f = new float[a.GetLength(0), a.GetLength(1)];
        for (var i = 0; i < a.GetLength(0); i++)
            for (var j = 0; j < a.GetLength(1); j++)
                f[i, j] = (float)a[i, j];
        return f;
    }

    private static string TraceCsv(ParticleRun run)
    {
        static string F(double v) => v.ToString("G6", CultureInfo.InvariantCulture);
        var sb = new StringBuilder("step,time,bandwidth,mean_sq_velocity,centre_sq_velocity,self_weight,fisher,energy,mode_mass_error\n");
        foreach (var s in run.Trace)
            sb.AppendLine(string.Join(',', s.Step, F(s.Time), F(s.Bandwidth), F(s.MeanSquaredVelocity), F(s.CentreVelocity),
                s.SelfWeight is { } w ? F(w) : "", F(s.Fisher), F(s.Energy), s.ModeMassError is { } m ? F(m) : ""));
        return sb.ToString();
    }

    public static void WriteRates(string dir, ParticleConfig baseConfig, int[] ns, int seeds, RateStudyResult study)
    {
        OwnedFolder.Mark(dir, FolderKind.Particles);
        AtomicFile.WriteText(Path.Combine(dir, FolderKind.RateSweep), SweepCsv(study.Runs));
        AtomicFile.WriteText(Path.Combine(dir, FolderKind.RatesCsv), RatesCsv(study.Rates));
        AtomicFile.WriteText(Path.Combine(dir, FolderKind.RatesMarkdown), RatesMarkdown(baseConfig, ns, seeds, study.Rates, study.Runs));
        Plots.Rates(Path.Combine(dir, FolderKind.RatesPlot), Panels(study.Runs, study.Rates));
    }

    /// <summary>Per quantity, each dimension's finished runs against N with their fit.</summary>
    private static RatePanel[] Panels(IReadOnlyList<ParticleRun> runs, IReadOnlyList<RateRow> rates)
    {
        var dims = runs.Select(r => r.Config.Dim).Distinct().Order().ToArray();
        return RateStudy.Quantities.Where(q => rates.Any(r => r.Quantity == q.Name)).Select(q => new RatePanel(q.Name, dims.Select(d =>
        {
            var ok = runs.Where(r => r.Config.Dim == d && r.Diverged is null).ToArray();
            var row = rates.FirstOrDefault(r => r.Dim == d && r.Quantity == q.Name);
            var label = row?.Fit is { } fit ? $"d={d}: slope {fit.Slope:F3} (bound {row.Predicted:F3})" : $"d={d}";
            return new RateSeries(label, ok.Select(r => (double)r.Config.N).ToArray(), ok.Select(q.Value).ToArray(), row?.Fit, row?.Predicted);
        }).ToArray())).ToArray();
    }

    private static string F(double v) => v.ToString("G6", CultureInfo.InvariantCulture);

    private static string SweepCsv(IEnumerable<ParticleRun> runs)
    {
        var sb = new StringBuilder("dim,n,seed,bandwidth,eta,steps,root_time_avg_velocity,root_late_velocity,root_fisher,energy,quadrature_gap,diverged_step,seconds\n");
        foreach (var r in runs)
            sb.AppendLine(string.Join(',', r.Config.Dim, r.Config.N, r.Config.Seed, F(r.Config.InitialBandwidth), F(r.Eta), r.Steps,
                F(r.RootTimeAveragedVelocity), F(r.RootLateVelocity), F(r.RootFisher), F(r.Energy), r.QuadratureGap is { } q ? F(q) : "",
                r.Diverged?.Step.ToString(CultureInfo.InvariantCulture) ?? "", F(r.Seconds)));
        return sb.ToString();
    }

    private static string RatesCsv(IEnumerable<RateRow> rates)
    {
        var sb = new StringBuilder("dim,quantity,slope,seed_ci_low,seed_ci_high,seeds,pooled_ci_low,pooled_ci_high,predicted,points,diverged\n");
        foreach (var r in rates)
            sb.AppendLine(string.Join(',', r.Dim, r.Quantity, F(r.Fit?.Slope ?? double.NaN), F(r.PerSeed?.Lower ?? double.NaN),
                F(r.PerSeed?.Upper ?? double.NaN), r.PerSeed?.Points ?? 0, F(r.Fit?.Lower ?? double.NaN),
                F(r.Fit?.Upper ?? double.NaN), F(r.Predicted), r.Fit?.Points ?? 0, r.Diverged));
        return sb.ToString();
    }

    private static string RatesMarkdown(ParticleConfig c, int[] ns, int seeds, IEnumerable<RateRow> rates, IReadOnlyList<ParticleRun> runs)
    {
        var bandwidth = c.Bandwidth > 0 ? $"fixed h = {F(c.Bandwidth)}"
            : c.Beta > 0 ? $"h = {F(c.BandwidthScale)}·N^(−1/(d+4−β)), β = {F(c.Beta)}" : $"h = {F(c.BandwidthScale)}·N^(−1/(d+4))";
        var sb = new StringBuilder();
        var title = $"# Finite-particle rates: {c.Field.Name} field";
        if (c.Field.Takes(FieldKnob.SelfTerm)) title += $", self term {c.SelfTerm.ToString().ToLowerInvariant()}";
        if (c.Field.Scale == FieldScale.Temperature) title += $", τ = {F(c.Temperature)}";
        else if (c.Field.ExactVelocity is null) title += $", M = {(c.TargetSamples > 0 ? c.TargetSamples.ToString() : "N")} target samples";
        sb.AppendLine(title);
        sb.AppendLine();
        sb.AppendLine($"Target {c.Target}, start {c.Start}, {bandwidth}, anneal r = {F(c.Anneal)}, time T = {F(c.Time)}, "
            + $"N in {string.Join(", ", ns)}, {seeds} seed(s) each; {runs.Sum(r => r.Seconds):F0} s of runs in all.");
        sb.AppendLine();
        sb.AppendLine("Slopes: least squares of log(quantity) on log N over every finished run of a dimension. The 95% interval is "
            + "per seed: each seed's own slope over N, then their mean ± t(0.975, seeds − 1)·sd/√seeds, over the seeds finished "
            + "at every N. Runs of one seed at different N share their first random draws, so the pooled interval "
            + "(slope ± t(0.975, runs − 2)·SE, which assumes independent runs) is shown for comparison only. The bound's "
            + "exponent −(2−β)/(2(d+4−β)) is the theorem's for the root velocities (−1/(d+4) at β = 0); other rows show it for comparison only.");
        sb.AppendLine();
        sb.AppendLine("| d | quantity | fitted slope vs N | 95% interval (per seed) | half-width | seeds | pooled interval | bound's exponent | runs | diverged |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in rates)
        {
            var seedCells = r.PerSeed is { } p ? $"[{p.Lower:F3}, {p.Upper:F3}] | {(p.Upper - p.Lower) / 2:F3} | {p.Points}" : "— | — | 0";
            sb.AppendLine(r.Fit is { } f
                ? $"| {r.Dim} | {r.Quantity} | {f.Slope:F3} | {seedCells} | [{f.Lower:F3}, {f.Upper:F3}] | {r.Predicted:F3} | {f.Points} | {r.Diverged} |"
                : $"| {r.Dim} | {r.Quantity} | — | {seedCells} | — | {r.Predicted:F3} | 0 | {r.Diverged} |");
        }
        return sb.ToString();
    }
}
