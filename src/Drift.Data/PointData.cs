using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Data;

/// <summary>
/// A low-dimensional dataset: a sampler of training points, a held-out set to judge samples against, and
/// an independent draw from the training side of the same size (the data-vs-data floor). The split and
/// the held-out points depend on a fixed seed, not on the run's, so runs with different seeds are judged
/// on the same points. Training happens in standardised coordinates (per-dimension mean and std of the
/// training side); everything a user sees is in data units.
/// </summary>
public sealed class PointData
{
    private const ulong SplitSeed = 20261122;

    /// <summary>Largest magnitude a data file may hold: squared distances of a few such coordinates still fit float32 (3.4e38).</summary>
    public const float MaxMagnitude = 1e15f;
    private readonly Func<int, Generator, Tensor> sampleRaw;

    private PointData(string name, Func<int, Generator, Tensor> sampleRaw, Tensor heldOut, Tensor reference, Standardizer scale, string fingerprint,
        string[]? columns = null, Tensor? training = null)
    {
        Name = name;
        Columns = columns;
        Training = training;
        Fingerprint = fingerprint;
        this.sampleRaw = sampleRaw;
        HeldOut = heldOut;
        Reference = reference;
        Scale = scale;
    }

    public string Name { get; }
    /// <summary>A hash of the points as loaded (a toy set: of its held-out draw), so a resumed run can tell that its data changed.</summary>
    public string Fingerprint { get; }
    public int Dim => (int)HeldOut.shape[1];
    /// <summary>The columns' names (a CSV file's header), or null: x0, x1, ... (<see cref="ColumnNames"/>).</summary>
    public string[]? Columns { get; }
    public Tensor HeldOut { get; }
    public Tensor Reference { get; }
    /// <summary>A file's training rows in data units, all of them: what a generator could copy. Null for a toy set, whose
    /// training points are drawn afresh at every step.</summary>
    public Tensor? Training { get; }
    public Standardizer Scale { get; }

    /// <summary>n training points [n, d] in standardised coordinates, on the CPU.</summary>
    public Tensor Sample(int n, Generator g) => Scale.Normalize(sampleRaw(n, g));

    /// <summary>Points [n, d] as a host array, for plots and CSV files.</summary>
    public static float[,] ToArray(Tensor points)
    {
        var n = (int)points.shape[0];
        var d = (int)points.shape[1];
        var flat = points.contiguous().data<float>().ToArray();
        var result = new float[n, d];
        Buffer.BlockCopy(flat, 0, result, 0, flat.Length * sizeof(float));
        return result;
    }

    /// <summary>Whether a run's data can still be loaded: a toy set, or a file that is still there.</summary>
    public static bool IsAtHand(string spec) => ToyDatasets.Contains(spec) || File.Exists(spec);

    /// <summary>A finished run's data in data units, to judge its samples against.</summary>
    public static PointData LoadHeldOut(string spec, int evalSamples) => IsAtHand(spec)
        ? Load(spec, evalSamples, standardize: false)
        : throw new DataError($"the run's data '{spec}' is not at hand to evaluate against");

    /// <param name="spec">A toy dataset's name or a path to a .npy file or a CSV file (any other name).</param>
    /// <param name="standardize">False keeps data units for training too.</param>
    public static PointData Load(string spec, int evalSamples, bool standardize)
    {
        if (ToyDatasets.Contains(spec))
        {
            using var split = new Generator(SplitSeed);
            var heldOut = ToyDatasets.Sample(spec, evalSamples, split);
            var reference = ToyDatasets.Sample(spec, evalSamples, split);
            var scale = standardize ? Standardizer.Fit(ToyDatasets.Sample(spec, 100_000, split)) : Standardizer.Identity(2);
            return new PointData(spec, (n, g) => ToyDatasets.Sample(spec, n, g), heldOut.DetachFromDisposeScope(),
                reference.DetachFromDisposeScope(), scale, DataFingerprint.Of((heldOut, null)));
        }
        if (!NpyFile.Names(spec) && !spec.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) && !File.Exists(spec))
            throw new DataError($"unknown dataset '{spec}': use one of {string.Join(", ", ToyDatasets.Names)}, or a path to a .csv or .npy file");
        return FromFile(spec, ReadFile(spec), evalSamples, standardize);
    }

    /// <summary>The points of a .npy file (<see cref="NpyPoints"/>) or, by any other name, a CSV file (<see cref="CsvPoints"/>).
    /// A .npz archive (NumPy's np.savez) holds several arrays, no one of them the points: refused, not read as text.</summary>
    public static (float[,] Points, string[]? Columns) ReadFile(string path) => NpyFile.Names(path) ? (NpyPoints.Read(path), null)
        : path.EndsWith(".npz", StringComparison.OrdinalIgnoreCase)
            ? throw new DataError($"{path}: a .npz archive of arrays; save the points alone with np.save('points.npy', x)")
            : CsvPoints.Read(path);

    /// <summary>The names of d columns: <paramref name="columns"/>, or x0, x1, ... where there are none.</summary>
    public static string[] ColumnNames(string[]? columns, int d) => columns ?? Enumerable.Range(0, d).Select(j => $"x{j}").ToArray();

    private static PointData FromFile(string path, (float[,] Points, string[]? Columns) file, int evalSamples, bool standardize)
    {
        var points = torch.tensor(file.Points);
        var n = (int)points.shape[0];
        if (n < 10) throw new DataError($"{path}: {n} rows; at least 10 are needed (a fifth is held out for evaluation)");
        if ((points == points[0]).all().item<bool>()) throw new DataError($"{path}: every row is the same point; there is no distribution to learn");
        var heldCount = Math.Min(evalSamples, Math.Max(2, n / 5));
        using var split = new Generator(SplitSeed);
        var order = torch.randperm(n, generator: split);
        var heldOut = points.index_select(0, order[..heldCount]);
        var train = points.index_select(0, order[heldCount..]);
        var reference = train.index_select(0, torch.randint(0, train.shape[0], [heldCount], generator: split));
        var scale = standardize ? Standardizer.Fit(train) : Standardizer.Identity((int)points.shape[1]);
        train = train.DetachFromDisposeScope();
        return new PointData(Path.GetFileName(path),
            (count, g) => train.index_select(0, torch.randint(0, train.shape[0], [count], generator: g)),
            heldOut.DetachFromDisposeScope(), reference.DetachFromDisposeScope(), scale, DataFingerprint.Of((points, null)), file.Columns, train);
    }
}
