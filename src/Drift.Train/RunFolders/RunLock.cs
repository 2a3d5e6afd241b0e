using System.Globalization;

namespace Drift.Train.RunFolders;

/// <summary>
/// One writer per run folder. The holder keeps <see cref="RunFiles.Lock"/> open with FileShare.None, which .NET
/// turns into an exclusive advisory lock (flock on Linux): the kernel drops it when the process dies, however it
/// dies, so a lock left by a killed run is taken over by the next one without any staleness guess. The holder's
/// pid, command and start time are written beside it, in <see cref="RunFiles.LockOwner"/>, for the message a second
/// writer gets and for <c>drift runs</c> (a locked file cannot be read by others). The lock file itself stays in the
/// folder: deleting it on release would let a process that opened it just before lock a file no one else can see any
/// more (the one exception, a folder this lock created and nothing wrote to, goes altogether: a process racing for it
/// finds no folder to write to).
/// </summary>
public sealed class RunLock : IDisposable
{
    private readonly FileStream handle;
    private readonly string dir;
    private readonly string ownerPath;
    /// <summary>The folders <see cref="Acquire"/> made, the run folder first and its new parents after.</summary>
    private readonly IReadOnlyList<string> created;

    private RunLock(FileStream handle, string dir, IReadOnlyList<string> created)
    {
        this.handle = handle;
        this.dir = dir;
        ownerPath = Path.Combine(dir, RunFiles.LockOwner);
        this.created = created;
    }

    /// <summary>What a second writer is told about stopping the first, where that one is a training run.</summary>
    public const string Checkpointed = "; wait for it to finish or stop it (a run stopped with Ctrl+C saves a checkpoint)";

    /// <summary>The same, where the first writes no checkpoint (an export, a particle study).</summary>
    public const string NoCheckpoint = "; wait for it to finish";

    /// <summary>Locks <paramref name="dir"/> (created if missing) for this process, or throws a <see cref="UserError"/>
    /// naming the process that holds it, followed by <paramref name="advice"/>.</summary>
    public static RunLock Acquire(string dir, string advice = Checkpointed)
    {
        OutputDir.Check(dir, "run folder");
        var created = new List<string>();
        for (var d = Path.GetFullPath(dir); !Directory.Exists(d); d = Path.GetDirectoryName(d)!)
            created.Add(d);
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, RunFiles.Lock);
        var ownerPath = Path.Combine(dir, RunFiles.LockOwner);
        FileStream handle;
        try
        {
            handle = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            throw new InUse($"{dir} is in use by {Owner(ownerPath)}{advice}");
        }
        catch (UnauthorizedAccessException)
        {
            throw new UserError($"cannot write to {dir}: permission denied");
        }
        using (var self = System.Diagnostics.Process.GetCurrentProcess())
            AtomicFile.WriteText(ownerPath, $"{Environment.ProcessId} {string.Join(' ', Environment.GetCommandLineArgs().Skip(1))}\n"
                + $"{StartedPrefix}{self.StartTime.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture)}\n");
        return new RunLock(handle, dir, created);
    }

    /// <summary>The folder is locked by another process (or by another run in this one).</summary>
    public sealed class InUse(string message) : UserError(message);

    /// <summary>"process PID (drift COMMAND)" from the owner file. The holder writes it just after taking the lock, and
    /// a killed holder's file stays behind until then, so the file is read until it names a live process (up to 2 s).</summary>
    private static string Owner(string ownerPath)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        do
        {
            if (LiveOwner(ownerPath) is var (pid, command))
                return $"process {pid} (drift {command})".Replace(" )", ")");
            Thread.Sleep(20);
        } while (waited.Elapsed < TimeSpan.FromSeconds(2));
        return "another process";
    }

    /// <summary>The live process holding <paramref name="dir"/>, by its owner file, or null. Only looks: taking the lock
    /// to test it would, for that moment, refuse a run starting there.</summary>
    public static int? Holder(string dir) => LiveOwner(Path.Combine(dir, RunFiles.LockOwner))?.Pid;

    /// <summary>Leads the owner file's second line, the holder's start time: a killed holder's pid may since have gone
    /// to another process, which is not the holder unless it started then.</summary>
    private const string StartedPrefix = "started ";

    /// <summary>The pid and command the owner file names, where that process is alive (and started when the file says,
    /// where it says); null where there is no such file (the lock is free, or the holder has not written it yet) or its
    /// process has died.</summary>
    private static (int Pid, string Command)? LiveOwner(string ownerPath)
    {
        try
        {
            var lines = File.ReadAllLines(ownerPath);
            if (lines.Length == 0) return null;
            var first = lines[0].Trim();
            var space = first.IndexOf(' ');
            DateTime? started = lines.Length > 1 && lines[1].StartsWith(StartedPrefix, StringComparison.Ordinal)
                && DateTime.TryParse(lines[1][StartedPrefix.Length..], CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var t) ? t : null;
            return int.TryParse(space < 0 ? first : first[..space], out var pid) && IsAlive(pid, started) ? (pid, space < 0 ? "" : first[(space + 1)..]) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static bool IsAlive(int pid, DateTime? started)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            // The kernel counts a process's start in clock ticks since boot, so the holder's start, read again by another
            // process, agrees to far less than half a second; a process that took the pid later started later.
            return !process.HasExited && (started is not { } t || Math.Abs((process.StartTime.ToUniversalTime() - t).TotalSeconds) < 0.5);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    /// <summary>Releases the folder. One this lock created and nothing else wrote to but its log (a run refused or failed
    /// before its config, say for bad data) is removed, so no empty folder is left to look like a run.</summary>
    public void Dispose()
    {
        if (File.Exists(ownerPath)) File.Delete(ownerPath);
        string[] startOnly = [RunFiles.Lock, OwnedFolder.Marker, RunFiles.Log];
        var unused = created.Count > 0 && Directory.EnumerateFileSystemEntries(dir).All(e => startOnly.Contains(Path.GetFileName(e)));
        if (unused)
            foreach (var name in startOnly)
                File.Delete(Path.Combine(dir, name));
        handle.Dispose();
        if (!unused) return;
        try
        {
            foreach (var folder in created.TakeWhile(f => !Directory.EnumerateFileSystemEntries(f).Any()))
                Directory.Delete(folder);
        }
        catch (IOException) { } // another process has just started writing there: the folder is its now
    }
}
