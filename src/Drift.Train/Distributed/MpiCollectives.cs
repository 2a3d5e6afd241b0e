using System.Reflection;
using System.Runtime.InteropServices;

namespace Drift.Train.Distributed;

/// <summary>
/// <see cref="ICollectives"/> over MPI, through MPI.NET 1.4.0. Its MPI.dll calls Microsoft MPI's msmpi.dll, whose
/// integer handles and constants MPICH shares (Open MPI's handles are pointers), so on Linux its imports are
/// resolved to MPICH's libmpich.so.12. Only primitive arrays cross (MPI.NET's object paths use BinaryFormatter,
/// which .NET 9 removed). This class is the only one that touches MPI.NET: a one-process run never loads it.
/// </summary>
internal sealed class MpiCollectives : ICollectives
{
    private const string Library = "libmpich.so.12";
    private readonly MPI.Environment environment;
    private readonly MPI.Intracommunicator world;

    private MpiCollectives(MPI.Environment environment)
    {
        this.environment = environment;
        world = MPI.Communicator.world;
    }

    public static MpiCollectives Start()
    {
        NativeLibrary.SetDllImportResolver(typeof(MPI.Communicator).Assembly, Resolve);
        var args = Array.Empty<string>();
        try
        {
            return new MpiCollectives(new MPI.Environment(ref args));
        }
        catch (DllNotFoundException e)
        {
            throw new UserError($"drift runs as several processes but MPICH's {Library} could not be loaded ({e.Message.Split('\n')[0]}): "
                + "install MPICH (Debian: apt-get install mpich) and start drift with its mpiexec", e);
        }
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path) =>
        name.Contains("mpi", StringComparison.OrdinalIgnoreCase) ? NativeLibrary.Load(Library) : IntPtr.Zero;

    public int Rank => world.Rank;
    public int Size => world.Size;

    public string MachineName => MPI.Environment.ProcessorName;

    public float[] AllGather(float[] mine) => Gathered(mine);

    public byte[] AllGather(byte[] mine) => Gathered(mine);

    private T[] Gathered<T>(T[] mine) where T : unmanaged
    {
        var all = new T[mine.Length * Size];
        world.AllgatherFlattened(mine, mine.Length, ref all);
        return all;
    }

    public byte[] Broadcast(byte[] mine)
    {
        var length = mine.Length;
        world.Broadcast(ref length, 0);
        var values = Rank == 0 ? mine : new byte[length];
        if (length > 0) world.Broadcast(ref values, 0);
        return values;
    }

    public void Sum(float[] values)
    {
        var sum = new float[values.Length];
        world.Allreduce(values, MPI.Operation<float>.Add, ref sum);
        sum.CopyTo(values, 0);
    }

    public void Max(float[] values)
    {
        var max = new float[values.Length];
        world.Allreduce(values, MPI.Operation<float>.Max, ref max);
        max.CopyTo(values, 0);
    }

    public void Abort(int code)
    {
        Console.Out.Flush();
        Console.Error.Flush();
        // MPI_Abort has mpiexec kill every process at once, and it could do so before it had passed on the error line
        // just written (a CI run once got the exit code and an empty stderr); a moment lets it forward the line first.
        Thread.Sleep(ForwardingGrace);
        MPI.Environment.Abort(code);
    }

    private static readonly TimeSpan ForwardingGrace = TimeSpan.FromMilliseconds(200);

    /// <summary>MPI_Finalize, with stderr closed: MPICH's datatype engine warns there about the three datatypes MPI.NET
    /// creates at start and never frees ("[WARNING] yaksa: 3 leaked handle pool objects"), once per process.</summary>
    public void Dispose()
    {
        Console.Error.Flush();
        var saved = dup(2);
        var devNull = open("/dev/null", 1);
        if (saved >= 0 && devNull >= 0) dup2(devNull, 2);
        try { environment.Dispose(); }
        finally
        {
            if (saved >= 0) { dup2(saved, 2); close(saved); }
            if (devNull >= 0) close(devNull);
        }
    }

    [DllImport("libc", SetLastError = true)] private static extern int dup(int fd);
    [DllImport("libc", SetLastError = true)] private static extern int dup2(int from, int to);
    [DllImport("libc", SetLastError = true)] private static extern int open(string path, int flags);
    [DllImport("libc", SetLastError = true)] private static extern int close(int fd);
}
