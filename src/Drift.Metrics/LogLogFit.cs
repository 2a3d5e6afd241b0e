namespace Drift.Metrics;

/// <param name="Slope">b in log y = a + b log x.</param>
/// <param name="Lower">Lower end of the 95% confidence interval of the slope (Student t, n − 2 degrees of freedom).</param>
public sealed record SlopeFit(double Slope, double Intercept, double StdError, double Lower, double Upper, int Points);

/// <summary>Least-squares power-law fit y ≈ e^a x^b on log–log axes, with a confidence interval for b.</summary>
public static class LogLogFit
{
    public static SlopeFit Fit(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        if (x.Count != y.Count) throw new ArgumentException("x and y differ in length");
        var pairs = x.Zip(y).Where(p => p.First > 0 && p.Second > 0 && double.IsFinite(p.First) && double.IsFinite(p.Second))
            .Select(p => (X: Math.Log(p.First), Y: Math.Log(p.Second))).ToArray();
        var n = pairs.Length;
        if (n < 3 || pairs.Select(p => p.X).Distinct().Count() < 2)
            throw new ArgumentException("a slope with an interval needs at least 3 positive points at 2 or more x values");
        var (slope, intercept, residual, sxx) = LeastSquares(pairs);
        var se = Math.Sqrt(residual / (n - 2) / sxx);
        var t = StudentT975(n - 2);
        return new SlopeFit(slope, intercept, se, slope - t * se, slope + t * se, n);
    }

    /// <summary>
    /// Independent groups (seeds), each measured at the same x values: each group's own least-squares slope on
    /// log–log axes, then their mean ± t(0.975, G − 1)·sd/√G; <see cref="SlopeFit.Points"/> counts groups. The
    /// interval for a rate study: runs of one seed at different N start from the same first random draws, so they
    /// are correlated and the pooled interval of <see cref="Fit"/> (which assumes independent points) does not hold
    /// for them, while different seeds are independent. On complete groups the slope equals the pooled one.
    /// </summary>
    public static SlopeFit FitPerGroup(IReadOnlyList<(double[] X, double[] Y)> groups)
    {
        var fits = groups.Select(g =>
        {
            if (g.X.Length != g.Y.Length) throw new ArgumentException("x and y differ in length");
            if (g.X.Concat(g.Y).Any(v => !(v > 0) || !double.IsFinite(v))) throw new ArgumentException("a log–log fit needs positive finite values");
            if (g.X.Distinct().Count() < 2) throw new ArgumentException("each group needs 2 or more x values");
            return LeastSquares(g.X.Zip(g.Y, (x, y) => (Math.Log(x), Math.Log(y))).ToArray());
        }).ToArray();
        if (fits.Length < 2) throw new ArgumentException("an interval across groups needs at least 2 groups");
        var slopes = fits.Select(f => f.Slope).ToArray();
        var mean = slopes.Average();
        var se = Math.Sqrt(slopes.Sum(b => (b - mean) * (b - mean)) / (slopes.Length - 1) / slopes.Length);
        var t = StudentT975(slopes.Length - 1);
        return new SlopeFit(mean, fits.Average(f => f.Intercept), se, mean - t * se, mean + t * se, slopes.Length);
    }

    private static (double Slope, double Intercept, double Residual, double Sxx) LeastSquares((double X, double Y)[] pairs)
    {
        var mx = pairs.Average(p => p.X);
        var my = pairs.Average(p => p.Y);
        var sxx = pairs.Sum(p => (p.X - mx) * (p.X - mx));
        var slope = pairs.Sum(p => (p.X - mx) * (p.Y - my)) / sxx;
        var intercept = my - slope * mx;
        return (slope, intercept, pairs.Sum(p => Math.Pow(p.Y - intercept - slope * p.X, 2)), sxx);
    }

    /// <summary>The 97.5% quantile of Student's t (two-sided 95%), from tables; exact to 3 decimals.</summary>
    private static double StudentT975(int dof)
    {
        double[] table = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
            2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042];
        if (dof < 1) throw new ArgumentOutOfRangeException(nameof(dof));
        if (dof <= table.Length) return table[dof - 1];
        // Beyond 30 the quantile approaches 1.960 like 1.960 + 2.4/dof (within 0.002 of the tables).
        return 1.960 + 2.4 / dof;
    }
}
