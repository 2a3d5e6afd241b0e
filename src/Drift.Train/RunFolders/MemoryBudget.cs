namespace Drift.Train.RunFolders;

/// <summary>Refuses a run whose memory estimate is past what the machine has free, before it allocates: left to
/// run, it would grow until the kernel kills it (and, on a shared machine, others with it).</summary>
public static class MemoryBudget
{
    /// <summary>Throws a <see cref="UserError"/> when the run's estimate exceeds the memory available now.
    /// CUDA runs are not checked: their memory is the device's, which the host cannot see.</summary>
    public static void Check(IRunConfig config)
    {
        if (config.Device == "cpu") Check(config.EstimatedBytes(), "this run", "use a smaller batch or width");
    }

    /// <summary>Throws a <see cref="UserError"/> when <paramref name="needed"/> bytes exceed the memory available now.</summary>
    /// <param name="what">What needs it, in the message: "this run", "eval --n 20000".</param>
    /// <param name="advice">What to do instead.</param>
    public static void Check(double needed, string what, string advice)
    {
        var available = Available();
        if (needed > available)
            throw new UserError($"{what} needs at least {Gib(needed)} of memory and {Gib(available)} are available: {advice}");
    }

    /// <summary>MemAvailable of /proc/meminfo (free memory plus what the page cache can give back), within the
    /// process's own limit (a container's cgroup); the runtime's figure alone where there is no /proc.</summary>
    public static double Available()
    {
        double limit = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        const string meminfo = "/proc/meminfo";
        if (!File.Exists(meminfo)) return limit;
        var line = File.ReadLines(meminfo).FirstOrDefault(l => l.StartsWith("MemAvailable:"));
        return line is null ? limit : Math.Min(limit, double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024);
    }

    private static string Gib(double bytes) => bytes >= 1L << 40 ? $"{bytes / (1L << 40):N0} TiB" : $"{bytes / (1 << 30):F1} GiB";
}
