namespace Drift.Tests;

/// <summary>Slow, explicit float64 loops written straight from the formulas: the yardstick for the
/// batched tensor code.</summary>
internal static class Reference
{
    public static double Distance2(double[,] a, int i, double[] q)
    {
        var s = 0.0;
        for (var k = 0; k < q.Length; k++) s += (a[i, k] - q[k]) * (a[i, k] - q[k]);
        return s;
    }

    /// <summary>Walks through the noise from the spherical interpolation's formula, float32 [rows·steps·d]: row r goes
    /// from ends[r] to ends[rows + r] as z(t) = (sin((1 − t)θ) a + sin(tθ) b) / sin θ, cos θ = a·b / (|a| |b|),
    /// t = 0, 1/(steps − 1), …, 1, times <paramref name="scale"/>.</summary>
    public static float[] Slerp(double[,] ends, int rows, int steps, double scale = 1)
    {
        var d = ends.GetLength(1);
        var noise = new float[rows * steps * d];
        for (var r = 0; r < rows; r++)
        {
            double Dot(int i, int j) => Enumerable.Range(0, d).Sum(c => ends[i, c] * ends[j, c]);
            var theta = Math.Acos(Dot(r, rows + r) / Math.Sqrt(Dot(r, r) * Dot(rows + r, rows + r)));
            for (var s = 0; s < steps; s++)
            {
                var t = s / (steps - 1.0);
                for (var c = 0; c < d; c++)
                    noise[(r * steps + s) * d + c] = (float)(scale * (Math.Sin((1 - t) * theta) * ends[r, c] + Math.Sin(t * theta) * ends[rows + r, c]) / Math.Sin(theta));
            }
        }
        return noise;
    }

    public static double[] Row(double[,] a, int i) => Enumerable.Range(0, a.GetLength(1)).Select(k => a[i, k]).ToArray();

    /// <summary>log Σ_j exp(−‖q − y_j‖²/2h²) over the rows of y not in <paramref name="skip"/>, computed stably.</summary>
    public static double LogKde(double[] q, double[,] y, double h, int skip = -1)
    {
        var terms = new List<double>();
        for (var j = 0; j < y.GetLength(0); j++)
            if (j != skip) terms.Add(-Distance2(y, j, q) / (2 * h * h));
        var max = terms.Max();
        return max + Math.Log(terms.Sum(t => Math.Exp(t - max)));
    }

    /// <summary>The Laplace field for every row of x, from the paper's formula with explicit loops.</summary>
    /// <param name="extra">Guidance negatives appended to the negatives; each entry of a model negative is then
    /// weighted 1 − γ and of an extra one γ·m/U (m: model negatives that count), the weights entering the
    /// row normalisation but not the column one.</param>
    /// <param name="rowsOnly">No column normalisation: each side's weighted kernel entries over their own row sum.</param>
    /// <param name="crossWeights">Off: the entries normalised over both axes, each side then over its own row sum.</param>
    public static double[,] Laplace(double[,] x, double[,] pos, double[,]? neg, double[] temps, bool normalize,
        double[,]? extra = null, double gamma = 0, bool rowsOnly = false, bool crossWeights = true)
    {
        int b = x.GetLength(0), d = x.GetLength(1), p = pos.GetLength(0);
        var model = neg ?? x;
        var m = model.GetLength(0) - (neg is null ? 1 : 0);
        var negs = extra is null ? model : Stack(model, extra);
        var q = negs.GetLength(0);
        double Weight(int j) => extra is null || j >= q ? 1 : j < model.GetLength(0) ? 1 - gamma : gamma * m / extra.GetLength(0);
        var total = new double[b, d];
        foreach (var tau in temps)
        {
            // logits over [negatives, positives]
            var logits = new double[b, q + p];
            for (var i = 0; i < b; i++)
            for (var j = 0; j < q + p; j++)
            {
                var dist = Math.Sqrt(j < q ? Distance2(negs, j, Row(x, i)) : Distance2(pos, j - q, Row(x, i)));
                logits[i, j] = neg is null && j == i ? double.NegativeInfinity : -dist / tau;
            }
            var rowLse = new double[b];
            var colLse = new double[q + p];
            for (var i = 0; i < b; i++) rowLse[i] = Lse(Enumerable.Range(0, q + p).Select(j => logits[i, j] + Math.Log(Weight(j))));
            for (var j = 0; j < q + p; j++) colLse[j] = Lse(Enumerable.Range(0, b).Select(i => logits[i, j]));
            var v = new double[b, d];
            for (var i = 0; i < b; i++)
            {
                double sumNeg = 0, sumPos = 0;
                var a = new double[q + p];
                for (var j = 0; j < q + p; j++)
                {
                    a[j] = Math.Exp(logits[i, j] - (rowsOnly ? rowLse[i] : 0.5 * (rowLse[i] + colLse[j]))) * Weight(j);
                    if (j < q) sumNeg += a[j]; else sumPos += a[j];
                }
                // The paper's cross weights: a side's entries times the other side's row sum; without them (and over
                // rows only), each side's entries over its own row sum.
                var (negFactor, posFactor) = crossWeights && !rowsOnly ? (sumPos, sumNeg) : (1 / sumNeg, 1 / sumPos);
                for (var j = 0; j < q + p; j++)
                for (var k = 0; k < d; k++)
                    v[i, k] += j < q ? -a[j] * negFactor * negs[j, k] : a[j] * posFactor * pos[j - q, k];
            }
            var rms = Math.Sqrt(v.Cast<double>().Sum(t => t * t) / (b * d));
            for (var i = 0; i < b; i++)
            for (var k = 0; k < d; k++)
                total[i, k] += normalize ? v[i, k] / rms : v[i, k];
        }
        return total;
    }

    public static double[,] Stack(double[,] a, double[,] b)
    {
        var r = new double[a.GetLength(0) + b.GetLength(0), a.GetLength(1)];
        for (var i = 0; i < r.GetLength(0); i++)
        for (var k = 0; k < r.GetLength(1); k++)
            r[i, k] = i < a.GetLength(0) ? a[i, k] : b[i - a.GetLength(0), k];
        return r;
    }

    private static double Lse(IEnumerable<double> values)
    {
        var v = values.ToArray();
        var max = v.Max();
        return double.IsNegativeInfinity(max) ? max : max + Math.Log(v.Sum(t => Math.Exp(t - max)));
    }

    /// <summary>Central finite-difference gradient of f at q.</summary>
    public static double[] Gradient(Func<double[], double> f, double[] q, double step = 1e-5)
    {
        var grad = new double[q.Length];
        for (var k = 0; k < q.Length; k++)
        {
            var up = (double[])q.Clone();
            var down = (double[])q.Clone();
            up[k] += step;
            down[k] -= step;
            grad[k] = (f(up) - f(down)) / (2 * step);
        }
        return grad;
    }

    /// <summary>Mean of ‖a_i − b_j‖ over all pairs.</summary>
    public static double MeanDistance(double[,] a, double[,] b)
    {
        var s = 0.0;
        for (var i = 0; i < a.GetLength(0); i++)
        for (var j = 0; j < b.GetLength(0); j++)
            s += Math.Sqrt(Distance2(b, j, Row(a, i)));
        return s / (a.GetLength(0) * (double)b.GetLength(0));
    }
}
