using Drift.Train.Training;
using ScottPlot;

namespace Drift.Train.Output;

/// <summary>The PNGs a run and <c>drift sample</c> write. Each is written atomically.</summary>
public static class Plots
{
    /// <summary>Data (grey) against generated samples (blue): the first two coordinates, or a histogram
    /// of both for one-dimensional data.</summary>
    public static void Samples(string path, float[,] data, float[,] generated, string title)
    {
        var plt = new Plot();
        plt.Title(title);
        if (generated.GetLength(1) == 1)
        {
            AddHistogram(plt, Column(data, 0), Colors.Gray.WithAlpha(0.6), "data");
            AddHistogram(plt, Column(generated, 0), Colors.Blue.WithAlpha(0.5), "generated");
            plt.YLabel("density");
        }
        else
        {
            AddPoints(plt, data, Colors.Gray.WithAlpha(0.5), "data");
            AddPoints(plt, generated, Colors.Blue.WithAlpha(0.5), "generated");
            plt.Axes.SquareUnits();
        }
        plt.ShowLegend(Alignment.UpperRight);
        AtomicFile.Write(path, tmp => plt.SavePng(tmp, 800, 800));
    }

    /// <summary>Left: energy distance to held-out data with the data-vs-data floor. Right: the loss and
    /// field RMS. Both on log axes.</summary>
    public static void Curves(string path, IReadOnlyList<MetricsRow> rows, IReadOnlyList<double> scales, double floor, string title)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        var quality = multiplot.GetPlot(0);
        var field = multiplot.GetPlot(1);

        var evals = rows.Where(r => r.Energy is > 0).ToArray();
        quality.Title($"{title}: energy distance to held-out data");
        AddLogLine(quality, evals.Select(r => (double)r.Step), evals.Select(r => r.Energy!.Value), "generated vs held-out");
        if (floor > 0 && evals.Length > 0)
            AddLogLine(quality, [evals[0].Step, evals[^1].Step], [floor, floor], "data vs held-out (floor)").LinePattern = LinePattern.Dashed;

        field.Title("drift loss and field RMS");
        var steps = rows.Select(r => (double)r.Step).ToArray();
        AddLogLine(field, steps, rows.Select(r => r.Loss), "loss");
        for (var s = 0; s < scales.Count; s++)
            AddLogLine(field, steps, rows.Select(r => r.ScaleRms[s]), $"RMS of V at scale {scales[s]:g3}");

        foreach (var plt in new[] { quality, field })
        {
            plt.XLabel("step");
            plt.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
            {
                MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
                IntegerTicksOnly = true,
                LabelFormatter = y => Math.Pow(10, y).ToString("g3"),
            };
            plt.ShowLegend(Alignment.UpperRight);
        }
        AtomicFile.Write(path, tmp => multiplot.SavePng(tmp, 1400, 560));
    }

    private static ScottPlot.Plottables.Scatter AddLogLine(Plot plt, IEnumerable<double> xs, IEnumerable<double> ys, string label)
    {
        var pairs = xs.Zip(ys).Where(p => p.Second > 0 && double.IsFinite(p.Second)).ToArray();
        var line = plt.Add.ScatterLine(pairs.Select(p => p.First).ToArray(), pairs.Select(p => Math.Log10(p.Second)).ToArray());
        line.LegendText = label;
        line.LineWidth = 2;
        return line;
    }

    private static void AddPoints(Plot plt, float[,] points, Color color, string label)
    {
        var xs = Column(points, 0);
        var ys = Column(points, 1);
        var scatter = plt.Add.ScatterPoints(xs, ys, color);
        scatter.MarkerSize = 3;
        scatter.LegendText = label;
    }

    private static void AddHistogram(Plot plt, double[] values, Color color, string label)
    {
        var hist = ScottPlot.Statistics.Histogram.WithBinCount(80, values);
        plt.Add.Histogram(hist, color);
        plt.Legend.ManualItems.Add(new LegendItem { LabelText = label, FillColor = color });
    }

    private static double[] Column(float[,] points, int j) =>
        Enumerable.Range(0, points.GetLength(0)).Select(i => (double)points[i, j]).ToArray();
}
