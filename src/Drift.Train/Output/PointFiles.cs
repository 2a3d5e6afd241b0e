using System.Globalization;
using Drift.Train.RunFolders;

namespace Drift.Train.Output;

/// <summary>Generated points as a CSV file: a header x0,x1,... and one row per point, in data units, readable
/// back as <c>--data</c>.</summary>
public static class PointFiles
{
    public static void Csv(string path, float[,] points)
    {
        var d = points.GetLength(1);
        AtomicFile.Write(path, tmp =>
        {
            using var w = new StreamWriter(tmp);
            w.WriteLine(string.Join(',', Enumerable.Range(0, d).Select(j => $"x{j}")));
            for (var i = 0; i < points.GetLength(0); i++)
                w.WriteLine(string.Join(',', Enumerable.Range(0, d).Select(j => points[i, j].ToString("R", CultureInfo.InvariantCulture))));
        });
    }
}
