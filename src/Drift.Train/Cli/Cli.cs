using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Serilog;
using Spectre.Console;
using ILogger = Microsoft.Extensions.Logging.ILogger;
using Drift.Train.RunFolders;
using Drift.Train.Distributed;
using Drift.Train.Training;

namespace Drift.Train.Cli;

/// <summary>What every command shares: error reporting, logging, and whether a person is watching.</summary>
public static class Cli
{
    /// <summary>Exit code for bad input.</summary>
    public const int UsageError = 2;

    /// <summary>A progress bar on a terminal, plain log lines otherwise (CI, pipes, files).</summary>
    public static bool Interactive =>
        !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive && Environment.GetEnvironmentVariable("CI") is null;

    /// <summary>The run folder's log file while a training command writes one (<see cref="Loggers"/>), kept until the command
    /// ends (<see cref="Run(Func{int}, bool)"/>) so that <see cref="Fail"/> can add the error that ended it after the factory
    /// that wrote the rest is gone. One command runs per process.</summary>
    private static Serilog.Core.Logger? runLog;

    /// <param name="logIn">A run's or a comparison's folder, whose <see cref="RunFiles.Log"/> gets every line too, with
    /// the date, appended to what earlier sessions wrote (Serilog's file sink, flushed line by line).</param>
    public static ILoggerFactory Loggers((string Dir, FolderKind Kind)? logIn = null)
    {
        // The log is appended to in place from the command's first line, so the folder's entries are checked first (a
        // FIFO at its name would block the open, a folder fail it), not only when the run begins.
        if (logIn is { } folder) OwnedFolder.CheckEntries(folder.Dir, folder.Kind);
        var runLogFile = logIn is { } f ? Path.Combine(f.Dir, RunFiles.Log) : null;
        return LoggerFactory.Create(b => Configure(b, runLogFile));
    }

