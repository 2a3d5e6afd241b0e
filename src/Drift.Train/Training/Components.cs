using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Train.Training;

/// <summary>Loads the device a config or command names.</summary>
public static class Components
{
    /// <summary>The device names every --device takes, for the messages that refuse another.</summary>
    public const string DeviceNames = "cpu, cuda or cuda:N";

    public static bool IsDeviceName(string name) => name is "cpu" or "cuda" || CudaOrdinal(name) is not null;

    /// <summary>N of cuda:N (digits only), or null.</summary>
    private static int? CudaOrdinal(string name) =>
        name.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(name.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;

    /// <summary>Loads libtorch for the named device, turning TorchSharp's loader failures (whose message
    /// blames a missing package reference) into one line that says what to do.</summary>
    /// <param name="localRank">This process's rank among the processes of a data-parallel run on its machine; null
    /// for a process alone (see <see cref="CudaIndex"/>).</param>
    public static Device Device(string name, int? localRank = null)
    {
        if (!IsDeviceName(name)) throw new UserError($"unknown device '{name}': use {DeviceNames}");
        var cuda = name != "cpu";
        var stdout = Console.Out;
        try
        {
            // TorchSharp prints its loader trace to stdout when loading fails; it is in the exception too.
            Console.SetOut(TextWriter.Null);
            torch.InitializeDeviceType(cuda ? DeviceType.CUDA : DeviceType.CPU);
        }
        catch (Exception e) when (e is NotSupportedException or TypeInitializationException or DllNotFoundException or InvalidOperationException)
        {
            throw new UserError(cuda
                ? $"--device {name}: no CUDA libtorch could be loaded (the default build bundles the CPU libtorch; build with "
                  + "-p:TorchBackend=external and put a CUDA libtorch, e.g. PyTorch's torch/lib, on LD_LIBRARY_PATH)"
                : "libtorch could not be loaded (a -p:TorchBackend=external build needs a libtorch, e.g. PyTorch's torch/lib, "
                  + "on LD_LIBRARY_PATH; DRIFT_DEBUG=1 shows TorchSharp's trace)", e);
        }
        finally
        {
            Console.SetOut(stdout);
        }
        if (!cuda) return CPU;
        if (!torch.cuda.is_available()) throw new UserError($"--device {name}: libtorch loaded but sees no CUDA device");
        return CudaIndex(name, localRank, torch.cuda.device_count()) is { } index ? torch.device(DeviceType.CUDA, index) : CUDA;
    }

    /// <summary>The device as --device names it: cpu, cuda (the current device) or cuda:N.</summary>
    public static string Name(Device device) =>
        device.type == DeviceType.CPU ? "cpu" : device.index < 0 ? "cuda" : $"cuda:{device.index}";

    /// <summary>The GPU a process takes of the <paramref name="count"/> it sees: cuda:N names one; plain cuda gives a
    /// process alone the current device (null: CUDA_VISIBLE_DEVICES' first) and the processes of a data-parallel run one
    /// GPU each on their machine, in turn (local rank mod count), where all would otherwise share the first.</summary>
    public static int? CudaIndex(string name, int? localRank, int count)
    {
        if (CudaOrdinal(name) is { } n)
            return n < count ? n : throw new UserError($"--device {name}: libtorch sees {count} CUDA device(s), cuda:0 to cuda:{count - 1}");
        return localRank % count;
    }
}
