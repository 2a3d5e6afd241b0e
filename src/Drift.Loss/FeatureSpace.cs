using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Loss;

/// <summary>
/// One space an image field is computed in (<see cref="FeatureDriftLoss"/>): a differentiable map of images
/// [n, C, H, W] to features [n, D] and, optionally, the map's values on every image of the fixed set the data
/// images are drawn from. Data drawn by row is then looked up, not mapped again: for a frozen encoder that pass
/// over the positives (256 a class) cost more than the rest of the step, and the encoder's values on the same image
/// never change.
/// </summary>
public sealed class FeatureSpace : IDisposable
{
    private readonly Func<Tensor, Tensor> map;
    private readonly Tensor? table;

    /// <param name="table">[N, D]: the map's values on the N images that <see cref="DataImages.Rows"/> index; null: none.</param>
    private FeatureSpace(Func<Tensor, Tensor> map, Tensor? table)
    {
        this.map = map;
        this.table = table;
    }

    /// <summary>The map alone, no table: for spaces that cost next to nothing (<see cref="ImageFeatures"/>).</summary>
    public static FeatureSpace Of(Func<Tensor, Tensor> map) => new(map, null);

    /// <summary>A space whose values on the <paramref name="count"/> images of a set are computed now, without
    /// gradient, <paramref name="chunk"/> images at a time: <paramref name="images"/>(start, n) gives images start … start + n − 1.</summary>
    /// <param name="shard">Where several processes train as one: each computes its share of the rows (process order) and
    /// every one gathers the whole table, so that its start-up time splits across them. Every process must call this.</param>
    public static FeatureSpace Tabulated(Func<Tensor, Tensor> map, long count, Func<long, long, Tensor> images, int chunk = 500,
        IBatchShard? shard = null)
    {
        if (count < 1 || chunk < 1) throw new ArgumentException($"a feature table needs at least one image and a positive chunk, got {count} and {chunk}");
        shard ??= WholeBatch.Instance;
        using var noGrad = torch.no_grad();
        // Equal shares, as the gather asks; the last process's is short (or empty) and padded.
        var share = (count + shard.Count - 1) / shard.Count;
        var first = shard.FirstRow(share);
        var rows = Math.Clamp(count - first, 0, share);
        var parts = new List<Tensor>();
        try
        {
            for (long start = first; start < first + rows; start += chunk)
            {
                using var scope = torch.NewDisposeScope();
                parts.Add(map(images(start, Math.Min(chunk, first + rows - start))).MoveToOuterDisposeScope());
            }
            if (rows < share)
            {
                using var scope = torch.NewDisposeScope();
                var sample = parts.Count > 0 ? parts[0] : map(images(0, 1));
                parts.Add(torch.zeros([share - rows, sample.shape[1]], sample.dtype, sample.device).MoveToOuterDisposeScope());
            }
            // The table is a view of the gathered rows, which it keeps alive; for one process the gather returns mine
            // itself, and disposing a tensor twice releases it once.
            using var mine = torch.cat(parts);
            using var all = shard.Gather(mine);
            return new FeatureSpace(map, all.narrow(0, 0, count));
        }
        finally
        {
            foreach (var p in parts) p.Dispose();
        }
    }

    /// <summary>Whether data with rows is looked up rather than mapped.</summary>
    public bool HasTable => table is not null;

    /// <summary>The features of images, differentiably (the generated side).</summary>
    public Tensor Map(Tensor images) => map(images);

    /// <summary>The features of drawn data: looked up by row where there is a table and the rows are known, else mapped.</summary>
    public Tensor OfData(DataImages data) =>
        table is not null && data.Rows is not null ? table.index_select(0, data.Rows.to(table.device)) : map(data.Images);

    public void Dispose() => table?.Dispose();
}

/// <summary>Data images for <see cref="FeatureDriftLoss"/>: the images, and where they were drawn from a fixed set,
/// their rows in it (int64 [n]), by which a <see cref="FeatureSpace"/> with a table looks up their features.</summary>
public sealed record DataImages(Tensor Images, Tensor? Rows = null);
