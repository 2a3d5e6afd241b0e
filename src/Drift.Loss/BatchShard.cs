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
}

/// <summary>One process: its samples are the whole batch.</summary>
public sealed class WholeBatch : IBatchShard
{
    public static readonly IBatchShard Instance = new WholeBatch();

    private WholeBatch() { }

    public Tensor Gather(Tensor mine) => mine;

    public Tensor Mine(Tensor whole) => whole;
}
