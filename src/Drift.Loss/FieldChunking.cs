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

    /// <summary>Dense below <see cref="DenseLimit"/>, chunked rows above it.</summary>
    public static FieldChunking? Auto(long rows, long columns) =>
        rows * columns <= DenseLimit ? null : new FieldChunking((int)Math.Max(1, DenseLimit / Math.Max(columns, 1)), 1 << 13);

    public void Validate()
    {
        if (Rows < 1 || Columns < 1) throw new ArgumentException($"chunk sizes must be at least 1, got {Rows}x{Columns}");
    }
}
