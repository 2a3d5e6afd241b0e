using System.Globalization;

namespace Drift.Data;

/// <summary>Reads a CSV of points: one row of numbers per line, comma-separated, an optional header line,
/// any dimension ≥ 1. Every problem is a <see cref="DataError"/> naming the file and line.</summary>
public static class CsvPoints
{
    /// <summary>Largest magnitude accepted: squared distances of a few such coordinates still fit float32 (3.4e38).</summary>
    public const float MaxMagnitude = 1e15f;
    /// <summary>Largest file read: about 20 million 2-D points.</summary>
    public const long MaxBytes = InputFile.GiB;

    public static float[,] Read(string path)
    {
        var lines = InputFile.ReadAllText(path, "data file", MaxBytes).Split('\n');

        var rows = new List<float[]>();
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0) continue;
            var cells = line.Split(',');
            var row = new float[cells.Length];
            var numeric = true;
            for (var j = 0; j < cells.Length && numeric; j++)
                numeric = float.TryParse(cells[j].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out row[j]);
            if (!numeric)
            {
                if (rows.Count == 0 && i == FirstNonEmpty(lines)) continue; // a header
                throw new DataError($"{path}:{i + 1}: not a row of numbers: '{Shorten(line)}'");
            }
            if (row.Any(v => !float.IsFinite(v)))
                throw new DataError($"{path}:{i + 1}: non-finite value in '{Shorten(line)}'");
            if (row.Any(v => Math.Abs(v) > MaxMagnitude))
                throw new DataError($"{path}:{i + 1}: a value beyond ±{MaxMagnitude:g0} in '{Shorten(line)}'; rescale the data (squared distances would overflow float32)");
            if (rows.Count > 0 && row.Length != rows[0].Length)
                throw new DataError($"{path}:{i + 1}: {row.Length} columns where earlier rows have {rows[0].Length}");
            rows.Add(row);
        }
        if (rows.Count == 0) throw new DataError($"{path}: no rows of numbers");

        var points = new float[rows.Count, rows[0].Length];
        for (var i = 0; i < rows.Count; i++)
            for (var j = 0; j < rows[i].Length; j++)
                points[i, j] = rows[i][j];
        return points;
    }

    private static int FirstNonEmpty(string[] lines) => Array.FindIndex(lines, l => l.Trim().Length > 0);

    private static string Shorten(string s) => s.Length <= 60 ? s : s[..57] + "...";
}
