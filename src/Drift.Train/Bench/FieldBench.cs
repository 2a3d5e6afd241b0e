using Drift.Loss;
using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Train.Bench;

/// <summary>Each field on each of its paths (dense, row chunks, row and column chunks, automatic) at one size:
/// median time, effective GFLOP/s, error against float64 and peak device memory, one markdown row per path.</summary>
public static class FieldBench
{
    public static IEnumerable<string> Rows(FieldKind kind, int rows, int cols, int dim, int scaleCount, Device dev, int repeats)
    {
        using var g = new Generator(1);
        using var x = torch.randn([rows, dim], generator: g).to(dev);
        using var pos = (torch.randn([cols, dim], generator: g) + 0.3).to(dev);
        var name = kind.Name();
        var conservative = kind == FieldKind.Conservative;
        var scales = (kind == FieldKind.Laplace ? new[] { 0.2, 0.05, 0.5 } : new[] { 1, 0.5, 2 }).Take(scaleCount).Select(s => s * Math.Sqrt(dim)).ToArray();
        // Distances and weighted means are each a 2·N·(N+M)·d GEMM; the conservative path shares the first. The
        // Sinkhorn field's time goes to its iterations' log-sum-exps, which no GEMM count describes.
        var flops = kind == FieldKind.Sinkhorn ? double.NaN : 2.0 * rows * (rows + cols) * dim * (1 + scales.Length);
        IDriftField Make(FieldChunking? chunks) => DriftFields.Create(kind, scales, SelfTerm.Exclude, normalizeScales: true, chunks);
        var columns = rows + cols;
        var chunked = FieldChunking.For(columns, dev.type);
        var wholeRows = chunked with { Columns = columns };
        var paths = new List<(string Name, Func<Tensor> Run, long Entries)>();
        if (conservative)
            paths.Add(("plain dense (cdist, softmax, matmul)", () => PlainConservative(x, pos, scales), (long)rows * columns));
        paths.Add(("dense", () => Make(new FieldChunking(int.MaxValue, int.MaxValue)).Compute(x, pos).Velocity, (long)rows * columns));
        // The Sinkhorn field always runs dense: each iteration needs whole rows and whole columns.
        if (kind != FieldKind.Sinkhorn)
            paths.Add(("row chunks", () => Make(wholeRows).Compute(x, pos).Velocity, Math.Min(rows, wholeRows.Rows) * columns));
        if (conservative)
            paths.Add(("row and column chunks", () => Make(chunked with { Columns = 1 << 12 }).Compute(x, pos).Velocity, Math.Min(rows, chunked.Rows) * (1L << 12)));
        var auto = conservative ? chunked : FieldChunking.Auto(rows, columns, dev.type);
        if (kind != FieldKind.Sinkhorn)
            paths.Add(($"auto: {Describe(auto, rows, conservative ? Math.Max(rows, cols) : 0)}", () => Make(null).Compute(x, pos).Velocity,
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

    /// <param name="widestSide">The larger side, which streams when a chunk has fewer columns (0: the Laplace field, which never streams).</param>
    private static string Describe(FieldChunking? chunks, int rows, long widestSide) => chunks is null || chunks.Rows >= rows ? "dense"
        : $"{chunks.Rows}-row chunks" + (chunks.Columns < widestSide ? $", {chunks.Columns}-column chunks" : "");

    /// <summary>
    /// The straightforward conservative field the optimised paths are measured against: per bandwidth two
    /// cdist, two softmax and two matmul over the whole batch, self pairs masked, each scale at unit RMS.
    /// </summary>
    private static Tensor PlainConservative(Tensor x, Tensor pos, double[] bandwidths)
    {
        using var noGrad = torch.no_grad();
        var sqPos = torch.cdist(x, pos).pow_(2);
        var sqNeg = torch.cdist(x, x).pow_(2);
        sqNeg.diagonal().fill_(double.PositiveInfinity);
        var v = torch.zeros_like(x);
        foreach (var h in bandwidths)
        {
            var scale = (torch.softmax(sqPos * (-0.5 / (h * h)), 1).mm(pos) - torch.softmax(sqNeg * (-0.5 / (h * h)), 1).mm(x)) / (h * h);
            v.add_(scale / scale.pow(2).mean().sqrt());
        }
        return v;
    }
}
