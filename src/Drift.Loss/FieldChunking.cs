namespace Drift.Loss;

/// <summary>
/// How a field walks its B×N kernel matrices: <paramref name="Rows"/> generated samples at a time, and, for
/// the conservative field, <paramref name="Columns"/> data or model samples at a time with an online
/// softmax. Memory then grows with Rows×Columns instead of B×N.
/// </summary>
public sealed record FieldChunking(int Rows, int Columns)
{
    /// <summary>Kernel entries a dense pass may hold at once (64 MiB of float32).</summary>
    public const long DenseLimit = 1L << 24;

    /// <summary>Chunks of about 2^22 entries (16 MiB of float32): on 2 CPU cores they ran at least as fast as
    /// chunks of 2^24 and as the dense path, holding a fraction of the memory (docs/bench.md).</summary>
    public static FieldChunking For(long columns) => new((int)Math.Max(1, (1L << 22) / Math.Max(columns, 1)), 1 << 12);

    /// <summary>Dense up to <see cref="DenseLimit"/> entries, chunked above.</summary>
    public static FieldChunking? Auto(long rows, long columns) => rows * columns <= DenseLimit ? null : For(columns);

    public void Validate()
    {
        if (Rows < 1 || Columns < 1) throw new ArgumentException($"chunk sizes must be at least 1, got {Rows}x{Columns}");
    }
}
