using NumSharp;

namespace Drift.Data;

/// <summary>Points as a NumPy .npy file: a 2-D array [N, d] of floats or integers in data units, as <c>np.save</c>
/// writes them (and <c>drift sample --out x.npy</c>, in float32). Every problem is a <see cref="DataError"/> naming the
/// file and, for a value, its row.</summary>
public static class NpyPoints
{
    public static float[,] Read(string path)
    {
        var array = NpyFile.Load(path, "data file");
        if (array.ndim != 2 || array.shape[0] < 1 || array.shape[1] < 1 || !Numeric.Contains(array.typecode))
            throw new DataError($"{path}: expected points as a 2-D array (N, d) of floats or integers, found {NpyFile.Describe(array)}"
                + array.ndim switch
                {
                    1 => "; one value a point is shape (N, 1): x.reshape(-1, 1)",
                    3 or 4 => "; images train with drift train-images",
                    _ => "",
                });
        var (n, d) = (array.shape[0], array.shape[1]);
        // ToArray gives C order whatever order the file keeps; doubles hold every value an integer or float file can.
        var values = array.astype(typeof(double)).ToArray<double>();
        var points = new float[n, d];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < d; j++)
            {
                var v = values[i * d + j];
                if (!double.IsFinite(v))
                    throw new DataError(FormattableString.Invariant($"{path}: row {i} holds a non-finite value ({v})"));
                if (Math.Abs(v) > PointData.MaxMagnitude)
                    throw new DataError(FormattableString.Invariant($"{path}: row {i} holds {v:g6}, beyond ±{PointData.MaxMagnitude:g0}; rescale the data (squared distances would overflow float32)"));
                points[i, j] = (float)v;
            }
        return points;
    }

    private static readonly NPTypeCode[] Numeric = [NPTypeCode.Half, NPTypeCode.Single, NPTypeCode.Double, NPTypeCode.Byte, NPTypeCode.Int16, NPTypeCode.UInt16,
        NPTypeCode.Int32, NPTypeCode.UInt32, NPTypeCode.Int64, NPTypeCode.UInt64];
}
