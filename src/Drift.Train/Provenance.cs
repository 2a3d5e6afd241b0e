using System.Reflection;
using System.Runtime.InteropServices;
using TorchSharp;

namespace Drift.Train;

/// <summary>What made a result: Drift's version (with its git commit), TorchSharp's and libtorch's, .NET's, and the CPU.
/// A run's log and a bench report start with it (an export's card names the Drift build), so that numbers from two
/// machines or two builds are never compared unknowingly: libtorch's CPU convolution, for one, computes wrong gradients
/// on some AVX-512 CPUs and not others.</summary>
public static class Provenance
{
    /// <summary>This build of Drift: "drift VERSION+COMMIT".</summary>
    public static string Drift => $"drift {Version(typeof(Provenance).Assembly)}";

    public static string Describe() =>
        $"{Drift}, TorchSharp {Version(typeof(torch).Assembly)} with libtorch {torch.__version__}, "
        + $".NET {Environment.Version}, {RuntimeInformation.OSDescription} {RuntimeInformation.OSArchitecture}, {Cpu()}{Capped()}, "
        + $"{Environment.ProcessorCount} CPU threads, libtorch threads {torch.get_num_threads()}";

    /// <summary>The variables that cap the instruction set libtorch's kernels choose for this CPU (ATen's vector code,
    /// oneDNN's convolutions, MKL's matrix products), where set: a process under them computes as a CPU without the wider
    /// sets would (tests/as-other-cpus.sh), which the CPU's own flags no longer say.</summary>
    private static readonly string[] InstructionSetCaps = ["ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA", "MKL_ENABLE_INSTRUCTIONS"];

    private static string Capped()
    {
        var set = InstructionSetCaps.Select(name => (name, value: Environment.GetEnvironmentVariable(name)))
            .Where(v => !string.IsNullOrEmpty(v.value)).Select(v => $"{v.name}={v.value}").ToArray();
        return set.Length == 0 ? "" : $", capped by {string.Join(" ", set)}";
    }

    private static string Version(Assembly assembly) =>
        assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? $"{assembly.GetName().Version}";

    /// <summary>The CPU's model and whether it has AVX-512, from /proc/cpuinfo; "CPU unknown" where there is none.</summary>
    private static string Cpu()
    {
        const string cpuinfo = "/proc/cpuinfo";
        if (!File.Exists(cpuinfo)) return "CPU unknown";
        var lines = File.ReadLines(cpuinfo).TakeWhile(l => l.Length > 0).ToArray();
        string? Field(string name) => lines.FirstOrDefault(l => l.StartsWith(name + "\t") || l.StartsWith(name + " "))?.Split(':', 2)[1].Trim();
        var flags = (Field("flags") ?? "").Split(' ');
        return $"{Field("model name") ?? "CPU model unknown"}{(flags.Contains("avx512f") ? " (AVX-512)" : "")}";
    }
}
