namespace Drift.Train.RunFolders;

/// <summary>Output locations are checked before any work starts, so a run is never lost to a path it cannot write;
/// nothing is created by the check (a command refused later leaves no empty folder behind).</summary>
public static class OutputDir
{
    /// <summary>Throws a one-line <see cref="UserError"/> unless <paramref name="dir"/> is a folder this process can
    /// write, or can be created in the nearest folder above it that exists.</summary>
    /// <param name="what">What the folder is for, in the message: "run folder", "classifier folder".</param>
    public static void Check(string dir, string what)
    {
        if (string.IsNullOrWhiteSpace(dir)) throw new UserError($"{what}: an empty path");
        var full = Path.GetFullPath(dir);
        var existing = full;
        while (!Directory.Exists(existing))
        {
            if (File.Exists(existing))
                throw new UserError(existing == full ? $"{what} {dir} is a file, not a folder" : $"{what} {dir}: {existing} is a file, not a folder");
            existing = Path.GetDirectoryName(existing) ?? throw new UserError($"{what} {dir}: no folder above it exists");
        }
        var probe = Path.Combine(existing, $".write-test.{Environment.ProcessId}");
        try
        {
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserError($"cannot write to {what} {dir}: {(e is UnauthorizedAccessException ? "permission denied" : e.Message.Split('\n')[0])}");
        }
    }

    /// <summary>The folder an output file goes to, checked as <see cref="Check"/> does; a path that is a folder is refused,
    /// and so is one a Drift folder keeps (<see cref="OwnedFolder.CheckFileOutput"/>; <paramref name="own"/>: the one such
    /// name this output may write).</summary>
    public static void CheckFile(string path, string what, string? own = null)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new UserError($"{what}: an empty path");
        if (Directory.Exists(path)) throw new UserError($"{what} {path} is a folder, not a file");
        // "samples.csv/" names a folder: the file's would be made, and then no file could be written in it by that name.
        if (Path.EndsInDirectorySeparator(path)) throw new UserError($"{what} {path} ends with a '/', which names a folder; name a file");
        Check(Path.GetDirectoryName(Path.GetFullPath(path))!, $"{what} {path}: folder");
        OwnedFolder.CheckFileOutput(path, what, own);
    }
}
