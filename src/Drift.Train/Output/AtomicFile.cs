using System.Runtime.InteropServices;
using System.Text.Json;

namespace Drift.Train.Output;

/// <summary>Writes go to a temporary file beside the target and are renamed over it, so a file that
/// was saved is never left half-written.</summary>
public static class AtomicFile
{
    public static void Write(string path, Action<string> writeTo)
    {
        // A device or pipe (--out /dev/null) is written as it is: renaming over it would replace the device itself.
        if (IsSpecial(path))
        {
            writeTo(path);
            return;
        }
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

    /// <summary>Whether <paramref name="path"/> exists and is neither a regular file nor a folder (a device, a pipe,
    /// a socket). Linux's statx: its layout, unlike stat's, is the same on every architecture.</summary>
    private static bool IsSpecial(string path)
    {
        if (!OperatingSystem.IsLinux() || !File.Exists(path)) return false;
        Span<byte> buffer = stackalloc byte[256];
        const int atCurrentDirectory = -100, statxType = 1, modeOffset = 28;
        try
        {
            if (Statx(atCurrentDirectory, path, 0, statxType, ref MemoryMarshal.GetReference(buffer)) != 0) return false;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false; // not glibc 2.28 or later: written by rename, as on other systems
        }
        var type = BitConverter.ToUInt16(buffer[modeOffset..]) & 0xF000;
        return type is not (0x8000 or 0x4000);
    }

    /// <summary>glibc's soname, not "libc": that name can resolve to the linker script libc6-dev installs.</summary>
    [DllImport("libc.so.6", EntryPoint = "statx", SetLastError = true)]
    private static extern int Statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, ref byte buffer);

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
