using Drift.Data;
using Drift.Metrics;
using ScottPlot;
using Drift.Train.RunFolders;

namespace Drift.Train.Output;

/// <summary>One series of a rate panel: a quantity against particle count N, and its fitted power law.</summary>
/// <param name="Predicted">The theory's exponent, drawn dashed through the fit's centre; null: none.</param>
public sealed record RateSeries(string Label, double[] N, double[] Values, SlopeFit? Fit, double? Predicted);

/// <summary>One quantity of a rate study, one series per dimension.</summary>
public sealed record RatePanel(string Title, IReadOnlyList<RateSeries> Series);

/// <summary>The PNGs a run and <c>drift sample</c> write. Each is written atomically.</summary>
public static class Plots
{
    /// <summary>Data (grey) against generated samples (blue): the first two coordinates, or a histogram
    /// of both for one-dimensional data.</summary>
    /// <param name="columns">The data's column names for the axes; null: x0, x1.</param>
    public static void Samples(string path, float[,] data, float[,] generated, string title, string[]? columns = null)
    {
        var plt = new Plot();
        plt.Title(title);
        AddSampleLayers(plt, data, generated, columns);
        AtomicFile.Write(path, tmp => plt.SavePng(tmp, 800, 800));
    }

    private static void AddSampleLayers(Plot plt, float[,] data, float[,] generated, string[]? columns)
    {
        var dim = generated.GetLength(1);
        var names = PointData.ColumnNames(columns, dim);
        if (dim == 1)
        {
            AddHistogram(plt, Column(data, 0), Colors.Gray.WithAlpha(0.6), "data");
            AddHistogram(plt, Column(generated, 0), Colors.Blue.WithAlpha(0.5), "generated");
            plt.XLabel(names[0]);
            plt.YLabel("density");
        }
        else
        {
            AddPoints(plt, data, Colors.Gray.WithAlpha(0.5), "data");
            AddPoints(plt, generated, Colors.Blue.WithAlpha(0.5), "generated");
            plt.Axes.SquareUnits();
            // Points of more dimensions are shown by their first two coordinates: the axes say so.
            plt.XLabel(dim > 2 ? $"{names[0]} (the first 2 of {dim} dimensions)" : names[0]);
            plt.YLabel(names[1]);
        }
        plt.ShowLegend(Alignment.UpperRight);
    }

    /// <summary>Left: energy distance to held-out data with the data-vs-data floor. Right: the loss and
    /// field RMS. Both on log axes.</summary>
    /// <param name="scaleLabels">One label per bandwidth or temperature column of the rows.</param>
    public static void Curves(string path, IReadOnlyList<LoggedStep> rows, IReadOnlyList<string> scaleLabels, double floor, string title)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        var quality = multiplot.GetPlot(0);
        var field = multiplot.GetPlot(1);

        var evals = rows.Where(r => r.Metric is > 0).ToArray();
        quality.Title($"{title}: energy distance to held-out data");
        AddLogLine(quality, evals.Select(r => (double)r.Step), evals.Select(r => r.Metric!.Value), "generated vs held-out");
        if (floor > 0 && evals.Length > 0)
            AddLogLine(quality, [evals[0].Step, evals[^1].Step], [floor, floor], "data vs held-out (floor)").LinePattern = LinePattern.Dashed;

        field.Title("drift loss and field RMS");
        var steps = rows.Select(r => (double)r.Step).ToArray();
        AddLogLine(field, steps, rows.Select(r => r.Loss), "loss");
        for (var s = 0; s < scaleLabels.Count; s++)
            AddLogLine(field, steps, rows.Select(r => r.ScaleRms[s]), $"RMS of V at scale {scaleLabels[s]}");

