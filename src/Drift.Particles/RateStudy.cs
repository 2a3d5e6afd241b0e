using Drift.Metrics;

namespace Drift.Particles;

/// <summary>One quantity's fitted exponent against N, in one dimension.</summary>
/// <param name="NoFit">Why there is no fit (too few finished runs, no spread in N), or null.</param>
public sealed record RateRow(int Dim, string Quantity, SlopeFit? Fit, double Predicted, int Diverged, string? NoFit);

/// <summary>Every run of a rate study, and the fits.</summary>
public sealed record RateStudyResult(IReadOnlyList<ParticleRun> Runs, IReadOnlyList<RateRow> Rates);

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
                string? noFit = null;
                try { fit = LogLogFit.Fit(ok.Select(r => (double)r.Config.N).ToArray(), ok.Select(value).ToArray()); }
                catch (ArgumentException e) { noFit = e.Message; }
                rates.Add(new RateRow(d, name, fit, -1.0 / (d + 4), diverged, noFit));
            }
        }

        return new RateStudyResult(runs, rates);
    }
}
