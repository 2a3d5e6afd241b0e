using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Tests;

/// <summary>Where threads standing in for a run's processes meet for each collective (<see cref="Drift.Loss.IBatchShard"/>).</summary>
internal sealed class Meeting(int size)
{
    private readonly Barrier barrier = new(size);
    private readonly Tensor[] slots = new Tensor[size];
    public int Size => size;

    /// <summary>Runs <paramref name="process"/>(rank) on a thread per process and waits for all of them. What a process
    /// throws is thrown here: on a thread of its own it would end the test host instead of failing the test.</summary>
    public void Run(Action<int> process)
    {
        var failures = new Exception?[size];
        var threads = Enumerable.Range(0, size).Select(rank => new Thread(() =>
        {
            try { process(rank); }
            catch (Exception e) { failures[rank] = e; }
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        if (failures.Any(f => f is not null)) throw new AggregateException(failures.OfType<Exception>());
    }

    /// <summary>Every process's <paramref name="local"/> folded with <paramref name="op"/>, in rank order.</summary>
    public Tensor Reduce(int rank, Tensor local, Func<Tensor, Tensor, Tensor> op)
    {
        slots[rank] = local.detach().clone();
        Meet();
        var result = slots.Skip(1).Aggregate(slots[0], op);
        Meet();
        return result;
    }

    /// <summary>Every process's rows (dimension −2), in rank order.</summary>
    public Tensor Gather(int rank, Tensor mine)
    {
        slots[rank] = mine.detach().clone();
        Meet();
        var all = torch.cat(slots, -2);
        Meet();
        return all;
    }

    /// <summary>A process that failed before a collective would leave the others waiting for ever.</summary>
    private void Meet()
    {
        if (!barrier.SignalAndWait(TimeSpan.FromMinutes(1))) throw new TimeoutException("a process never reached the collective");
    }
}
