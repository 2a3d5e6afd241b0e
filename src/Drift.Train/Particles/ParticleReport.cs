using System.Globalization;
using System.Text;
using Drift.Loss;
using Drift.Train.Output;

namespace Drift.Train.Particles;

/// <summary>The folder of one particle run: trace.csv, curves.png (the trace) and particles.png (final positions).</summary>
public static class ParticleReport
{
    public static void Write(string dir, ParticleRun run)
    {
        var c = run.Config;
        Directory.CreateDirectory(dir);
        AtomicFile.WriteText(Path.Combine(dir, "trace.csv"), TraceCsv(run));
        var series = new List<(string, double[])>
        {
            ("mean squared velocity", run.Trace.Select(s => s.MeanSquaredVelocity).ToArray()),
            ("squared centre velocity", run.Trace.Select(s => s.CentreVelocity).ToArray()),
            ("smoothed Fisher discrepancy", run.Trace.Select(s => s.Fisher).ToArray()),
            ("energy distance to target", run.Trace.Select(s => s.Energy).ToArray()),
        };
        if (c.Field == FieldKind.Conservative)
            series.Add(("self weight", run.Trace.Select(s => s.SelfWeight ?? double.NaN).ToArray()));
        Plots.Trace(Path.Combine(dir, "curves.png"), $"{c.Field.Name()} particles, N={c.N}, d={c.Dim}",
            run.Trace.Select(s => s.Time).ToArray(), series);
        Plots.Samples(Path.Combine(dir, "particles.png"), ToFloat(run.TargetSample), ToFloat(run.Final),
            $"{c.Field.Name()} particles, N={c.N}, d={c.Dim}, t={run.Trace[^1].Time:g3}");
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
        var sb = new StringBuilder("step,time,bandwidth,mean_sq_velocity,centre_sq_velocity,self_weight,fisher,energy\n");
        foreach (var s in run.Trace)
            sb.AppendLine(string.Join(',', s.Step, F(s.Time), F(s.Bandwidth), F(s.MeanSquaredVelocity), F(s.CentreVelocity),
                s.SelfWeight is { } w ? F(w) : "", F(s.Fisher), F(s.Energy)));
        return sb.ToString();
    }
}
