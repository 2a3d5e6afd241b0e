using Drift.Data;
using Drift.Loss;
using Drift.Train.Training.Points;
using TorchSharp;
using static Drift.Tests.Tensors;
using static TorchSharp.torch;

namespace Drift.Tests;

/// <summary><c>drift field</c>'s arrows (<see cref="FieldView"/>) against the fields' formulas in explicit float64 loops:
/// computed in standardised coordinates at the scales annealed to the given progress, and carried back to data units
/// column by column, on data whose columns differ in scale by 10⁴.</summary>
[Trait("Category", "Numerics")]
public class FieldViewTests
{
    /// <summary>The conservative field with self terms left out, each scale at unit RMS, summed: Σ_h (V_h / RMS(V_h)),
    /// V_h(x_i) = (1/h²)(Σ_j softmax_j(−‖x_i − y_j‖²/2h²) y_j − Σ_{k≠i} softmax_k(−‖x_i − x_k‖²/2h²) x_k).</summary>
    private static double[,] Conservative(double[,] x, double[,] y, double[] hs)
    {
        int n = x.GetLength(0), d = x.GetLength(1);
        var sum = new double[n, d];
        foreach (var h in hs)
        {
            var v = new double[n, d];
            for (var i = 0; i < n; i++)
            {
                var q = Reference.Row(x, i);
                var data = Mean(y, j => -Reference.Distance2(y, j, q) / (2 * h * h), -1);
                var model = Mean(x, k => -Reference.Distance2(x, k, q) / (2 * h * h), i);
                for (var c = 0; c < d; c++) v[i, c] = (data[c] - model[c]) / (h * h);
            }
            var rms = Math.Sqrt(v.Cast<double>().Average(e => e * e));
            for (var i = 0; i < n; i++)
                for (var c = 0; c < d; c++) sum[i, c] += v[i, c] / rms;
        }
        return sum;
    }

    /// <summary>The softmax-weighted mean of the rows of <paramref name="a"/> but <paramref name="skip"/>.</summary>
    private static double[] Mean(double[,] a, Func<int, double> logit, int skip)
    {
        var rows = Enumerable.Range(0, a.GetLength(0)).Where(j => j != skip).ToArray();
        var logits = rows.Select(logit).ToArray();
        var max = logits.Max();
        var w = logits.Select(l => Math.Exp(l - max)).ToArray();
        var total = w.Sum();
        return Enumerable.Range(0, a.GetLength(1)).Select(c => rows.Select((j, r) => w[r] * a[j, c]).Sum() / total).ToArray();
    }

    [Fact]
    public void ArrowsAreEachFieldsVelocityInDataUnits()
    {
        var (g, seed) = Fresh();
        var random = new Random(seed);
        const int n = 40, p = 50, d = 3;
        var units = torch.tensor(new[] { 100.0, 0.01, 3.0 }, dtype: float32);
        var raw = (Randn(g, 400, d).to(float32) * units + 7).to(float32);
        var scale = Standardizer.Fit(raw);
        var samples = Randn(g, n, d, 1.2).to(float32);
        var positives = scale.Normalize(raw.narrow(0, 0, p));
        var progress = random.NextDouble();
        var conservative = new TrainConfig { Bandwidths = [0.3 + random.NextDouble(), 2.5], Anneal = 2 * random.NextDouble() };
        var laplace = new TrainConfig { Field = FieldKind.Laplace, Temperatures = [0.2 + random.NextDouble(), 1.7], Anneal = 0.5 };

        var view = FieldView.Compute([conservative, laplace], samples, positives, scale, progress);

        var (x, y, std) = (ToArray(samples.to(float64)), ToArray(positives.to(float64)), scale.Std);
        var expected = new[]
        {
            Conservative(x, y, conservative.Bandwidths.Select(h => h * conservative.ScaleAt(progress)).ToArray()),
            Reference.Laplace(x, y, null, laplace.Temperatures.Select(t => t * laplace.ScaleAt(progress)).ToArray(), normalize: true),
        };
        Assert.Equal(["conservative field", "laplace field"], view.Fields.Select(f => f.Field));
        for (var f = 0; f < 2; f++)
        {
            var v = view.Fields[f].Velocity;
            var rms = Math.Sqrt(expected[f].Cast<double>().Average(e => e * e));
            Assert.True(Math.Abs(view.Fields[f].Rms - rms) < 1e-4 * rms, $"seed {seed}, {view.Fields[f].Field}: RMS {view.Fields[f].Rms} against {rms}");
            for (var i = 0; i < n; i++)
                for (var c = 0; c < d; c++)
                    Assert.True(Math.Abs(v[i, c] - expected[f][i, c] * std[c]) < 1e-4 * rms * std[c],
                        $"seed {seed}, {view.Fields[f].Field}, sample {i}, column {c}: {v[i, c]} against {expected[f][i, c] * std[c]}");
        }
        var rawPositives = ToArray(raw.narrow(0, 0, p).to(float64));
        for (var c = 0; c < d; c++)
        {
            var tolerance = 1e-5 * (Math.Abs(scale.Mean[c]) + std[c]);
            for (var i = 0; i < n; i++)
                Assert.True(Math.Abs(view.Samples[i, c] - (x[i, c] * std[c] + scale.Mean[c])) < tolerance, $"seed {seed}: sample {i}, column {c} in data units");
            for (var j = 0; j < p; j++)
                Assert.True(Math.Abs(view.Positives[j, c] - rawPositives[j, c]) < tolerance, $"seed {seed}: positive {j}, column {c} in data units");
        }
    }
}
