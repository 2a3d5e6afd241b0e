using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Drift.Data;

namespace Drift.Train.RunFolders;

/// <summary>Writes go to a temporary file beside the target and are renamed over it, so a file that
/// was saved is never left half-written.</summary>
public static partial class AtomicFile
{
    /// <summary>What marks Drift's own temporary files (<c>.NAME.PID.drift-partial[.EXT]</c>): the only files Drift ever
    /// removes as leftovers, so a user's <c>*.tmp</c> is never taken for one.</summary>
    private const string PartialTag = "drift-partial";

    /// <summary>The temporary files being written now, removed by <see cref="AbandonInFlight"/> when the process must stop at once.</summary>
    private static readonly ConcurrentDictionary<string, byte> InFlight = new();

    public static void Write(string path, Action<string> writeTo)
    {
        // A device or pipe (--out /dev/null) is written as it is: renaming over it would replace the device itself.
        if (FileTypes.Of(path) == FileType.Other)
        {
            writeTo(path);
            return;
        }
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        // Keep the extension last: some writers choose the format from it.
        var tmp = Path.Combine(dir, $".{Path.GetFileNameWithoutExtension(path)}.{Environment.ProcessId}.{PartialTag}{Path.GetExtension(path)}");
        InFlight[tmp] = 0;
        try
        {
            writeTo(tmp);
            File.Move(tmp, path, overwrite: true);
        }
        catch (IOException e) when (e.Message.Contains(tmp, StringComparison.Ordinal))
        {
            throw Named(e, tmp, path);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
            InFlight.TryRemove(tmp, out _);
        }
    }

    /// <summary>A new folder written whole: filled under a temporary name beside <paramref name="path"/> and renamed to it
    /// when done, so the folder is either complete or absent. <paramref name="path"/> must not exist, or be an empty folder
    /// (replaced by the full one).</summary>
    public static void WriteFolder(string path, Action<string> writeTo)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        var tmp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{PartialTag}");
        InFlight[tmp] = 0;
        try
        {
            Directory.CreateDirectory(tmp);
            writeTo(tmp);
            // Only an empty folder goes: Directory.Delete without recursion refuses one that gained an entry meanwhile.
            if (Directory.Exists(full)) Directory.Delete(full);
            Directory.Move(tmp, full);
        }
        catch (IOException e) when (e.Message.Contains(tmp, StringComparison.Ordinal))
        {
            throw Named(e, tmp, path);
        }
        finally
        {
            if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
            InFlight.TryRemove(tmp, out _);
        }
    }

    /// <summary>The machine's refusal (a full disk) of a write under the temporary name <paramref name="tmp"/>, which .NET's
    /// message names and which is gone by the time the message is read, under the name being <paramref name="written"/>.</summary>
    private static IOException Named(IOException e, string tmp, string written) =>
        new($"{written}: {TrailingPath().Replace(e.Message, "").Replace(tmp, written)}", e);

    /// <summary>How .NET ends an I/O error's message on Unix: " : 'PATH'".</summary>
    [GeneratedRegex(@" : '[^']*'$")]
    private static partial Regex TrailingPath();

    /// <summary>Removes the temporary files and folders this process is writing: for a process about to end without
    /// finishing them (a folder's name carries this process's id, so all in it is this process's). A folder is first
    /// renamed, still a temporary name: the writer, still running, then adds nothing more to what is being removed.</summary>
    public static void AbandonInFlight()
    {
        foreach (var tmp in InFlight.Keys)
            try
            {
                if (Directory.Exists(tmp))
                {
                    Directory.Move(tmp, tmp + ".abandoned");
                    Directory.Delete(tmp + ".abandoned", recursive: true);
                }
                else File.Delete(tmp);
            }
            catch (IOException) { }
    }

    /// <summary>Removes the temporary files of Drift writers that died mid-write (a kill leaves them behind), and only
    /// those: names of <see cref="Write"/>'s own pattern. Only the holder of the folder's lock may call this, so no
    /// live writer's file is taken.</summary>
    public static void RemoveLeftovers(string dir)
    {
        foreach (var path in Directory.EnumerateFiles(dir, $".*.{PartialTag}*", SearchOption.AllDirectories))
            if (IsPartial(Path.GetFileName(path)))
                File.Delete(path);
    }

    /// <summary>Whether a file name is one of <see cref="Write"/>'s temporary files: a file in flight, or a dead writer's leftover.</summary>
    public static bool IsPartial(string name) => Partial().IsMatch(name);

    // NAME may be empty: a dotfile's name is all extension (.drift-folder is written as "..PID.drift-partial.drift-folder").
    [GeneratedRegex(@"^\..*\.[0-9]+\.drift-partial(\.[^.]+)?$")]
    private static partial Regex Partial();

    public static void WriteText(string path, string text) => Write(path, tmp => File.WriteAllText(tmp, text));

    /// <summary>Indented JSON that keeps non-ASCII text (FD-fashion-mnist, MMD²) readable; a number without a value
    /// (NaN: a class recall with no sample of that class, an infinite distance) is written as null.</summary>
    public static void WriteJson(string path, object value) => WriteText(path, JsonSerializer.Serialize(value, Json));

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new NonFiniteAsNull() },
    };

    /// <summary>JSON has no NaN or infinity: such a double is written as null rather than failing the whole file.</summary>
    private sealed class NonFiniteAsNull : JsonConverter<double>
    {
        public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.Null ? double.NaN : reader.GetDouble();

        public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
        {
            if (double.IsFinite(value)) writer.WriteNumberValue(value);
            else writer.WriteNullValue();
        }
    }
}
