namespace Drift.Train.Cli;

/// <summary>The lines <see cref="Cli.WithCount"/> writes where no progress bar can be drawn: "drawing images 20000/60000
/// (1650 images/s, 24 s left)", at most one every <see cref="Every"/> seconds of the clock, none once the count is
/// complete (the command's result says so).</summary>
public sealed class CountLines(string what, long total, string unit, Action<string> write, Func<double> seconds)
{
    /// <summary>Seconds between lines, and before the first: a command that ends sooner writes none.</summary>
    public const double Every = 10;

    private double last;

    public void Report(long done)
    {
        var now = seconds();
        if (done >= total || now - last < Every) return;
        last = now;
        write($"{what} {done}/{total}{Cli.Pace(done, now, total - done, unit)}");
    }
}
