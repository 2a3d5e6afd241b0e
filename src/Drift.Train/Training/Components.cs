using Drift.Loss;
using Drift.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Train.Training;

/// <summary>Builds the field, the generator and the device a config names.</summary>
public static class Components
{
    public static IDriftField Field(TrainConfig c) => c.Field switch
    {
        "conservative" => new ConservativeField(c.Bandwidths,
            c.SelfTerm == "include" ? SelfTerm.Include : SelfTerm.Exclude, c.NormalizeScales),
        "laplace" => new LaplaceField(c.Temperatures, c.NormalizeScales),
        _ => throw new UserError($"unknown field '{c.Field}'"),
    };

    public static MlpGenerator Generator(TrainConfig c, int dim) => new(c.NoiseDim, c.Width, c.Depth, dim);

    public static Device Device(string name)
    {
        if (name == "cpu") return CPU;
        if (name != "cuda") throw new UserError($"unknown device '{name}': use cpu or cuda");
        if (!torch.cuda.is_available())
            throw new UserError("--device cuda: no CUDA device or CUDA libtorch here (this build bundles the CPU libtorch; "
                + "build with -p:TorchBackend=external and put a CUDA libtorch on LD_LIBRARY_PATH)");
        return CUDA;
    }
}
