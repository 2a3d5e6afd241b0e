using Drift.Train.Output;

namespace Drift.Train.Training;

/// <summary>
/// One writer per run folder. The holder keeps <see cref="RunFiles.Lock"/> open with FileShare.None, which .NET
/// turns into an exclusive advisory lock (flock on Linux): the kernel drops it when the process dies, however it
/// dies, so a lock left by a killed run is taken over by the next one without any staleness guess. The holder's
/// pid is written beside it, in <see cref="RunFiles.LockOwner"/>, for the message a second writer gets (a locked
/// file cannot be read by others). The lock file itself stays in the folder: deleting it on release would let a
/// process that opened it just before lock a file no one else can see any more.
/// </summary>
public sealed class RunLock : IDisposable
{
    private readonly FileStream handle;
    private readonly string ownerPath;

    private RunLock(FileStream handle, string ownerPath)
    {
        this.handle = handle;
        this.ownerPath = ownerPath;
    }

    /// <summary>Locks <paramref name="dir"/> (created if missing) for this process, or throws a <see cref="UserError"/>
    /// naming the process that holds it.</summary>
    public static RunLock Acquire(string dir)
    {
        OutputDir.Create(dir, "run folder");
        var path = Path.Combine(dir, RunFiles.Lock);
        var ownerPath = Path.Combine(dir, RunFiles.LockOwner);
        FileStream handle;
        try
        {
            handle = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            throw new InUse($"{dir} is in use by {Owner(ownerPath)}; wait for it to finish or stop it (a run stopped with Ctrl+C saves a checkpoint)");
        }
        catch (UnauthorizedAccessException)
        {
            throw new UserError($"cannot write to {dir}: permission denied");
        }
        AtomicFile.WriteText(ownerPath, $"{Environment.ProcessId} {string.Join(' ', Environment.GetCommandLineArgs().Skip(1))}\n");
        return new RunLock(handle, ownerPath);
    }

    /// <summary>The folder is locked by another process (or by another run in this one).</summary>
    public sealed class InUse(string message) : UserError(message);

    private static string Owner(string ownerPath)
    {
        try
        {
            var text = File.ReadAllText(ownerPath).Trim();
            var space = text.IndexOf(' ');
            var pid = space < 0 ? text : text[..space];
            return int.TryParse(pid, out _) ? $"process {pid} ({(space < 0 ? "drift" : "drift " + text[(space + 1)..])})" : "another process";
        }
        catch (IOException)
        {
            return "another process";
        }
    }

    public void Dispose()
    {
        if (File.Exists(ownerPath)) File.Delete(ownerPath);
        handle.Dispose();
    }
}
