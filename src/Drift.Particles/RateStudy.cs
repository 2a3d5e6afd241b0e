using Drift.Metrics;

namespace Drift.Particles;

/// <summary>One quantity's fitted exponent against N, in one dimension.</summary>
/// <param name="Fit">Least squares over every finished run, with the interval that assumes them independent.</param>
/// <param name="PerSeed">The interval from the seeds' own slopes (<see cref="LogLogFit.FitPerGroup"/>), over the seeds
/// that finished at every N: the one that holds, as runs of one seed share their first draws. Null below 2 such seeds.</param>
/// <param name="NoFit">Why there is no fit (too few finished runs, no spread in N), or null.</param>
public sealed record RateRow(int Dim, string Quantity, SlopeFit? Fit, SlopeFit? PerSeed, double Predicted, int Diverged, string? NoFit);

/// <summary>Every run of a rate study, and the fits.</summary>
public sealed record RateStudyResult(IReadOnlyList<ParticleRun> Runs, IReadOnlyList<RateRow> Rates);

/// <summary>
/// The finite-particle rate study: runs every (N, d, seed) of a grid and fits, per dimension and quantity,
/// the log–log slope against N with its 95% interval, next to the bound's exponent −(2−β)/(2(d+4−β)).
/// </summary>
public static class RateStudy
{
    public static readonly (string Name, Func<ParticleRun, double> Value)[] Quantities =
    [
        ("root time-averaged velocity", r => r.RootTimeAveragedVelocity),
        ("root late velocity", r => r.RootLateVelocity),
        ("root smoothed Fisher", r => r.RootFisher),
        ("energy distance", r => r.Energy),
        ("quadrature gap", r => r.QuadratureGap ?? double.NaN),
    ];

    /// <param name="onRun">Told one line per finished run.</param>
    public static RateStudyResult Run(ParticleConfig baseConfig, int[] ns, int[] dims, int seeds, Action<string> onRun)
    {
        var runs = new List<ParticleRun>();
        foreach (var d in dims)
        foreach (var n in ns)
        for (var s = 0; s < seeds; s++)
        {
            var run = ParticleSystem.Run(baseConfig with { Dim = d, N = n, Seed = baseConfig.Seed + s });
            runs.Add(run);
            onRun($"d={d} N={n} seed {run.Config.Seed}: h={run.Config.InitialBandwidth:g3} {run.Steps} steps, velocity {run.RootTimeAveragedVelocity:g3}"
                + (run.Diverged is { } div ? $", diverged at step {div.Step}" : "") + $" ({run.Seconds:F1} s)");
        }

        var rates = new List<RateRow>();
        foreach (var d in dims)
        {
            var ok = runs.Where(r => r.Config.Dim == d && r.Diverged is null).ToArray();
            var diverged = runs.Count(r => r.Config.Dim == d && r.Diverged is not null);
            // The quadrature gap exists only for a field with an exact velocity against an analytic target.
            foreach (var (name, value) in Quantities.Where(q => runs.Any(r => double.IsFinite(q.Value(r)))))
            {
                SlopeFit? fit = null, perSeed = null;
                string? noFit = null;
                try { fit = LogLogFit.Fit(ok.Select(r => (double)r.Config.N).ToArray(), ok.Select(value).ToArray()); }
                catch (ArgumentException e) { noFit = e.Message; }
                var complete = ok.GroupBy(r => r.Config.Seed).Where(g => g.Count() == ns.Length && g.All(r => value(r) > 0))
                    .Select(g => (g.Select(r => (double)r.Config.N).ToArray(), g.Select(value).ToArray())).ToArray();
                if (complete.Length >= 2 && ns.Distinct().Count() >= 2) perSeed = LogLogFit.FitPerGroup(complete);
                rates.Add(new RateRow(d, name, fit, perSeed, ParticleConfig.PredictedRate(d, baseConfig.Beta), diverged, noFit));
            }
        }

        return new RateStudyResult(runs, rates);
    }
}
