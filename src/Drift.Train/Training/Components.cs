using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Train.Training;

/// <summary>Loads the device a config or command names.</summary>
public static class Components
{
    /// <summary>Loads libtorch for the named device, turning TorchSharp's loader failures (whose message
    /// blames a missing package reference) into one line that says what to do.</summary>
    public static Device Device(string name)
    {
        if (name is not ("cpu" or "cuda")) throw new UserError($"unknown device '{name}': use cpu or cuda");
        var cuda = name == "cuda";
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
                ? "--device cuda: no CUDA libtorch could be loaded (the default build bundles the CPU libtorch; build with "
                  + "-p:TorchBackend=external and put a CUDA libtorch, e.g. PyTorch's torch/lib, on LD_LIBRARY_PATH)"
                : "libtorch could not be loaded (a -p:TorchBackend=external build needs a libtorch, e.g. PyTorch's torch/lib, "
                  + "on LD_LIBRARY_PATH; DRIFT_DEBUG=1 shows TorchSharp's trace)", e);
        }
        finally
        {
            Console.SetOut(stdout);
        }
        if (cuda && !torch.cuda.is_available()) throw new UserError("--device cuda: libtorch loaded but sees no CUDA device");
        return cuda ? CUDA : CPU;
    }
}
