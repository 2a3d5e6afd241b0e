using System.Text.Json;

namespace Drift.Train.Output;

/// <summary>Writes go to a temporary file beside the target and are renamed over it, so a file that
/// was saved is never left half-written.</summary>
public static class AtomicFile
{
    public static void Write(string path, Action<string> writeTo)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        // Keep the extension last: some writers choose the format from it.
        var tmp = Path.Combine(dir, $".{Path.GetFileNameWithoutExtension(path)}.{Environment.ProcessId}.tmp{Path.GetExtension(path)}");
        try
        {
            writeTo(tmp);
            File.Move(tmp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    /// <summary>Removes the temporary files of writers that died mid-write (a kill leaves them behind); only
    /// the holder of the folder's lock may call this, so no live writer's file is taken.</summary>
    public static void RemoveLeftovers(string dir)
    {
        foreach (var path in Directory.EnumerateFiles(dir, ".*.tmp*", SearchOption.AllDirectories))
            File.Delete(path);
    }

    public static void WriteText(string path, string text) => Write(path, tmp => File.WriteAllText(tmp, text));

    /// <summary>Indented JSON that keeps non-ASCII text (FD-fashion-mnist, MMD²) readable.</summary>
    public static void WriteJson(string path, object value) => WriteText(path, JsonSerializer.Serialize(value, Json));

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