        foreach (var plt in new[] { quality, field })
        {
            plt.XLabel("step");
            LogAxes(plt, logX: false);
        }
        AtomicFile.Write(path, tmp => multiplot.SavePng(tmp, 1400, 560));
    }

    /// <summary>The evaluated metric (energy distance, FD) of each field's runs against step and against wall
    /// time: the mean over seeds at each evaluation, one line per field, with the data-vs-data floor.</summary>
    public static void Comparison(string path, IReadOnlyList<(string Field, IReadOnlyList<IReadOnlyList<LoggedStep>> Runs)> fields,
        double floor, string title, string metric)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        var byStep = multiplot.GetPlot(0);
        var byWall = multiplot.GetPlot(1);
        foreach (var (field, runs) in fields)
        {
            var evals = runs.Select(r => r.Where(m => m.Metric is not null).ToArray()).ToArray();
            var count = evals.Min(e => e.Length);
            var steps = Enumerable.Range(0, count).Select(i => (double)evals[0][i].Step).ToArray();
            var wall = Enumerable.Range(0, count).Select(i => evals.Average(e => e[i].WallSeconds)).ToArray();
            var energy = Enumerable.Range(0, count).Select(i => evals.Average(e => e[i].Metric!.Value)).ToArray();
            AddLogLine(byStep, steps, energy, field);
            AddLogLine(byWall, wall, energy, field);
        }
        foreach (var (plt, axis) in new[] { (byStep, "step"), (byWall, "wall time, s") })
        {
            plt.Title($"{title}: {metric} to held-out data");
            if (floor > 0) plt.Add.HorizontalLine(Math.Log10(floor), 1, Colors.Gray, LinePattern.Dashed).LegendText = "data vs held-out (floor)";
            plt.XLabel(axis);
            LogAxes(plt, logX: false);
        }
        AtomicFile.Write(path, tmp => multiplot.SavePng(tmp, 1400, 560));
    }

    /// <summary>One scatter panel per field: held-out data (grey) against that field's samples.</summary>
    public static void SideBySide(string path, float[,] data, IReadOnlyList<(string Field, float[,] Samples)> fields, string title,
        string[]? columns = null) => Panels(path, fields.Count, (plt, i) =>
    {
        plt.Title($"{title}: {fields[i].Field}");
        AddSampleLayers(plt, data, fields[i].Samples, columns);
    });

    /// <summary>One panel per field: data (grey) and samples (blue), as <see cref="Samples"/> draws them, and at each
    /// sample an arrow along that field's velocity there, of the first two coordinates. Arrows are drawn to one scale a
    /// panel, the longest 30 pixels, and the few longest (past the 95th percentile of lengths) capped at it, so that an
    /// isolated sample's large push does not shrink the rest to dots.</summary>
    public static void Fields(string path, float[,] data, float[,] samples, IReadOnlyList<(string Title, float[,] Velocity)> fields,
        string[]? columns = null) => Panels(path, fields.Count, (plt, f) =>
    {
        plt.Title(fields[f].Title);
        AddSampleLayers(plt, data, samples, columns);
        var v = fields[f].Velocity;
        var n = v.GetLength(0);
        var lengths = Enumerable.Range(0, n).Select(i => Math.Sqrt(v[i, 0] * v[i, 0] + v[i, 1] * v[i, 1])).ToArray();
        var cap = lengths.Order().ElementAt((int)(0.95 * (n - 1)));
        var arrows = Enumerable.Range(0, n).Select(i =>
        {
            var shrink = lengths[i] > cap && cap > 0 ? cap / lengths[i] : 1;
            return new RootedCoordinateVector(new Coordinates(samples[i, 0], samples[i, 1]),
                new System.Numerics.Vector2((float)(v[i, 0] * shrink), (float)(v[i, 1] * shrink)));
        }).ToList();
        var field = plt.Add.VectorField(arrows);
        field.MaximumArrowLength = 30;
        field.ArrowLineColor = Colors.DarkRed.WithAlpha(0.7);
        field.ArrowLineWidth = 1;
    });

    /// <summary>One 700×700 panel a field, left to right, each drawn by <paramref name="draw"/>(its plot, its index).</summary>
    private static void Panels(string path, int count, Action<Plot, int> draw)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(count);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        for (var i = 0; i < count; i++)
            draw(multiplot.GetPlot(i), i);
        AtomicFile.Write(path, tmp => multiplot.SavePng(tmp, 700 * count, 700));
    }

    /// <summary>Quantities against time, each a line on a log axis (a particle run's trace).</summary>
    public static void Trace(string path, string title, double[] time, IReadOnlyList<(string Label, double[] Values)> series)
    {
        var plt = new Plot();
        plt.Title(title);
        foreach (var (label, values) in series)
            AddLogLine(plt, time, values, label);
        plt.XLabel("time t = step·η");
        LogAxes(plt, logX: false);
        AtomicFile.Write(path, tmp => plt.SavePng(tmp, 1000, 600));
    }

    /// <summary>One panel per quantity: the runs against N on log–log axes, a fitted line per dimension.</summary>
    public static void Rates(string path, IReadOnlyList<RatePanel> panels)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(panels.Count);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        for (var q = 0; q < panels.Count; q++)
        {
            var plt = multiplot.GetPlot(q);
            plt.Title(panels[q].Title);
            for (var i = 0; i < panels[q].Series.Count; i++)
            {
                var (label, n, values, fit, predicted) = panels[q].Series[i];
                var color = plt.Add.Palette.GetColor(i);
                var points = plt.Add.ScatterPoints(n.Select(Math.Log10).ToArray(), values.Select(Math.Log10).ToArray(), color);
                points.LegendText = label;
                if (fit is null || n.Length == 0) continue;
                double lo = n.Min(Math.Log), hi = n.Max(Math.Log);
                var line = plt.Add.ScatterLine(new[] { lo / Math.Log(10), hi / Math.Log(10) },
                    new[] { (fit.Intercept + fit.Slope * lo) / Math.Log(10), (fit.Intercept + fit.Slope * hi) / Math.Log(10) }, color);
                line.LineWidth = 2;
                if (predicted is not { } p) continue;
                var mid = (lo + hi) / 2;
                var centre = fit.Intercept + fit.Slope * mid;
                var theory = plt.Add.ScatterLine(new[] { lo / Math.Log(10), hi / Math.Log(10) },
                    new[] { (centre + p * (lo - mid)) / Math.Log(10), (centre + p * (hi - mid)) / Math.Log(10) }, color);
                theory.LinePattern = LinePattern.Dashed;
            }
            plt.XLabel("N (solid: fit; dashed: the bound's slope)");
            LogAxes(plt, logX: true);
        }
        AtomicFile.Write(path, tmp => multiplot.SavePng(tmp, 480 * panels.Count, 480));
    }

    private static void LogAxes(Plot plt, bool logX)
    {
        ScottPlot.TickGenerators.NumericAutomatic Log() => new()
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = v => Math.Pow(10, v).ToString("g3"),
        };
        plt.Axes.Left.TickGenerator = Log();
        if (logX) plt.Axes.Bottom.TickGenerator = Log();
        plt.ShowLegend(Alignment.UpperRight);
    }

    private static ScottPlot.Plottables.Scatter AddLogLine(Plot plt, IEnumerable<double> xs, IEnumerable<double> ys, string label)
    {
        var pairs = xs.Zip(ys).Where(p => p.Second > 0 && double.IsFinite(p.Second)).ToArray();
        var line = plt.Add.ScatterLine(pairs.Select(p => p.First).ToArray(), pairs.Select(p => Math.Log10(p.Second)).ToArray());
        line.LegendText = label;
        line.LineWidth = 2;
        // Markers on short series, so that a run with a single evaluation still shows it.
        line.MarkerSize = pairs.Length <= 30 ? 6 : 0;
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
