namespace Drift.Train.Output;

/// <summary>Output locations are checked before any work starts, so a run is never lost to a path it cannot write.</summary>
public static class OutputDir
{
    /// <summary>Creates <paramref name="dir"/> if needed and proves it writable, or throws a one-line <see cref="UserError"/>.</summary>
    /// <param name="what">What the folder is for, in the message: "run folder", "report folder".</param>
    public static void Create(string dir, string what)
    {
        if (File.Exists(dir)) throw new UserError($"{what} {dir} is a file, not a folder");
        var probe = Path.Combine(dir, $".write-test.{Environment.ProcessId}");
        try
        {
            Directory.CreateDirectory(dir);
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserError($"cannot write to {what} {dir}: {Reason(e)}");
        }
    }

    /// <summary>The folder an output file goes to, checked as <see cref="Create"/> does; a path that is a folder is refused.</summary>
    public static void ForFile(string path, string what)
    {
        if (Directory.Exists(path)) throw new UserError($"{what} {path} is a folder, not a file");
        Create(Path.GetDirectoryName(Path.GetFullPath(path))!, $"{what} {path}: folder");
    }

    private static string Reason(Exception e) => e is UnauthorizedAccessException ? "permission denied" : e.Message.Split('\n')[0];
}
