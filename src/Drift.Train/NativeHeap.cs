using System.Runtime.InteropServices;

namespace Drift.Train;

/// <summary>
/// glibc's malloc settings for libtorch's CPU tensors, which it allocates with malloc and frees at the end of
/// every step. By default glibc returns freed memory at the top of its heap to the kernel (trim threshold) and
/// serves large blocks with fresh mmaps (a threshold it moves between 128 KiB and 32 MiB), so each step
/// page-faults its activations in again and the kernel zeroes every page: 17 % of a profiled image step
/// (width 32, 320 images), 20 % of its time measured (docs/bench.md, "A faster image step"). Keeping freed
/// memory in the process and serving blocks up to 32 MiB (glibc's ceiling) from the heap removes most of it;
/// resident memory then stays at the run's peak, which it reached once anyway.
/// </summary>
public static class NativeHeap
{
    private const int TrimThreshold = -1, MmapThreshold = -3;
    /// <summary>The largest block served from the heap; a larger one is a fresh mmap, page-faulted in and zeroed.</summary>
    public const int LargestHeapBlock = 32 << 20;
    private const int KeepFreed = 1 << 30;

    /// <summary>Applies the settings where the C library is glibc; elsewhere (musl, macOS, Windows) leaves the defaults.</summary>
    public static void KeepFreedMemory()
    {
        if (!OperatingSystem.IsLinux()) return;
        try
        {
            mallopt(MmapThreshold, LargestHeapBlock);
            mallopt(TrimThreshold, KeepFreed);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException) { }
    }

    [DllImport("libc.so.6")] private static extern int mallopt(int param, int value);
}
