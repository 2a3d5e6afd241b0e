using System.Runtime.InteropServices;

namespace Drift.Data;

/// <summary>What a path is on disk, asked without opening it: opening a FIFO blocks until a writer comes, and a
/// device (/dev/zero) never ends, so Drift refuses both before it reads.</summary>
public enum FileType { Missing, Regular, Directory, Other }

public static class FileTypes
{
    /// <summary>Linux's statx (its layout, unlike stat's, is the same on every architecture); elsewhere, or without
    /// glibc 2.28, what .NET can tell (a path that exists and is not a folder counts as a regular file).</summary>
    public static FileType Of(string path)
    {
        if (Directory.Exists(path)) return FileType.Directory;
        if (!File.Exists(path)) return FileType.Missing;
        if (!OperatingSystem.IsLinux()) return FileType.Regular;
        Span<byte> buffer = stackalloc byte[256];
        const int atCurrentDirectory = -100, statxType = 1, modeOffset = 28;
        try
        {
            if (Statx(atCurrentDirectory, path, 0, statxType, ref MemoryMarshal.GetReference(buffer)) != 0) return FileType.Regular;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return FileType.Regular;
        }
        return (BitConverter.ToUInt16(buffer[modeOffset..]) & 0xF000) switch
        {
            0x8000 => FileType.Regular,
            0x4000 => FileType.Directory,
            _ => FileType.Other,
        };
    }

    /// <summary>glibc's soname, not "libc": that name can resolve to the linker script libc6-dev installs.</summary>
    [DllImport("libc.so.6", EntryPoint = "statx", SetLastError = true)]
    private static extern int Statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, ref byte buffer);
}
