using Drift.Data;

namespace Drift.Train.RunFolders;

/// <summary>
/// The rule that keeps Drift from destroying what it did not write: a command writes into a folder only if the folder
/// is new, empty, or was made by the same kind of command (its marker file, <see cref="Marker"/>, says which), and a
/// single-file output (<c>sample --out</c>, <c>eval --out</c>, <c>bench --out</c>) never replaces a file that a Drift
/// folder's own writer keeps there. Folders written before markers existed are known by their files: a run by its
/// checkpoint, config or metrics, a classifier by classifier.bin.
/// </summary>
public static class OwnedFolder
{
    public const string Marker = ".drift-folder";

    /// <summary>Names in a folder that are not content: the marker and what a run's lock leaves.</summary>
    private static readonly string[] Housekeeping = [Marker, RunFiles.Lock, RunFiles.LockOwner];

    /// <summary>Housekeeping, or a Drift writer's temporary file: a second writer that looks while the first is marking
    /// the folder sees the marker's temporary file, and must take the folder for the first writer's, not a user's.</summary>
    private static bool IsHousekeeping(string name) => Housekeeping.Contains(name) || AtomicFile.IsPartial(name);

    /// <summary>The kind of Drift folder <paramref name="dir"/> is, or null: not a folder, or not one Drift made.</summary>
    public static FolderKind? KindOf(string dir)
    {
        if (!Directory.Exists(dir)) return null;
        var marker = Path.Combine(dir, Marker);
        if (FileTypes.Of(marker) == FileType.Regular)
        {
            var name = InputFile.ReadAllText(marker, "folder marker", InputFile.KiB).Trim();
            return FolderKind.All.FirstOrDefault(k => k.Name == name);
        }
        if (RunFiles.Defining.Any(f => Exists(dir, f))) return FolderKind.Run;
        return Exists(dir, FolderKind.ClassifierFile) ? FolderKind.Classifier : null;
    }

    /// <summary>Whether <paramref name="dir"/> holds nothing but a marker, what a lock leaves and Drift's files in flight.</summary>
    public static bool IsEmpty(string dir) =>
        Directory.EnumerateFileSystemEntries(dir).All(e => IsHousekeeping(Path.GetFileName(e)));

    /// <summary>Why <paramref name="kind"/>'s command may not write at <paramref name="dir"/>, or null when it may:
    /// nothing is there, an empty folder, or a folder of the same kind that is not finished. Changes nothing.</summary>
    public static string? Refusal(string dir, FolderKind kind)
    {
        switch (FileTypes.Of(dir))
        {
            case FileType.Missing: return null;
            case FileType.Directory: break;
            default: return $"{dir} is a file, not a folder";
        }
        if (IsEmpty(dir)) return null;
        var found = KindOf(dir);
        // Every kind with a finished state is written by a command whose folder option is --out.
        if (found == kind)
            return kind.Finished is var (what, files) && Present(dir, files) is { Count: > 0 } done
                ? $"{dir} already holds {what} ({string.Join(", ", done)}); choose a new --out" : null;
        if (found is not null) return $"{dir} holds {found.What}, not {kind.What}; choose a new or empty folder";
        var names = Directory.EnumerateFileSystemEntries(dir).Select(Path.GetFileName).Where(n => !IsHousekeeping(n!)).Order().Take(3);
        return $"{dir} holds files Drift did not write ({string.Join(", ", names)}); choose a new or empty folder";
    }

    /// <summary>Throws a one-line <see cref="UserError"/> unless <see cref="Refusal"/> allows the folder, it is not inside a
    /// subfolder a Drift folder keeps (<see cref="InsideKept"/>), and it can be written.</summary>
    public static void Check(string dir, FolderKind kind, string what)
    {
        if (string.IsNullOrWhiteSpace(dir)) throw new UserError($"{what}: an empty path");
        if ((Refusal(dir, kind) ?? InsideKept(dir, what)) is { } why) throw new UserError(why);
        OutputDir.Check(dir, what);
    }

