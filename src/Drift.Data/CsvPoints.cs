using System.Globalization;
using nietras.SeparatedValues;

namespace Drift.Data;

/// <summary>Reads a CSV of points: one row of numbers per line, any dimension ≥ 1, an optional header line, blank lines
/// ignored, values quoted or not. Sep reads the file, separated as its first non-blank line is: by ',', ';', tab or '|'
/// (Sep infers which), or by single spaces (NumPy's savetxt default). Every problem is a <see cref="DataError"/> naming
/// the file and line. A header's names become the columns' names where there is one distinct, non-empty name per column
/// (a header of other names is skipped, as before). Lines starting with '#' at the top are comments, as NumPy's loadtxt
/// reads them, and where no other header comes, the last one is the header (savetxt's header="x,y" writes "# x,y").</summary>
public static class CsvPoints
{
    /// <summary>Largest file read: about 20 million 2-D points.</summary>
    public const long MaxBytes = InputFile.GiB;

    public static (float[,] Points, string[]? Columns) Read(string path)
    {
        var text = InputFile.ReadAllText(path, "data file", MaxBytes);
        using var reader = Sep.Reader(o => o with
        {
            Sep = Separator(text),
            HasHeader = false,
            DisableColCountCheck = true,
            Unescape = true,
            Trim = SepTrim.All,
        }).FromText(text);

        var rows = new List<float[]>();
        string[]? header = null, comment = null;
        var first = true;
        foreach (var row in reader)
        {
            if (row.Span.IsWhiteSpace()) continue;
            // Only at the top: further down, a cell like Excel's "#N/A" starting a row would drop that row without a word.
            if (first && row.Span.TrimStart().StartsWith('#'))
            {
                comment = CommentCells(row);
                continue;
            }
            // Sep 0.18 gives the first row the lines [2, 2): it is line 1.
            var line = row.RowIndex == 0 ? 1 : row.LineNumberFrom;
            var values = new float[row.ColCount];
            var numeric = true;
            for (var j = 0; j < values.Length && numeric; j++)
                numeric = float.TryParse(row[j].Span, NumberStyles.Float, CultureInfo.InvariantCulture, out values[j]) || IsInfinity(row[j].Span, out values[j]);
            // Only the first line may be a header.
            if (!numeric && first)
            {
                header = new string[row.ColCount];
                for (var j = 0; j < header.Length; j++) header[j] = row[j].ToString();
                first = false;
                continue;
            }
            if (first) header = comment;
            first = false;
            if (!numeric)
                throw new DataError($"{path}:{line}: not a row of numbers: '{Shorten(row.Span)}'" + (DecimalCommas(row.Span.ToString()) ? "; write decimals "
                    + "with a point (1.5, not 1,5): a comma may be a decimal or a thousands separator, so it is not guessed" : ""));
            if (values.Any(v => !float.IsFinite(v)))
                throw new DataError($"{path}:{line}: non-finite value in '{Shorten(row.Span)}'");
            if (values.Any(v => Math.Abs(v) > PointData.MaxMagnitude))
                throw new DataError($"{path}:{line}: a value beyond ±{PointData.MaxMagnitude:g0} in '{Shorten(row.Span)}'; rescale the data (squared distances would overflow float32)");
            if (rows.Count > 0 && values.Length != rows[0].Length)
                throw new DataError($"{path}:{line}: {values.Length} columns where earlier rows have {rows[0].Length}");
            rows.Add(values);
        }
        if (rows.Count == 0) throw new DataError($"{path}: no rows of numbers");

        var points = new float[rows.Count, rows[0].Length];
        for (var i = 0; i < rows.Count; i++)
            for (var j = 0; j < rows[i].Length; j++)
                points[i, j] = rows[i][j];
        // pandas' DataFrame.to_csv writes the row numbers as a first column, named "" (or "Unnamed: 0" once read and written
        // again): read as a coordinate, it would add a dimension that only counts the rows.
        if (header is [var index, _, ..] && header.Length == rows[0].Length && index is "" or "Unnamed: 0" && Enumerable.Range(0, rows.Count).All(i => rows[i][0] == i))
            throw new DataError($"{path}: its first column{(index.Length == 0 ? ", unnamed," : $", '{index}',")} numbers the rows 0, 1, 2, ...: "
                + "a pandas index (DataFrame.to_csv writes one unless index=False), not a coordinate; remove that column");
        var named = header is not null && header.Length == rows[0].Length && header.All(h => h.Length > 0) && header.Distinct().Count() == header.Length;
        return (points, named ? header : null);
    }

    /// <summary>A comment line's cells, its '#' taken off: "# x,y" is x and y, and "# x y" (savetxt's default separator) too.</summary>
    private static string[] CommentCells(SepReader.Row row)
    {
        var cells = new string[row.ColCount];
        for (var j = 0; j < cells.Length; j++) cells[j] = row[j].ToString();
        cells[0] = cells[0].TrimStart().TrimStart('#').Trim();
        return cells is ["", _, ..] ? cells[1..] : cells;
    }

    /// <summary>The separator Sep infers from the first line that is neither blank nor a comment (it would look at the first
    /// line only, and a file may start blank, or with a comment in words); where that line holds none of the separators Sep infers but has spaces between values, a space, as
    /// NumPy's savetxt writes by default.</summary>
    private static Sep Separator(string text)
    {
        using var lines = new StringReader(text);
        var first = "";
        while (lines.ReadLine() is { } line && ((first = line.Trim()).Length == 0 || first.StartsWith('#'))) { }
        using var probe = Sep.Reader(o => o with { HasHeader = false }).FromText(first);
        var inferred = probe.Spec.Sep;
        return !first.Contains(inferred.Separator) && first.Contains(' ') ? Sep.New(' ') : inferred;
    }

    /// <summary>Whether every cell of the line, split at its tabs or else its semicolons, reads as a number once its comma is
    /// a point: a spreadsheet's export in a locale that writes 1,5 (Sep may have split such a line at its commas).</summary>
    private static bool DecimalCommas(string line) => line.Split(line.Contains('\t') ? '\t' : ';').All(cell => cell.Count(c => c == ',') == 1
        && float.TryParse(cell.Trim().Trim('"').Replace(',', '.'), NumberStyles.Float, CultureInfo.InvariantCulture, out _));

    /// <summary>"inf" and "-inf", as NumPy writes infinities (.NET reads only "Infinity" and "∞").</summary>
    private static bool IsInfinity(ReadOnlySpan<char> cell, out float value)
    {
        value = cell is ['-', ..] ? float.NegativeInfinity : float.PositiveInfinity;
        return (cell is ['+' or '-', ..] ? cell[1..] : cell).Equals("inf", StringComparison.OrdinalIgnoreCase);
    }

    private static string Shorten(ReadOnlySpan<char> row)
    {
        var s = row.Trim().ToString();
        return s.Length <= 60 ? s : s[..57] + "...";
    }
}
