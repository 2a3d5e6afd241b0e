using static TorchSharp.torch;

namespace Drift.Loss;

/// <summary>
/// This process's part of a step's generated batch when several processes train as one (data parallelism): a
/// field needs every generated sample, so each process gathers the batch, computes the field over all of it,
/// exactly as one process would, and keeps its own rows of the result. One process holds the whole batch
/// (<see cref="WholeBatch"/>). Drift.Loss only knows this interface; the program implements it over MPI.
/// </summary>
public interface IBatchShard
{
    /// <summary>The step's whole batch [.., B, d] from this process's samples [.., B/K, d] (along dimension −2, in
    /// process order); <see cref="WholeBatch"/> returns its argument itself.</summary>
    Tensor Gather(Tensor mine);

    /// <summary>This process's rows (along dimension −2) of a tensor over the whole batch.</summary>
    Tensor Mine(Tensor whole);

    /// <summary>How many processes share the batch.</summary>
    int Count { get; }

    /// <summary>Where this process's share of <paramref name="rows"/> rows starts in the gathered batch.</summary>
    long FirstRow(long rows);

    /// <summary>The element-wise sum over the processes of a small tensor (per-scale statistics).</summary>
    Tensor SumOver(Tensor local);

    /// <summary>The element-wise maximum over the processes.</summary>
    Tensor MaxOver(Tensor local);
}

/// <summary>
/// A field whose every row depends on the batch only through that row's own sums over the positives and the batch,
/// and batch-wide statistics that sum or maximise over rows (the conservative, MMD and Laplace fields; the Sinkhorn
/// field's plans, once an iteration): a process can compute just its rows against the gathered batch, with those
/// statistics (each scale's RMS, the MMD field's kernel shift, the Laplace field's column log-sum-exps, the Sinkhorn
/// plans' column sums, scalings and marginal errors) reduced across the processes, so the field's cost splits across
/// them.
/// </summary>
public interface IRowwiseField : IDriftField
{
    /// <param name="rows">This process's samples [.., b, d], rows <see cref="IBatchShard.FirstRow"/> on of
    /// <paramref name="batch"/>, which is the generated batch (the negatives, self pairs as the field says).</param>
    /// <returns>The field at <paramref name="rows"/>, and each scale's RMS over the whole batch.</returns>
    FieldOutput ComputeRows(Tensor rows, Tensor positives, Tensor batch, IBatchShard shard);
}

/// <summary>One process: its samples are the whole batch.</summary>
public sealed class WholeBatch : IBatchShard
{
    public static readonly IBatchShard Instance = new WholeBatch();

    private WholeBatch() { }

    public Tensor Gather(Tensor mine) => mine;

    public Tensor Mine(Tensor whole) => whole;

    public int Count => 1;

    public long FirstRow(long rows) => 0;

    public Tensor SumOver(Tensor local) => local;

    public Tensor MaxOver(Tensor local) => local;
}