    private static void Configure(ILoggingBuilder b, string? runLogFile)
    {
        if (Interactive)
        {
            b.AddProvider(new LiveConsoleLoggerProvider());
            b.AddFilter<LiveConsoleLoggerProvider>(FileOnly, LogLevel.None);
        }
        else
            b.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss ";
            });
        if (runLogFile is null) return;
        runLog?.Dispose();
        runLog = new LoggerConfiguration()
            .WriteTo.File(runLogFile, outputTemplate: "{Timestamp:yyyy-MM-dd HH:mm:ss} {Level:u3} {Message:lj}{NewLine}{Exception}",
                formatProvider: System.Globalization.CultureInfo.InvariantCulture)
            .CreateLogger();
        // Which command each session of the run was, and what ran it, in the file only (the console shows the command).
        runLog.Information("drift {Arguments:l}", string.Join(' ', Environment.GetCommandLineArgs().Skip(1)));
        runLog.Information("{Provenance:l}", Provenance.Describe());
        b.AddSerilog(runLog);
    }

    /// <summary>Runs a command body; any failure becomes one line on stderr and a non-zero exit.
    /// DRIFT_DEBUG=1 shows the stack trace of unexpected errors. Only the training commands run as several processes
    /// (<see cref="RunParallel"/>): any other started by mpiexec -n K would write its outputs K times.</summary>
    public static int Run(Func<int> body) => Run(body, parallel: false);

    /// <summary><see cref="Run"/> for a command that trains as one of the processes mpiexec started (or alone): it
    /// joins them first, and leaves them (MPI_Finalize) when every one has finished. A process that fails ends the
    /// others (MPI_Abort, <see cref="Fail"/>), which would otherwise wait for it in their next collective.</summary>
    public static int RunParallel(Func<DataParallel, int> body) => Run(() =>
    {
        var parallel = DataParallel.Start();
        var code = body(parallel);
        parallel.Dispose();
        return code;
    }, parallel: true);

    private static int Run(Func<int> body, bool parallel)
    {
        try
        {
            if (!parallel && DataParallel.LaunchedSize() > 1)
                throw new UserError("only drift train and drift train-images run as several processes (mpiexec -n K); start this command alone");
            return body();
        }
        // The signal's handler removed what this command was writing and ends the process (exit 130): not an error to report.
        catch (Exception) when (StopSignal.Ending)
        {
            Thread.Sleep(Timeout.Infinite);
            throw;
        }
        catch (Exception e) when (e is UserError or Drift.Data.DataError)
        {
            if (Environment.GetEnvironmentVariable("DRIFT_DEBUG") == "1") Console.Error.WriteLine(e.InnerException ?? e);
            return Fail(e.Message, UsageError);
        }
        // What the machine refused (a path, a permission, memory) is the user's to fix, like bad input.
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OutOfMemoryException || IsAllocationFailure(e))
        {
            if (Environment.GetEnvironmentVariable("DRIFT_DEBUG") == "1") Console.Error.WriteLine(e);
            var message = e.Message.Split('\n')[0].Trim();
            return Fail(e switch
            {
                UnauthorizedAccessException => $"permission denied: {message}",
                IOException => message,
                _ => $"out of memory: {message}; use a smaller batch or width",
            }, UsageError);
        }
        catch (Exception e)
        {
            if (Environment.GetEnvironmentVariable("DRIFT_DEBUG") == "1") Console.Error.WriteLine(e);
            var inner = e is TypeInitializationException { InnerException: { } i } ? i : e;
            var kind = inner is ExternalException ? "torch" : inner.GetType().Name;
            return Fail($"{kind}: {inner.Message.Split('\n')[0].Trim()}", 1);
        }
        finally
        {
            runLog?.Dispose();
            runLog = null;
        }
    }

    /// <summary>libtorch's allocator reports a failed allocation as an ExternalException ("can't allocate memory").</summary>
    private static bool IsAllocationFailure(Exception e) =>
        e is ExternalException && e.Message.Contains("allocate", StringComparison.OrdinalIgnoreCase);

    /// <summary>The category of the step lines that go to the run's log file only, while a progress bar shows them.</summary>
    private const string FileOnly = "drift.progress";

    /// <summary>Runs a training loop with a progress bar on a terminal, or a log line at each evaluation otherwise; the
    /// run's log file gets those lines either way.</summary>
    /// <param name="metric">Name of the evaluated metric in the reports (energy, fd).</param>
    public static T WithProgress<T>(long steps, long startStep, ILoggerFactory loggers, Func<Action<StepReport>, T> run, string metric = "energy")
    {
        // The pace counts the whole session, evaluations and checkpoints included, so that the time left includes theirs.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        void Line(ILogger log, StepReport r)
        {
            if (r.Metric is { } e)
                log.LogInformation("step {Step}/{Steps} loss {Loss:g4} {Metric} {Value:g4}{Pace}", r.Step, r.Steps, r.Loss, metric, e,
                    Pace(r.Step - startStep, clock.Elapsed.TotalSeconds, r.Steps - r.Step));
            else if (r.Loss is { } loss && r.Step % Math.Max(1, r.Steps / 20) == 0)
                log.LogInformation("step {Step}/{Steps} loss {Loss:g4}{Pace}", r.Step, r.Steps, loss,
                    Pace(r.Step - startStep, clock.Elapsed.TotalSeconds, r.Steps - r.Step));
        }
        if (!Interactive)
        {
            var log = loggers.CreateLogger("drift");
            return run(r => Line(log, r));
        }
        var fileOnly = loggers.CreateLogger(FileOnly);
        return AnsiConsole.Progress().AutoClear(false).Columns(new TaskDescriptionColumn(), new ProgressBarColumn(),
                new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("training", maxValue: steps);
                task.Value = startStep;
                return run(r =>
                {
                    task.Value = r.Step;
                    if (r.Loss is { } loss)
                        task.Description = $"step {r.Step} loss {loss:g4}" + (r.Metric is { } e ? $" {metric} {e:g3}" : "");
                    Line(fileOnly, r);
                });
            });
    }

    /// <summary>Runs work that counts up to <paramref name="total"/> (images drawn) and reports each count it reaches: a
    /// progress bar on a terminal, cleared when done; otherwise a line on stderr every <see cref="CountLines.Every"/>
    /// seconds while it lasts, so that a long silent command says it is working (stdout keeps only its result).</summary>
    public static T WithCount<T>(string what, long total, string unit, Func<Action<long>, T> run)
    {
        if (!Interactive)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            return run(new CountLines(what, total, unit, Console.Error.WriteLine, () => clock.Elapsed.TotalSeconds).Report);
        }
        return AnsiConsole.Progress().AutoClear(true).Columns(new TaskDescriptionColumn(), new ProgressBarColumn(),
                new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(what, maxValue: total);
                return run(done => task.Value = done);
            });
    }

    /// <summary>What a log line says of a run's speed: " (41.9 steps/s, 1 min 05 s left)" after <paramref name="done"/> steps
    /// in <paramref name="seconds"/> with <paramref name="left"/> to go (the time left only while some are); empty before
    /// the first step. <paramref name="unit"/> names what is counted, if not steps.</summary>
    public static string Pace(long done, double seconds, long left, string unit = "step")
    {
        if (done <= 0 || seconds <= 0) return "";
        var rate = done / seconds;
        var speed = rate >= 1 ? $"{rate:0.#} {unit}s/s" : $"{1 / rate:0.#} s/{unit}";
        if (left <= 0) return $" ({speed})";
        return $" ({speed}, {Duration(left / rate)} left)";
    }

    /// <summary>"1 h 05 min", "1 min 05 s" or "5 s", to the second: a time as log lines and listings say it.</summary>
    public static string Duration(double seconds)
    {
        var t = TimeSpan.FromSeconds(Math.Round(seconds));
        return t.TotalHours >= 1 ? $"{(int)t.TotalHours} h {t.Minutes:00} min" : t.TotalMinutes >= 1 ? $"{t.Minutes} min {t.Seconds:00} s" : $"{t.Seconds} s";
    }

    /// <summary>Ctrl+C stopped a run after saving a checkpoint: says how to continue, and gives the exit code 130 (SIGINT).</summary>
    public static int Interrupted(ILogger log, long step, string command, string dir)
    {
        log.LogWarning("interrupted at step {Step}; checkpoint saved, continue with: drift {Command} --resume {Dir}", step, command, dir);
        return 130;
    }

    public static int Fail(string message, int code)
    {
        var parallel = DataParallel.Current;
        Console.Error.WriteLine(parallel.Size > 1 ? $"drift (process {parallel.Rank} of {parallel.Size}): error: {message}" : $"drift: error: {message}");
        runLog?.Error("error: {Message:l}", message);
        parallel.Abort(code);
        return code;
    }
}
