using System.Runtime.InteropServices;
using Drift.Train.RunFolders;

namespace Drift.Train.Cli;

/// <summary>
/// Ctrl+C (SIGINT) and SIGTERM, handled by Drift rather than by the runtime, which ends the process while a native
/// step may still be running (a crash, no checkpoint). A command that can stop cleanly, a training loop that finishes
/// its step and saves, takes <see cref="Graceful"/>: the first signal cancels that token, and the loop says how long
/// its step still runs. A second signal, 2 s or more after the first, ends the process at once without saving: the
/// last checkpoint stays as it was. Any other command ends at once on the first signal. Ending at once removes this
/// process's unfinished temporary files and skips the runtime's shutdown (which could meet a native call half-way).
/// Signals within 2 s of the first count as one: <c>timeout</c> sends SIGTERM to the process and then to its group.
/// </summary>
public static class StopSignal
{
    private static readonly CancellationTokenSource Stop = new();
    private static readonly object Gate = new();
    private static DateTime? first;
    private static bool graceful;

    /// <summary>Installs the handlers, once, at the start of the program; they hold while the result is not disposed.</summary>
    public static IDisposable Install() => new Handlers(
        [PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle), PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle)]);

    private sealed class Handlers(PosixSignalRegistration[] registrations) : IDisposable
    {
        public void Dispose()
        {
            foreach (var r in registrations) r.Dispose();
        }
    }

    /// <summary>The token the first signal cancels, for a command that stops cleanly on it (and from then on is let to).</summary>
    public static CancellationToken Graceful()
    {
        lock (Gate) graceful = true;
        return Stop.Token;
    }

    private static void Handle(PosixSignalContext context)
    {
        context.Cancel = true;
        lock (Gate)
        {
            var now = DateTime.UtcNow;
            if (first is null)
            {
                first = now;
                if (graceful)
                {
                    Stop.Cancel();
                    return;
                }
                EndNow("interrupted");
            }
            if (now - first < TimeSpan.FromSeconds(2)) return;
            EndNow("a second signal: stopping now without saving; the last checkpoint saved is kept");
        }
    }

    /// <summary>Whether the process is ending at once on a signal: a command failing now failed because its unfinished
    /// files were taken away, and must leave the exit to the signal's handler.</summary>
    public static bool Ending => Volatile.Read(ref ending);

    private static bool ending;

    private static void EndNow(string why)
    {
        Volatile.Write(ref ending, true);
        AtomicFile.AbandonInFlight();
        Console.Error.WriteLine($"drift: {why}");
        Console.Error.Flush();
        if (OperatingSystem.IsLinux()) ExitNow(130);
        Environment.Exit(130);
    }

    [DllImport("libc.so.6", EntryPoint = "_exit")]
    private static extern void ExitNow(int code);
}
