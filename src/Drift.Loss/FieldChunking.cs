using TorchSharp;

namespace Drift.Loss;

/// <summary>
/// How a field walks its B×N kernel matrices: <paramref name="Rows"/> generated samples at a time, and, for
/// the conservative field, <paramref name="Columns"/> data or model samples at a time with an online
/// softmax (a side that fits in one column chunk takes a plain softmax). Memory then grows with
/// Rows×Columns instead of B×N.
/// </summary>
public sealed record FieldChunking(int Rows, int Columns)
{
    /// <summary>Kernel entries a dense pass may hold at once: one chunk's budget, 16 MiB on the CPU and 1 GiB on a
    /// GPU (2^22 and 2^28 float32 entries; half as many float64 ones). On the CPU a dense Laplace pass of
    /// N = M = 2048 (32 MiB of float32) ran 2–4× slower than its row chunks at d = 2 and no faster at d = 784
    /// (docs/bench.md), so nothing larger than a chunk goes dense.</summary>
    public static long DenseLimit(DeviceType device, long elementBytes = 4) => ChunkEntries(device, elementBytes);

    /// <summary>
    /// Chunks of about 2^22 entries (16 MiB of float32) on the CPU, where on 2 cores they ran faster than the
    /// dense path (docs/bench.md); 2^28 (1 GiB) on a GPU, so that each chunk is a few large GEMMs rather than
    /// many small launches. Whole sides at once while that leaves at least 64 (CPU) or 256 (GPU) rows per
    /// chunk: the online softmax over column chunks costs more passes than one plain softmax.
    /// </summary>
    public static FieldChunking For(long columns, DeviceType device, long elementBytes = 4)
    {
        columns = Math.Max(columns, 1);
        var entries = ChunkEntries(device, elementBytes);
        var rows = Math.Max(MinRows(device), entries / columns);
        return new((int)rows, (int)Math.Min(columns, entries / rows));
    }

    /// <summary>The budget is in bytes, not entries: float64 chunks of 2^22 entries (32 MiB) pass glibc's largest
    /// mmap threshold, so every chunk comes as fresh pages from the kernel, which measured 5–9× slower for the
    /// particle lab's 4096×4096 float64 kernels on the 2-core machine (docs/particles.md §8).</summary>
    public static long ChunkEntries(DeviceType device, long elementBytes = 4) => (device == DeviceType.CUDA ? 1L << 30 : 1L << 24) / elementBytes;

    public static long MinRows(DeviceType device) => device == DeviceType.CUDA ? 256 : 64;

    /// <summary>Dense up to <see cref="DenseLimit"/> entries, chunked above.</summary>
    public static FieldChunking? Auto(long rows, long columns, DeviceType device, long elementBytes = 4) =>
        rows * columns <= DenseLimit(device, elementBytes) ? null : For(columns, device, elementBytes);

    public void Validate()
    {
        if (Rows < 1 || Columns < 1) throw new ArgumentException($"chunk sizes must be at least 1, got {Rows}x{Columns}");
    }
}
