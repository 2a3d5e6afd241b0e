using Drift.Export;
using Drift.Models;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;
using DenseLongs = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<long>;
using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Tests;

/// <summary>Every exported generator, run by ONNX Runtime (a second implementation of every layer), against the TorchSharp
/// module on the same inputs: random weights drawn wide enough that the output clamp and every affine map matter.</summary>
public class OnnxExportTests
{
    private const double Tolerance = 1e-4;

    [Theory]
    [InlineData(8, 16, 1, 2)]
    [InlineData(4, 64, 3, 5)]
    public void MlpGraphMatchesTheModule(int noiseDim, int width, int depth, int dim)
    {
        var (rng, seed) = Tensors.Fresh();
        using var model = new MlpGenerator(noiseDim, width, depth, dim);
        Scramble(model, rng);
        var mean = Enumerable.Range(0, dim).Select(_ => 3 * torch.randn(1, generator: rng).item<float>() + 0.0).ToArray();
        var std = Enumerable.Range(0, dim).Select(_ => Math.Exp(torch.randn(1, generator: rng).item<float>())).ToArray();
        using var noise = torch.randn([37, noiseDim], generator: rng);
        using var expected = model.forward(noise).detach() * torch.tensor(std, dtype: float32) + torch.tensor(mean, dtype: float32);

        var actual = Run(OnnxGenerators.Mlp(model, mean, std, "test"), (OnnxGenerators.Noise, noise));
        Assert.True(MaxAbsDiff(expected, actual) <= Tolerance * Math.Max(1, expected.abs().max().item<float>()),
            $"seed {seed}: max |ONNX − TorchSharp| = {MaxAbsDiff(expected, actual):g3}");
    }

    [Theory]
    [InlineData(28, 1, 10, 8, 0, true, false)]
    [InlineData(28, 1, 10, 16, 1, true, true)]
    [InlineData(32, 3, 0, 8, 0, false, false)]
    [InlineData(32, 3, 10, 16, 2, true, true)]
    [InlineData(64, 1, 0, 4, 0, false, false)]
    public void ConvGraphMatchesTheModule(int size, int channels, int classes, int width, int gridBlocks, bool labels, bool guidance)
    {
        var (rng, seed) = Tensors.Fresh();
        using var model = new ConvGenerator(8, size, channels, classes, width, gridBlocks);
        Scramble(model, rng);
        model.eval();
        const int n = 5;
        using var noise = torch.randn([n, 8], generator: rng);
        using var labelTensor = labels ? torch.randint(0, classes + 1, [n], generator: rng) : torch.full(n, (long)classes);
        using var alpha = guidance ? 1 + 2 * torch.rand(n, generator: rng) : torch.ones(n);
        ToUnitOutput(model, noise, labelTensor, alpha);
        using var raw = model.forward(noise, labelTensor, alpha).detach();
        using var expected = raw.add(1).mul(0.5).clamp(0, 1);

        var inputs = new List<(string, Tensor)> { (OnnxGenerators.Noise, noise) };
        if (labels) inputs.Add((OnnxGenerators.Labels, labelTensor));
        if (guidance) inputs.Add((OnnxGenerators.Guidance, alpha));
        var actual = Run(OnnxGenerators.Conv(model, labels, guidance, "test"), inputs.ToArray());
        Assert.Equal(expected.shape, actual.shape);
        var clipped = (expected == 0).logical_or(expected == 1).to(float32).mean().item<float>();
        Assert.True(clipped is > 0.01f and < 0.99f, $"seed {seed}: {clipped:P0} of the pixels clamped; the draw does not exercise the clamp");
        Assert.True(MaxAbsDiff(expected, actual) <= Tolerance, $"seed {seed}: max |ONNX − TorchSharp| = {MaxAbsDiff(expected, actual):g3}");
    }

    /// <summary>Rescales the output convolution so that the raw images on these inputs have mean 0 and standard deviation 1:
    /// about a third of the pixels then fall outside [−1, 1], and the export's clamp is exercised on every draw.</summary>
    private static void ToUnitOutput(ConvGenerator model, Tensor noise, Tensor labels, Tensor alpha)
    {
        using var noGrad = torch.no_grad();
        using var raw = model.forward(noise, labels, alpha);
        var (mean, std) = (raw.mean().item<float>(), raw.std().item<float>());
        var output = model.named_parameters().Where(p => p.name.StartsWith("output.")).ToDictionary(p => p.name, p => p.parameter);
        output["output.weight"].div_(std);
        output["output.bias"].sub_(mean).div_(std);
    }

    /// <summary>Every parameter redrawn from N(0, 0.6²/fan-in) (norm weights around 1, the image output layer five times
    /// wider), so no layer is near the identity or near zero: a misplaced transpose, group or bias shows.</summary>
    internal static void Scramble(nn.Module model, Generator rng)
    {
        using var noGrad = torch.no_grad();
        foreach (var (name, p) in model.named_parameters())
        {
            var fan = p.dim() > 1 ? p.shape.Skip(1).Aggregate(1L, (a, b) => a * b) : 1;
            var draw = torch.randn(p.shape, generator: rng) * ((name.StartsWith("output.") ? 3.0 : 0.6) / Math.Sqrt(fan));
            p.copy_(name.Contains("norm") && name.EndsWith("weight") ? draw + 1 : draw);
        }
    }

    /// <summary>Runs <paramref name="model"/> in ONNX Runtime; its one output as a tensor.</summary>
    internal static Tensor Run(Onnx.ModelProto model, params (string Name, Tensor Value)[] inputs) => Run(model.ToByteArray(), inputs);

    internal static Tensor Run(byte[] model, params (string Name, Tensor Value)[] inputs)
    {
        using var session = new InferenceSession(model);
        var values = inputs.Select(i => i.Value.dtype == ScalarType.Int64
            ? NamedOnnxValue.CreateFromTensor(i.Name, new DenseLongs(i.Value.data<long>().ToArray(), i.Value.shape.Select(d => (int)d).ToArray()))
            : NamedOnnxValue.CreateFromTensor(i.Name, new DenseTensor(i.Value.contiguous().data<float>().ToArray(), i.Value.shape.Select(d => (int)d).ToArray()))).ToList();
        using var results = session.Run(values);
        var output = results.Single().AsTensor<float>();
        return torch.tensor(output.ToArray(), output.Dimensions.ToArray().Select(d => (long)d).ToArray());
    }

    private static double MaxAbsDiff(Tensor a, Tensor b) => (a - b).abs().max().item<float>();
}
