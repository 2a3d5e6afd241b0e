using Drift.Loss;
using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Train.Bench;

/// <summary>Each field on each of its paths (<see cref="FieldKind.Plain"/>, dense, row chunks, row and column chunks, automatic) at one size:
/// median time, effective GFLOP/s, error against float64 and peak device memory, one markdown row per path.</summary>
public static class FieldBench
{
    public static IEnumerable<string> Rows(FieldKind kind, int rows, int cols, int dim, int scaleCount, Device dev, int repeats)
    {
        using var g = new Generator(1);
        using var x = torch.randn([rows, dim], generator: g).to(dev);
        using var pos = (torch.randn([cols, dim], generator: g) + 0.3).to(dev);
        var name = kind.Name;
        var scales = kind.Scale.Typical.Take(scaleCount).Select(s => s * Math.Sqrt(dim)).ToArray();
        var flops = kind.Flops?.Invoke(rows, cols, dim, scales.Length) ?? double.NaN;
        IDriftField Make(FieldChunking? chunks) => kind.Create(new FieldParameters(scales) { Chunking = chunks });
        var columns = rows + cols;
        var chunked = FieldChunking.For(columns, dev.type);
        var wholeRows = chunked with { Columns = columns };
        var streamsColumns = kind.Paths == FieldPaths.RowAndColumnChunks;
        var paths = new List<(string Name, Func<Tensor> Run, long Entries)>();
        if (kind.Plain is { } plain)
            paths.Add(("plain dense (cdist, softmax, matmul)", () => plain(x, pos, scales), (long)rows * columns));
        paths.Add(("dense", () => Make(new FieldChunking(int.MaxValue, int.MaxValue)).Compute(x, pos).Velocity, (long)rows * columns));
        if (kind.Paths != FieldPaths.Dense)
            paths.Add(("row chunks", () => Make(wholeRows).Compute(x, pos).Velocity, Math.Min(rows, wholeRows.Rows) * columns));
        if (streamsColumns)
            paths.Add(("row and column chunks", () => Make(chunked with { Columns = 1 << 12 }).Compute(x, pos).Velocity, Math.Min(rows, chunked.Rows) * (1L << 12)));
        var auto = streamsColumns ? chunked : FieldChunking.Auto(rows, columns, dev.type);
        if (kind.Paths != FieldPaths.Dense)
            paths.Add(($"auto: {Describe(auto, rows, streamsColumns ? Math.Max(rows, cols) : 0)}", () => Make(null).Compute(x, pos).Velocity,
                Math.Min(rows, auto?.Rows ?? rows) * columns));

        Tensor reference;
        using (var scope = torch.NewDisposeScope())
            reference = Make(chunked).Compute(x.to(float64), pos.to(float64)).Velocity.MoveToOuterDisposeScope();
        using var referenceMax = reference.abs().max();
        foreach (var (path, run, entries) in paths)
        {
            var prefix = $"| {name} | {rows} | {cols} | {dim} | {path} |";
            // A path holds a few of its kernel matrices at once; where they cannot fit in host memory, say so rather than thrash.
            var bytes = 4.0 * entries * sizeof(float);
            if (dev.type == DeviceType.CPU && bytes > GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 2)
            {
                yield return $"{prefix} skipped: needs ~{bytes / (1L << 30):F0} GiB | | | |";
                continue;
            }
            string measured;
            try
            {
                using var memory = DeviceMemory.Watch(dev);
                var ms = Timing.MedianMs(run, dev, repeats);
                double err;
                using (var scope = torch.NewDisposeScope())
                    err = (run().to(float64) - reference).abs().max().item<double>() / referenceMax.item<double>();
                measured = $" {ms:F1} | {(double.IsNaN(flops) ? "" : (flops / ms / 1e6).ToString("F1"))} | {err:E1} | {memory.PeakText} |";
            }
            catch (System.Runtime.InteropServices.ExternalException e) when (e.Message.Contains("out of memory") || e.Message.Contains("can't allocate memory"))
            {
                measured = " out of memory | | | |";
            }
            yield return prefix + measured;
        }
        reference.Dispose();
    }

    /// <param name="widestSide">The larger side, which streams when a chunk has fewer columns (0: a field that never streams columns).</param>
    private static string Describe(FieldChunking? chunks, int rows, long widestSide) => chunks is null || chunks.Rows >= rows ? "dense"
        : $"{chunks.Rows}-row chunks" + (chunks.Columns < widestSide ? $", {chunks.Columns}-column chunks" : "");
}
