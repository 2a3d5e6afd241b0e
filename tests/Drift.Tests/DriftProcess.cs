using System.Diagnostics;

namespace Drift.Tests;

/// <summary>The drift program as a separate process, as a user runs it: plain log lines (CI is set), output captured.</summary>
internal static class DriftProcess
{
    public static readonly string Dll = typeof(Drift.Train.UserError).Assembly.Location;

    /// <summary>Starts drift (stdout and stderr redirected, for the caller to read). Through <c>env
    /// --default-signal=INT</c>, which execs in place (same pid): a test run started in the background by a
    /// non-interactive shell inherits SIGINT as ignored, as Unix has background jobs do, and drift would then
    /// never see the tests' Ctrl+C.</summary>
    /// <param name="processes">More than 1: as that many processes of one run, under MPICH's mpiexec (mpiexec.mpich: plain mpiexec may be Open MPI's).</param>
    /// <param name="environment">Variables set for drift beyond the tests' own.</param>
    public static Process Start(IEnumerable<string> args, string? workingDirectory = null, int processes = 1,
        IReadOnlyDictionary<string, string>? environment = null) =>
        Start(processes > 1 ? ["mpiexec.mpich", "-n", processes.ToString(), "dotnet", Dll, .. args] : ["dotnet", Dll, .. args], workingDirectory,
            environment);

    private static Process Start(IEnumerable<string> command, string? workingDirectory, IReadOnlyDictionary<string, string>? environment)
    {
        var start = new ProcessStartInfo("env") { RedirectStandardOutput = true, RedirectStandardError = true };
        if (workingDirectory is not null) start.WorkingDirectory = workingDirectory;
        start.ArgumentList.Add("--default-signal=INT");
        foreach (var a in command) start.ArgumentList.Add(a);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        start.Environment["CI"] = "1";
        // The runtime's debugger pipes and diagnostics socket in /tmp outlive a process the tests kill; without them a
        // killed drift leaves nothing behind.
        start.Environment["DOTNET_EnableDiagnostics"] = "0";
        return Process.Start(start)!;
    }

    /// <summary>Runs drift to the end: exit code, stdout, stderr. A process still running after <paramref name="timeout"/>
    /// (default ten minutes) is killed and reported as a hang, exit code -1.</summary>
    public static (int Code, string Out, string Err) Run(IEnumerable<string> args, string? workingDirectory = null, TimeSpan? timeout = null,
        int processes = 1, IReadOnlyDictionary<string, string>? environment = null) =>
        Finish(Start(args, workingDirectory, processes, environment), timeout);

    /// <summary>Runs drift as one process in each of <paramref name="workingDirectories"/> (rank 0 in the first), one run
    /// under mpiexec, as on machines that share no files: a relative path names a different file in each.</summary>
    /// <param name="programs">The drift.dll each process runs; default: this build everywhere.</param>
    public static (int Code, string Out, string Err) RunApart(IReadOnlyList<string> args, IReadOnlyList<string> workingDirectories, TimeSpan timeout,
        IReadOnlyList<string>? programs = null)
    {
        string[] OneIn(string dir, int i) => ["-n", "1", "-wdir", dir, "dotnet", programs?[i] ?? Dll, .. args];
        var blocks = workingDirectories.Select(OneIn).Aggregate((a, b) => [.. a, ":", .. b]);
        return Finish(Start(["mpiexec.mpich", .. blocks], workingDirectories[0], environment: null), timeout);
    }

    private static (int Code, string Out, string Err) Finish(Process started, TimeSpan? timeout)
    {
        using var p = started;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout ?? TimeSpan.FromMinutes(10)))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            return (-1, stdout.Result, $"hung: killed after {(timeout ?? TimeSpan.FromMinutes(10)).TotalSeconds:F0} s\n{stderr.Result}");
        }
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
