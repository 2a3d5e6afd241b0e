using System.Diagnostics;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Drift.Loss;
using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Train.Distributed;

/// <summary>
/// K processes training one run as one process would with the whole batch (data parallelism, started by MPICH's
/// <c>mpiexec -n K drift train …</c>). Every process draws the step's noise, labels and positives from the run's
/// generator, which all share (same seed, same draws); each generates its share of the samples (<see cref="Split"/>),
/// gathers everyone's detached samples so that feature scales, the field and its per-scale RMS are computed over the
/// whole batch (<see cref="IBatchShard"/>), and regresses its own samples onto their rows of the field. Gradients and the
/// loss are averaged before the optimizer step, so the weights stay the same in every process; rank 0 alone writes the
/// run folder. A run is thus a function of its config and seed, whatever K: a checkpoint resumes at any K. One process
/// (<see cref="Alone"/>) touches no MPI.
/// </summary>
public sealed class DataParallel : IBatchShard, IDisposable
{
    private readonly ICollectives? collectives;
    private readonly Stopwatch communicating = new();
    /// <summary>The machine each process runs on, in rank order.</summary>
    private readonly string[] machines = [];

    private DataParallel(ICollectives? collectives)
    {
        this.collectives = collectives;
        if (collectives is null) return;
        machines = MachineNames(collectives);
        LocalRank = LocalRankOf(machines, collectives.Rank);
        // The processes on one machine share its cores; libtorch would give each process the threads it gives one process
        // alone, a thread per core. Each takes its share instead, as torchrun does (OMP_NUM_THREADS, where set, rules:
        // libtorch reads it itself). Threads past the cores cost dearly: set to 2 in each of 2 processes on these 2 cores,
        // the 2-D default's 300 steps took 128–165 s instead of 6 (docs/distributed.md).
        if (Environment.GetEnvironmentVariable("OMP_NUM_THREADS") is null)
            torch.set_num_threads(ThreadsEach(torch.get_num_threads(), machines.Count(name => name == machines[collectives.Rank])));
        Placement = $"{PlacementOf(machines)}; {torch.get_num_threads()} libtorch thread(s) per process on this machine";
    }

    private static string[] MachineNames(ICollectives collectives)
    {
        // Fixed-length UTF-8: MPI.NET gathers strings only through BinaryFormatter. MPICH's names are at most
        // MPI_MAX_PROCESSOR_NAME (128) bytes.
        const int Length = 256;
        var mine = new byte[Length];
        Encoding.UTF8.GetBytes(collectives.MachineName, mine);
        return [.. collectives.AllGather(mine).Chunk(Length).Select(name => Encoding.UTF8.GetString(name).TrimEnd('\0'))];
    }

    /// <summary>Each of <paramref name="processes"/> processes' share of the <paramref name="threads"/> one process alone
    /// would use, at least one.</summary>
    public static int ThreadsEach(int threads, int processes) => Math.Max(1, threads / processes);

    public static DataParallel Alone { get; } = new(null);

    /// <summary>The processes this one belongs to, once started: a failing process ends the others through it.</summary>
    public static DataParallel Current { get; private set; } = Alone;

    public int Rank => collectives?.Rank ?? 0;
    public int Size => collectives?.Size ?? 1;
    /// <summary>This process's rank among those on its machine, which picks its GPU; null for a process alone.</summary>
    public int? LocalRank { get; }

    /// <summary>How many processes of lower rank run on the machine <paramref name="rank"/> runs on. From the machines'
    /// names rather than a launcher's variable (MPICH's hydra sets MPI_LOCALRANKID, SLURM's srun SLURM_LOCALID), so
    /// that it holds however the processes were started and placed (in blocks or round-robin).</summary>
    public static int LocalRankOf(IReadOnlyList<string> machineNames, int rank) =>
        machineNames.Take(rank).Count(name => name == machineNames[rank]);

    /// <summary>Where the processes run, for the log: "16 processes on 2 machines: node1 ×8, node2 ×8".</summary>
    public string Placement { get; } = "1 process";