    /// <summary>Why <paramref name="path"/> may not be written by a command the user points there, or null: it lies in a
    /// subfolder that the nearest Drift folder above it keeps (a run's tensorboard/ or grids/, a comparison's runs/).</summary>
    public static string? InsideKept(string path, string what)
    {
        if (string.IsNullOrWhiteSpace(path)) return null; // an empty path is refused as such where the folder is checked
        var full = Path.GetFullPath(path);
        for (var (child, parent) = (full, Path.GetDirectoryName(full)); parent is not null; (child, parent) = (parent, Path.GetDirectoryName(parent)))
            if (KindOf(parent) is { } above)
                return above.Folders.Contains(Path.GetFileName(child))
                    ? $"{what} {path} is inside {child}, which belongs to {above.What} in {parent}; write elsewhere" : null;
        return null;
    }

    /// <summary>Makes <paramref name="dir"/> if needed and marks it as <paramref name="kind"/>'s, checked as <see cref="Check"/> does.</summary>
    public static void Mark(string dir, FolderKind kind)
    {
        if (Refusal(dir, kind) is { } why) throw new UserError(why);
        Directory.CreateDirectory(dir);
        var marker = Path.Combine(dir, Marker);
        if (FileTypes.Of(marker) != FileType.Regular) AtomicFile.WriteText(marker, kind.Name + "\n");
    }

    /// <summary>Throws unless writing the file <paramref name="path"/> replaces nothing a Drift folder's writer keeps:
    /// not one of its files, nothing in one of its subfolders, nor its marker. <paramref name="own"/> names the one
    /// such file this output may replace (<c>eval</c>'s eval.json in the run it evaluates).</summary>
    public static void CheckFileOutput(string path, string option, string? own = null)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        var name = Path.GetFileName(full);
        if (KindOf(dir) is { } kind)
        {
            if (Housekeeping.Contains(name))
                throw new UserError($"{option} {path}: that name is Drift's own in {dir}; write elsewhere");
            // Its names are its own even before it writes them: a file there by that name would pass for the folder's.
            if (kind.Files.Contains(name) && name != own)
                throw new UserError($"{option} {path}: {name} is a file of {kind.What} in {dir}; write elsewhere");
            return;
        }
        if (InsideKept(full, option) is { } why) throw new UserError(why);
    }

    /// <summary>Throws unless <paramref name="path"/> can become a new folder written whole (<see cref="AtomicFile.WriteFolder"/>):
    /// nothing is there or an empty folder, it is no name a Drift folder around it keeps, and the folder above can be written.</summary>
    public static void CheckNewFolderOutput(string path, string option)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new UserError($"{option}: an empty path");
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        switch (FileTypes.Of(full))
        {
            case FileType.Missing: break;
            case FileType.Directory when !Directory.EnumerateFileSystemEntries(full).Any(): break;
            case FileType.Directory: throw new UserError($"{option} {path} is not empty: choose a new or empty folder");
            default: throw new UserError($"{option} {path} is a file, not a folder");
        }
        var parent = Path.GetDirectoryName(full)!;
        var name = Path.GetFileName(full);
        if (KindOf(parent) is { } kind && (Housekeeping.Contains(name) || kind.Files.Contains(name) || kind.Folders.Contains(name)))
            throw new UserError($"{option} {path}: {name} is {kind.What}'s own in {parent}; write elsewhere");
        if (InsideKept(full, option) is { } why) throw new UserError(why);
        OutputDir.Check(parent, $"{option} {path}: folder");
    }

    /// <summary>Throws unless, of what <paramref name="kind"/> keeps in <paramref name="dir"/>, each file there is a regular
    /// file and each subfolder a folder: a writer must find what it wrote before it replaces anything.</summary>
    public static void CheckEntries(string dir, FolderKind kind)
    {
        foreach (var name in kind.Files.Append(Marker))
            if (FileTypes.Of(Path.Combine(dir, name)) is not (FileType.Missing or FileType.Regular))
                throw new UserError($"{Path.Combine(dir, name)} is not a regular file where {kind.What} keeps one; move it away first");
        foreach (var name in kind.Folders)
            if (FileTypes.Of(Path.Combine(dir, name)) is not (FileType.Missing or FileType.Directory))
                throw new UserError($"{Path.Combine(dir, name)} is not a folder where {kind.What} keeps one; move it away first");
    }

    /// <summary>Those of <paramref name="names"/> that stand in <paramref name="dir"/>: what a writer of one part of a
    /// folder's files must not leave beside another's.</summary>
    public static IReadOnlyList<string> Present(string dir, IEnumerable<string> names) => names.Where(n => Exists(dir, n)).ToArray();

    private static bool Exists(string dir, string name) => FileTypes.Of(Path.Combine(dir, name)) != FileType.Missing;
}
