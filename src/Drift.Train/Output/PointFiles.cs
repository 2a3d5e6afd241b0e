using Drift.Data;
using System.Globalization;
using Drift.Train.RunFolders;
using nietras.SeparatedValues;
using NumSharp;

namespace Drift.Train.Output;

/// <summary>Generated points in data units, readable back as <c>--data</c>: a CSV file (a header of the data's column
/// names, or x0,x1,..., and one row per point) or a .npy array, float32 [N, d].</summary>
public static class PointFiles
{
    public static void Npy(string path, float[,] points) => NpyWriter.Write(path, np.array(points));

    public static void Csv(string path, float[,] points, string[]? columns = null)
    {
        var names = PointData.ColumnNames(columns, points.GetLength(1));
        // The writer finds a row's cells by name: a name given twice would write two columns into one.
        if (names.Distinct().Count() != names.Length || names.Length != points.GetLength(1))
            throw new ArgumentException($"{names.Length} column names for {points.GetLength(1)} columns, or a name twice: {string.Join(",", names)}", nameof(columns));
        AtomicFile.Write(path, tmp =>
        {
            // Escape: a name with a comma or a quote (a header read from another file) is quoted.
            using var writer = Sep.New(',').Writer(o => o with { CultureInfo = CultureInfo.InvariantCulture, Escape = true }).ToFile(tmp);
            for (var i = 0; i < points.GetLength(0); i++)
            {
                using var row = writer.NewRow();
                for (var j = 0; j < names.Length; j++)
                    row[names[j]].Format(points[i, j]);
            }
        });
    }
}
