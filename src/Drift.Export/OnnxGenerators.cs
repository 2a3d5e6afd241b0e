using Drift.Models;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Drift.Export;

/// <summary>
/// Drift's generators as ONNX graphs that return what <c>drift sample</c> returns: points in data units, images in
/// [0, 1]. The graphs are written from the modules' named parameters, layer by layer as the modules' forward passes
/// compute; the tests hold each graph, run by ONNX Runtime, to the module's own output.
/// </summary>
public static class OnnxGenerators
{
    public const string Noise = "noise", Labels = "labels", Guidance = "guidance", Points = "points", Images = "images";

    /// <summary>noise [B, noiseDim] → points [B, d] = generator(noise)·std + mean.</summary>
    public static ModelProto Mlp(MlpGenerator model, double[] mean, double[] std, string version)
    {
        var g = new OnnxGraph();
        var p = Parameters(model);
        g.Input(Noise, DataType.Float, OnnxGraph.Batch, model.NoiseDim);
        var h = Noise;
        for (var i = 0; p.ContainsKey($"net.fc{i}.weight"); i++)
            h = g.Silu(g.Linear(h, g.Weight($"net.fc{i}.weight", p[$"net.fc{i}.weight"]), g.Weight($"net.fc{i}.bias", p[$"net.fc{i}.bias"])));
        var z = g.Linear(h, g.Weight("net.out.weight", p["net.out.weight"]), g.Weight("net.out.bias", p["net.out.bias"]));
        var points = g.Named(g.Add(g.Mul(z, g.Floats(std.Select(s => (float)s).ToArray())), g.Floats(mean.Select(m => (float)m).ToArray())), Points);
        g.Output(points, DataType.Float, OnnxGraph.Batch, mean.Length);
        return g.Model("drift", version);
    }

    /// <summary>noise [B, noiseDim] (with <paramref name="labelsInput"/>: labels int64 [B]; with <paramref name="guidanceInput"/>:
    /// guidance float [B]) → images [B, C, H, W] in [0, 1] = clamp((generator + 1)/2). Without labels the generator is told
    /// "no class" (index <see cref="ConvGenerator.Classes"/>), without guidance α = 1.</summary>
    public static ModelProto Conv(ConvGenerator model, bool labelsInput, bool guidanceInput, string version)
    {
        var g = new OnnxGraph();
        var p = Parameters(model);
        string W(string name) => g.Weight(name, p[name]);
        var condDim = p["label.weight"].shape[1];
        g.Input(Noise, DataType.Float, OnnxGraph.Batch, model.NoiseDim);

        // cond = silu(label(l) + guidance(α − 1)): the guidance term is its bias alone at α = 1.
        string cond;
        if (labelsInput)
        {
            g.Input(Labels, DataType.Int64, OnnxGraph.Batch);
            string guidanceTerm;
            if (guidanceInput)
            {
                g.Input(Guidance, DataType.Float, OnnxGraph.Batch);
                guidanceTerm = g.Linear(g.Unsqueeze(g.Sub(Guidance, g.Floats(1)), 1), W("guidance.weight"), W("guidance.bias"));
            }
            else
                guidanceTerm = W("guidance.bias");
            cond = g.Silu(g.Add(g.Gather(W("label.weight"), Labels), guidanceTerm));
        }
        else
        {
            using var noGrad = torch.no_grad();
            using var row = nn.functional.silu(p["label.weight"][model.Classes] + p["guidance.bias"]).unsqueeze(0);
            cond = g.RepeatForBatch(g.Weight("unconditional_cond", row), Noise, condDim);
        }

        var stem = p["stem.weight"];
        var c0 = p[Blocks(p, "gridBlocks") > 0 ? "gridBlocks.0.conv1.weight" : "blocks.0.conv1.weight"].shape[1];
        var grid = (long)Math.Round(Math.Sqrt(stem.shape[0] / c0));
        var h = g.Silu(g.Linear(g.Concat(1, Noise, cond), W("stem.weight"), W("stem.bias")));
        h = g.Reshape(h, g.Longs(-1, c0, grid, grid));
        for (var i = 0; i < Blocks(p, "gridBlocks"); i++)
            h = Block(g, p, $"gridBlocks.{i}", h, cond, upsample: false);
        for (var i = 0; i < Blocks(p, "blocks"); i++)
            h = Block(g, p, $"blocks.{i}", h, cond, upsample: true);
        var output = p["output.weight"];
        h = g.Conv(h, W("output.weight"), W("output.bias"), output.shape[2]);
        var images = g.Named(g.Clip(g.Mul(g.Add(h, g.Floats(1)), g.Floats(0.5f)), 0, 1), Images);
        var size = grid << Blocks(p, "blocks");
        g.Output(images, DataType.Float, OnnxGraph.Batch, output.shape[0], size, size);
        return g.Model("drift", version);
    }

    /// <summary><see cref="ConvGenerator.ConvBlock"/>'s forward pass.</summary>
    private static string Block(OnnxGraph g, IReadOnlyDictionary<string, Tensor> p, string prefix, string x, string cond, bool upsample)
    {
        string W(string name) => g.Weight($"{prefix}.{name}", p[$"{prefix}.{name}"]);
        var channels = p[$"{prefix}.conv1.weight"].shape[0];
        var kernel = p[$"{prefix}.conv1.weight"].shape[2];
        var groups = ConvGenerator.ConvBlock.Groups(channels);
        var eps = (float)ConvGenerator.ConvBlock.NormEpsilon;
        var h = g.Conv(upsample ? g.Upsample2(x) : x, W("conv1.weight"), W("conv1.bias"), kernel);
        var (scale, shift) = g.Halves(g.Unsqueeze(g.Linear(cond, W("film.weight"), W("film.bias")), 2, 3), 1, channels);
        h = g.Silu(g.Add(g.Mul(g.GroupNorm(h, groups, channels, W("norm1.weight"), W("norm1.bias"), eps), g.Add(scale, g.Floats(1))), shift));
        h = g.Silu(g.GroupNorm(g.Conv(h, W("conv2.weight"), W("conv2.bias"), kernel), groups, channels, W("norm2.weight"), W("norm2.bias"), eps));
        return upsample ? h : g.Add(x, h);
    }

    private static int Blocks(IReadOnlyDictionary<string, Tensor> p, string list)
    {
        var n = 0;
        while (p.ContainsKey($"{list}.{n}.conv1.weight")) n++;
        return n;
    }

    private static Dictionary<string, Tensor> Parameters(nn.Module module) =>
        module.named_parameters().ToDictionary(np => np.name, np => (Tensor)np.parameter);
}
