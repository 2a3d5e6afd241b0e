using System.CommandLine;

namespace Drift.Train.Cli;

/// <summary><c>--device</c>, as every command that runs tensors takes it.</summary>
public static class DeviceOption
{
    private const string Names = "cpu (default), cuda or cuda:N (GPU N).";

    /// <summary>The description of a training run's --device (bound to its config).</summary>
    public const string ForRuns = Names + " In a data-parallel run plain cuda gives the processes on each machine one GPU each, in turn.";

    /// <summary>The option of a command that is not a training run.</summary>
    public static Option<string> Create(string? scope = null) => new("--device")
    {
        Description = scope is null ? Names : $"{scope}: {Names}",
        DefaultValueFactory = _ => "cpu",
    };

    /// <summary>A bench's or check's --tf32 on the CPU, where no matmul has a TF32 mode, would time or check plain float32
    /// while its table read as asked.</summary>
    public static void CheckTf32(bool tf32, TorchSharp.torch.Device device)
    {
        if (tf32 && device.type != TorchSharp.DeviceType.CUDA)
            throw new UserError($"--tf32 is for CUDA devices (--device cuda); on the {device.type} every matmul is float32");
    }
}