    public static string PlacementOf(IReadOnlyList<string> machineNames)
    {
        var machines = machineNames.CountBy(name => name).ToArray();
        return $"{machineNames.Count} processes on {machines.Length} machine{(machines.Length == 1 ? "" : "s")}: "
            + string.Join(", ", machines.Select(m => $"{m.Key} ×{m.Value}"));
    }

    /// <summary>Rank 0 checks, locks and writes the run folder, evaluates and logs; the others only train.</summary>
    public bool IsWriter => Rank == 0;
    /// <summary>Bytes of other processes' rows this one received (samples, features, the Sinkhorn field's scalings), and of
    /// gradients it summed with the others.</summary>
    public long GatheredBytes { get; private set; }
    public long ReducedBytes { get; private set; }
    /// <summary>Time spent in collectives (waiting for the slowest process included).</summary>
    public TimeSpan CommunicationTime => communicating.Elapsed;

    /// <summary>How many processes the launcher started: MPICH's mpiexec sets PMI_SIZE; 1 without a launcher.</summary>
    public static int LaunchedSize()
    {
        if (Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") is { } openMpi && openMpi != "1")
            throw new UserError("drift was started by Open MPI's mpirun; its MPI binding (MPI.NET) speaks the ABI MPICH shares with "
                + "Microsoft MPI: start it with MPICH's mpiexec (Debian: apt-get install mpich)");
        return int.TryParse(Environment.GetEnvironmentVariable("PMI_SIZE"), out var size) && size > 1 ? size : 1;
    }

    /// <summary>Joins the processes mpiexec started, or returns <see cref="Alone"/> when it started one (or none).</summary>
    public static DataParallel Start()
    {
        if (LaunchedSize() == 1) return Alone;
        Current = new DataParallel(MpiCollectives.Start());
        // A run is a function of its config and seed only where every process runs the same code.
        Current.CheckSame("drift build", typeof(DataParallel).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "",
            "build drift from the same commit on every machine");
        return Current;
    }

    /// <summary>Rank 0's bytes in every process: what rank 0 alone read (the run's config and checkpoint), so that the
    /// others need no filesystem in common with it.</summary>
    public byte[] FromWriter(byte[] mine) => collectives is null ? mine : collectives.Broadcast(mine);

    /// <summary>Refuses a run whose processes hold different <paramref name="what"/>: what each loaded on its own machine
    /// (drift itself, a data file, an encoder) and the others must hold the same, or each would train on its own.
    /// Only SHA-256s of <paramref name="mine"/> cross. Rank 0 throws, naming the first process that differs; the others
    /// go on to their next collective, where its abort ends them, so the error is printed once.</summary>
    /// <param name="fix">What to do about it, ending the message.</param>
    public void CheckSame(string what, string mine, string fix)
    {
        if (collectives is null) return;
        var digests = collectives.AllGather(SHA256.HashData(Encoding.UTF8.GetBytes(mine))).Chunk(SHA256.HashSizeInBytes).ToArray();
        var other = Array.FindIndex(digests, d => !d.AsSpan().SequenceEqual(digests[0]));
        if (other > 0 && IsWriter)
            throw new UserError($"process {other} (on {machines[other]}) has another {what} than process 0 (on {machines[0]}); {fix}");
    }

    /// <summary>This process's share of per-step inputs [groups·n, …] drawn for the whole batch: within each group,
    /// rows [rank·n/K, (rank + 1)·n/K).</summary>
    public Tensor Split(Tensor whole, long groups = 1)
    {
        if (collectives is null) return whole;
        var n = whole.shape[0] / groups;
        var b = n / Size;
        var rest = whole.shape[1..];
        return whole.view([groups, n, .. rest]).narrow(1, Rank * b, b).reshape([groups * b, .. rest]);
    }

    public Tensor Gather(Tensor mine)
    {
        if (collectives is null) return mine;
        if (mine.dtype != ScalarType.Float32) throw new ArgumentException($"data-parallel training gathers float32 samples, got {mine.dtype}");
        var values = mine.detach().cpu().contiguous().data<float>().ToArray();
        communicating.Start();
        var all = collectives.AllGather(values);
        communicating.Stop();
        GatheredBytes += (long)(all.Length - values.Length) * sizeof(float);
        // [K, …, b, d] in rank order → […, K·b, d]: each process's rows where one process would hold them.
        var shape = mine.shape;
        var n = shape.Length;
        var order = Enumerable.Range(1, n - 2).Append(0).Concat([n - 1, n]).Select(i => (long)i).ToArray();
        return torch.tensor(all).view([Size, .. shape]).permute(order).reshape([.. shape[..^2], Size * shape[^2], shape[^1]]).to(mine.device);
    }

    public Tensor Mine(Tensor whole) =>
        collectives is null ? whole : whole.narrow(-2, Rank * (whole.shape[^2] / Size), whole.shape[^2] / Size);

    public int Count => Size;

    public long FirstRow(long rows) => Rank * rows;

    public Tensor SumOver(Tensor local) => Reduce(local, collectives is null ? null : collectives.Sum);

    public Tensor MaxOver(Tensor local) => Reduce(local, collectives is null ? null : collectives.Max);

    /// <summary>A small tensor through a collective, back on its device and in its type.</summary>
    private Tensor Reduce(Tensor local, Action<float[]>? collective)
    {
        if (collective is null) return local;
        var values = local.detach().to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
        communicating.Start();
        collective(values);
        communicating.Stop();
        return torch.tensor(values).view(local.shape).to(local.dtype, local.device);
    }

    /// <summary>Averages every parameter's gradient, and the loss, over the processes (each computed over its own
    /// share of the batch); returns the averaged loss.</summary>
    public Tensor AverageGradients(IEnumerable<Tensor> parameters, Tensor loss)
    {
        if (collectives is null) return loss;
        var grads = parameters.Select(p => p.grad).Where(g => g is not null).Select(g => g!).ToArray();
        float[] buffer;
        using (var noGrad = torch.no_grad())
            buffer = torch.cat([.. grads.Select(g => g.detach().flatten().to(float32).cpu()), loss.detach().reshape(1).to(float32).cpu()])
                .data<float>().ToArray();
        communicating.Start();
        collectives.Sum(buffer);
        communicating.Stop();
        ReducedBytes += (long)buffer.Length * sizeof(float);
        var offset = 0;
        using (var noGrad = torch.no_grad())
            foreach (var g in grads)
            {
                var count = (int)g.numel();
                g.copy_(torch.tensor(buffer.AsSpan(offset, count).ToArray()).view(g.shape).div_(Size).to(g.dtype, g.device));
                offset += count;
            }
        return torch.tensor(buffer[^1] / Size);
    }

    /// <summary>Whether any process was asked to stop: all stop after the same step.</summary>
    public bool AnyStop(bool stop)
    {
        if (collectives is null) return stop;
        using var flag = torch.tensor(stop ? 1f : 0f);
        using var any = SumOver(flag);
        return any.item<float>() > 0;
    }

    /// <summary>Starts the accounting of <see cref="Summary"/> afresh, so that what a run's set-up exchanged (an encoder's
    /// table of features, gathered once) is not reported as a step's traffic.</summary>
    public void StartCounting()
    {
        GatheredBytes = 0;
        ReducedBytes = 0;
        communicating.Reset();
    }

    /// <summary>What the processes spent communicating over a session of <paramref name="steps"/> steps in
    /// <paramref name="seconds"/>, for the log (docs/distributed.md measures it).</summary>
    public string Summary(long steps, double seconds)
    {
        steps = Math.Max(1, steps);
        var ms = CommunicationTime.TotalMilliseconds / steps;
        return $"{Size} processes, per step and process: {GatheredBytes / 1e6 / steps:F3} MB gathered, {ReducedBytes / 1e6 / steps:F3} MB "
            + $"of gradients summed, {ms:F1} ms in collectives ({100 * ms / Math.Max(1e-9, 1000 * seconds / steps):F0} % of the step, waiting included)";
    }

    /// <summary>Ends every process: this one failed, and the others would wait for it in their next collective.</summary>
    public void Abort(int code) => collectives?.Abort(code);

    public void Dispose() => collectives?.Dispose();
}
