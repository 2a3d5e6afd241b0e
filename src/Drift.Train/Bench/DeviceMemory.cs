using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Train.Bench;

/// <summary>
/// The most device memory in use while a benchmark runs, sampled from NVML about every millisecond.
/// TorchSharp 0.107 exposes no CUDA allocator statistics, so this is the whole device as the driver sees
/// it: the CUDA context and the caching allocator's reserve, which earlier work leaves behind, included.
/// NVML numbers devices in PCI order, ignoring CUDA_VISIBLE_DEVICES.
/// </summary>
internal sealed class DeviceMemory : IDisposable
{
    private readonly Thread? sampler;
    private volatile bool stop;
    private long peak = -1;

    private DeviceMemory(IntPtr device)
    {
        sampler = new Thread(() =>
        {
            while (!stop)
            {
                if (nvmlDeviceGetMemoryInfo(device, out var memory) == 0)
                    Interlocked.Exchange(ref peak, Math.Max(Interlocked.Read(ref peak), (long)memory.Used));
                Thread.Sleep(1);
            }
        }) { IsBackground = true };
        sampler.Start();
    }

    private DeviceMemory() { }

    /// <summary>Starts sampling on a CUDA device; elsewhere, or without NVML, reports "n/a".</summary>
    public static DeviceMemory Watch(Device device)
    {
        if (device.type != DeviceType.CUDA) return new();
        try
        {
            return Nvml.Value && nvmlDeviceGetHandleByIndex_v2((uint)Math.Max(0, (int)device.index), out var handle) == 0 ? new(handle) : new();
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return new();
        }
    }

    /// <summary>GiB, or "n/a" where NVML gave nothing.</summary>
    public string PeakText => Interlocked.Read(ref peak) is var p and >= 0 ? $"{p / (double)(1L << 30):F2}" : "n/a";

    public void Dispose()
    {
        stop = true;
        sampler?.Join();
    }

    private static readonly Lazy<bool> Nvml = new(() =>
    {
        try { return nvmlInit_v2() == 0; }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return false; }
    });

    [StructLayout(LayoutKind.Sequential)]
    private struct NvmlMemory
    {
        public ulong Total, Free, Used;
    }

    private const string Library = "libnvidia-ml.so.1";

    [DllImport(Library)]
    private static extern int nvmlInit_v2();

    [DllImport(Library)]
    private static extern int nvmlDeviceGetHandleByIndex_v2(uint index, out IntPtr device);

    [DllImport(Library)]
    private static extern int nvmlDeviceGetMemoryInfo(IntPtr device, out NvmlMemory memory);
}
