using System.Text;

namespace Drift.Data;

/// <summary>Every file Drift reads comes through here: it must be a regular file (a FIFO would block forever, a
/// device never end) no larger than a bound the caller names (a runaway file is refused in one line, not read into
/// an out-of-memory error). Problems are <see cref="DataError"/>s naming the file.</summary>
public static class InputFile
{
    public const long KiB = 1 << 10, MiB = 1 << 20, GiB = 1 << 30;
    /// <summary>The most one read can hold: .NET arrays stop just below 2 GiB.</summary>
    public const long Largest = int.MaxValue - 64;

    /// <summary>Whether a folder's entry is hidden (its name starts with "."), and so no dataset's: macOS's <c>._NAME</c>
    /// copies beside every file, a notebook's <c>.ipynb_checkpoints/</c>, Drift's own temporary files.</summary>
    public static bool Hidden(string path) => Path.GetFileName(path).StartsWith('.');

    /// <summary>Throws unless <paramref name="path"/> is a regular file of at most <paramref name="maxBytes"/>.</summary>
    /// <param name="what">What the file is, for the message: "data file", "checkpoint".</param>
    public static void Check(string path, string what, long maxBytes)
    {
        switch (FileTypes.Of(path))
        {
            case FileType.Missing: throw new DataError($"{what} not found: {path}");
            case FileType.Directory: throw new DataError($"{what} {path} is a folder, not a file");
            case FileType.Other: throw new DataError($"{what} {path} is not a regular file (a pipe, socket or device); give a file");
        }
        var length = new FileInfo(path).Length;
        if (length > maxBytes)
            throw new DataError($"{what} {path} is {Size(length)}, more than the {Size(maxBytes)} a {what} may be");
    }

    public static byte[] ReadAllBytes(string path, string what, long maxBytes)
    {
        Check(path, what, Math.Min(maxBytes, Largest));
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataError($"cannot read {what} {path}: {(e is UnauthorizedAccessException ? "permission denied" : e.Message.Split('\n')[0])}");
        }
    }

    /// <summary>UTF-8 text (a byte-order mark is dropped). Text in another encoding is refused, not read with replacement
    /// characters: a CSV header saved as Latin-1 or Windows-1252 (Excel's plain "CSV") made "température" a column named
    /// "temp\uFFFDrature", carried into the run's config, its exports and its samples' CSV headers.</summary>
    public static string ReadAllText(string path, string what, long maxBytes)
    {
        var bytes = ReadAllBytes(path, what, maxBytes);
        if (bytes is [0xFF, 0xFE, ..] or [0xFE, 0xFF, ..])
            throw new DataError($"{what} {path} is UTF-16 text (as Excel's \"Unicode Text\" writes); save it as UTF-8");
        try
        {
            return StrictUtf8.GetString(bytes).TrimStart('\uFEFF');
        }
        catch (DecoderFallbackException e)
        {
            var at = Math.Clamp(e.Index, 0, bytes.Length - 1);
            throw new DataError($"{what} {path} is not UTF-8 text: line {bytes.AsSpan(0, at).Count((byte)'\n') + 1} holds the byte 0x{bytes[at]:X2} "
                + "(Latin-1 and Windows-1252 text write accented letters so); save it as UTF-8 (in Excel, as \"CSV UTF-8\")");
        }
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static string Size(long bytes) => bytes switch
    {
        >= GiB => $"{bytes / (double)GiB:0.#} GiB",
        >= MiB => $"{bytes / (double)MiB:0.#} MiB",
        >= KiB => $"{bytes / (double)KiB:0.#} KiB",
        _ => $"{bytes} bytes",
    };
}
