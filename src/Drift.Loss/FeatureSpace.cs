using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Loss;

/// <summary>
/// One space an image field is computed in (<see cref="FeatureDriftLoss"/>): a differentiable map of images
/// [n, C, H, W] to features [n, D] and, optionally, the map's values on every image of the fixed set the data
/// images are drawn from. Data drawn by row is then looked up, not mapped again: for a frozen encoder that pass
/// over the positives (256 a class) cost more than the rest of the step, and the encoder's values on the same image
/// never change. Spaces read from one network's pass (its features and its inner maps) name that pass, a trunk, which
/// <see cref="MapAll"/> runs once for all of them: it is most of a step's cost in such a space.
/// </summary>
public sealed class FeatureSpace : IDisposable
{
    private readonly Func<Tensor[], Tensor> read;
    private readonly Func<Tensor, Tensor[]>? trunk;
    private readonly Tensor? table;

    /// <param name="read">The features, read from the trunk's outputs (without a trunk: from the images alone).</param>
    /// <param name="table">[N, D]: the space's values on the N images that <see cref="DataImages.Rows"/> index; null: none.</param>
    private FeatureSpace(Func<Tensor[], Tensor> read, Func<Tensor, Tensor[]>? trunk, Tensor? table)
    {
        this.read = read;
        this.trunk = trunk;
        this.table = table;
    }

    /// <summary>The map alone, no table: for spaces that cost next to nothing (<see cref="ImageFeatures"/>).</summary>
    public static FeatureSpace Of(Func<Tensor, Tensor> map) => new(outputs => map(outputs[0]), null, null);

    /// <summary>A space whose values on the <paramref name="count"/> images of a set are computed now, without
    /// gradient, <paramref name="chunk"/> images at a time: <paramref name="images"/>(start, n) gives images start … start + n − 1.</summary>
    /// <param name="shard">Where several processes train as one: each computes its share of the rows (process order) and
    /// every one gathers the whole table, so that its start-up time splits across them. Every process must call this.</param>
    public static FeatureSpace Tabulated(Func<Tensor, Tensor> map, long count, Func<long, long, Tensor> images, int chunk = 500,
        IBatchShard? shard = null) =>
        Tabulated([outputs => map(outputs[0])], null, count, images, chunk, shard)[0];

    /// <summary>Spaces read from one trunk's outputs (space i: <paramref name="reads"/>[i](trunk(images)); a null trunk:
    /// [images]), tabulated as <see cref="Tabulated(Func{Tensor, Tensor}, long, Func{long, long, Tensor}, int, IBatchShard?)"/>
    /// in one pass of the trunk, which <see cref="MapAll"/> then runs once a step for all of them.</summary>
    public static FeatureSpace[] Tabulated(IReadOnlyList<Func<Tensor[], Tensor>> reads, Func<Tensor, Tensor[]>? trunk, long count,
        Func<long, long, Tensor> images, int chunk = 500, IBatchShard? shard = null)
    {
        if (count < 1 || chunk < 1) throw new ArgumentException($"a feature table needs at least one image and a positive chunk, got {count} and {chunk}");
        shard ??= WholeBatch.Instance;
        using var noGrad = torch.no_grad();
        // Equal shares, as the gather asks; the last process's is short (or empty) and padded.
        var share = (count + shard.Count - 1) / shard.Count;
        var first = shard.FirstRow(share);
        var rows = Math.Clamp(count - first, 0, share);
        // Each chunk is written into its rows of the table as it comes: a table concatenated from a list of chunks
        // holds twice its size for a moment (the encoder's two maps of Fashion-MNIST: 2.2 GB a copy).
        var mine = new Tensor?[reads.Count];
        void MapChunk(long start, long n, bool keep)
        {
            using var scope = torch.NewDisposeScope();
            var outputs = Outputs(trunk, images(start, n));
            for (var i = 0; i < reads.Count; i++)
            {
                var features = reads[i](outputs);
                // Zeros: rows past this process's share pad the gather.
                mine[i] ??= torch.zeros([share, features.shape[1]], features.dtype, features.device).DetachFromDisposeScope();
                if (keep) mine[i]!.narrow(0, start - first, n).copy_(features);
            }
        }
        try
        {
            for (long start = first; start < first + rows; start += chunk) MapChunk(start, Math.Min(chunk, first + rows - start), keep: true);
            if (rows == 0) MapChunk(0, 1, keep: false);   // an empty share still needs the features' widths for its padding
            var spaces = new FeatureSpace[reads.Count];
            for (var i = 0; i < reads.Count; i++)
            {
                // The table is a view of the gathered rows, which it keeps alive; for one process the gather returns
                // mine itself, and disposing a tensor twice releases it once.
                using var all = shard.Gather(mine[i]!);
                spaces[i] = new FeatureSpace(reads[i], trunk, all.narrow(0, 0, count));
            }
            return spaces;
        }
        finally
        {
            foreach (var t in mine) t?.Dispose();
        }
    }

    /// <summary>Whether data with rows is looked up rather than mapped.</summary>
    public bool HasTable => table is not null;

    /// <summary>The features of images, differentiably (the generated side).</summary>
    public Tensor Map(Tensor images) => read(Outputs(trunk, images));

    /// <summary>Every space's features of the same images, differentiably, each trunk run once.</summary>
    public static Tensor[] MapAll(IReadOnlyList<FeatureSpace> spaces, Tensor images)
    {
        var passes = new Dictionary<Func<Tensor, Tensor[]>, Tensor[]>(ReferenceEqualityComparer.Instance);
        return spaces.Select(s =>
        {
            if (s.trunk is null) return s.read([images]);
            if (!passes.TryGetValue(s.trunk, out var outputs)) passes[s.trunk] = outputs = s.trunk(images);
            return s.read(outputs);
        }).ToArray();
    }

    /// <summary>The features of drawn data: looked up by row where there is a table and the rows are known, else mapped.</summary>
    public Tensor OfData(DataImages data) =>
        table is not null && data.Rows is not null ? table.index_select(0, data.Rows.to(table.device)) : Map(data.Images);

    private static Tensor[] Outputs(Func<Tensor, Tensor[]>? trunk, Tensor images) => trunk is null ? [images] : trunk(images);

    public void Dispose() => table?.Dispose();
}

/// <summary>Data images for <see cref="FeatureDriftLoss"/>: the images, and where they were drawn from a fixed set,
/// their rows in it (int64 [n]), by which a <see cref="FeatureSpace"/> with a table looks up their features.</summary>
public sealed record DataImages(Tensor Images, Tensor? Rows = null);
