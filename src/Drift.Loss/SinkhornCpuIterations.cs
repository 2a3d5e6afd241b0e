using System.Numerics;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;
using Primitives = System.Numerics.Tensors.TensorPrimitives;

namespace Drift.Loss;

/// <summary>
/// Sinkhorn's alternating updates (<see cref="SinkhornField"/>) on a kernel in CPU memory, one pass over the kernel an
/// iteration where tensor operations take two. An iteration reads K twice, for K b and for Kᵀ a, and at the end of an
/// anneal a 1024 × 1024 plan spends most of its time there: K (4 MB) does not fit a core's cache, so each product streams
/// it from memory. But a row of K, once read for (K b)_i, gives a_i and with it the row's share a_i K_i of Kᵀ a while it
/// is still in cache: the same updates, in the same order, from one pass. It also spares the dozen small tensor operations
/// of an iteration (each a dispatch and an allocation, together as much time as the products). On these 2 cores an
/// iteration took 100–150 µs where the tensor updates took 200–230 (docs/bench.md). It runs on the calling thread: rows or
/// groups shared among .NET threads were slower, not faster, beside libtorch's OpenMP threads, which keep spinning on the
/// other cores after each tensor operation (1024 rows on two threads 105–175 µs an iteration against 90–115 on one; ten
/// image-sized groups 47 µs against 17).
/// </summary>
internal static class SinkhornCpuIterations
{
    /// <summary>Whether <see cref="Run"/> takes this kernel: contiguous float32 or float64 in CPU memory, within a span's reach.</summary>
    public static bool Takes(Tensor kernel) =>
        kernel.device_type == DeviceType.CPU && kernel.is_contiguous() && kernel.dtype is ScalarType.Float32 or ScalarType.Float64
        && kernel.numel() * kernel.element_size() < int.MaxValue;

    /// <summary>
    /// <paramref name="iterations"/> updates of every group's scalings, in place: a = 1/(K b), then
    /// b = <paramref name="ratio"/>/(Kᵀ a) with Kᵀ a floored at 1e-30, each moved ω of the way in log space,
    /// a ← a^(1−ω)·(1/(K b))^ω (the log kept within ±80), except the first iteration's a, which has no previous one to
    /// move from (as in <see cref="SinkhornField"/>'s tensor updates); ω = 1: the plain updates.
    /// </summary>
    /// <param name="kernel">[G, B, M] or [B, M], see <see cref="Takes"/>.</param>
    /// <param name="a">Row scalings [G, B, 1] (written), contiguous, the kernel's type.</param>
    /// <param name="b">Column scalings [G, M, 1] (read and written), contiguous, the kernel's type.</param>
    /// <param name="omega">ω per group.</param>
    public static void Run(Tensor kernel, Tensor a, Tensor b, double[] omega, int iterations, double ratio)
    {
        if (kernel.dtype == ScalarType.Float32) Run<float>(kernel, a, b, omega, iterations, ratio);
        else Run<double>(kernel, a, b, omega, iterations, ratio);
    }

    private static void Run<T>(Tensor kernel, Tensor a, Tensor b, double[] omega, int iterations, double ratio)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (rows, columns) = ((int)kernel.shape[^2], (int)kernel.shape[^1]);
        var k = Span<T>(kernel);
        var aa = Span<T>(a);
        var bb = Span<T>(b);
        for (var g = 0; g < omega.Length; g++)
            Group(k.Slice(g * rows * columns, rows * columns), aa.Slice(g * rows, rows), bb.Slice(g * columns, columns),
                T.CreateChecked(omega[g]), iterations, T.CreateChecked(ratio));
    }

    /// <summary>One group's updates; K row-major [rows, columns].</summary>
    private static void Group<T>(Span<T> kernel, Span<T> a, Span<T> b, T omega, int iterations, T ratio)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (rows, columns) = (a.Length, b.Length);
        var transposed = new T[columns];   // Kᵀ a, summed row by row
        var scratch = new T[Math.Max(Tile, columns)];
        for (var iteration = 0; iteration < iterations; iteration++)
        {
            Array.Clear(transposed);
            // Rows in tiles that stay in cache between their two uses: (K b)_i for a_i, then a_i K_i into Kᵀ a.
            for (var first = 0; first < rows; first += Tile)
            {
                var n = Math.Min(Tile, rows - first);
                var update = scratch.AsSpan(0, n);
                for (var i = 0; i < n; i++) update[i] = Primitives.Dot<T>(kernel.Slice((first + i) * columns, columns), b);
                Primitives.Reciprocal<T>(update, update);
                var tile = a.Slice(first, n);
                if (iteration == 0 || omega == T.One) update.CopyTo(tile);
                else Relax(tile, update, omega);
                for (var i = 0; i < n; i++) Primitives.MultiplyAdd<T>(kernel.Slice((first + i) * columns, columns), tile[i], transposed, transposed);
            }
            var column = scratch.AsSpan(0, columns);
            Primitives.Max<T>(transposed, T.CreateChecked(1e-30), column);
            Primitives.Divide<T>(ratio, column, column);
            if (omega == T.One) column.CopyTo(b);
            else Relax(b, column, omega);
        }
    }

    /// <summary>old ← exp(clamp(lerp(log old, log update, ω), −80, 80)); <paramref name="update"/> is overwritten.</summary>
    private static void Relax<T>(Span<T> old, Span<T> update, T omega) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Primitives.Log<T>(old, old);
        Primitives.Log<T>(update, update);
        Primitives.Lerp<T>(old, update, omega, old);
        Primitives.Clamp<T>(old, T.CreateChecked(-80), T.CreateChecked(80), old);
        Primitives.Exp<T>(old, old);
    }

    /// <summary>A contiguous CPU tensor's own memory, as elements.</summary>
    private static Span<T> Span<T>(Tensor t) where T : unmanaged => MemoryMarshal.Cast<byte, T>(t.bytes);

    /// <summary>Rows of K per tile: 64 rows of 1024 float32 are 256 KB, within a core's 1–2 MB of cache with room to
    /// spare; 16 and 128 were slower on these 2 cores.</summary>
    private const int Tile = 64;
}
