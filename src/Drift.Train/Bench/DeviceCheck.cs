using Drift.Loss;
using Drift.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Train.Bench;

/// <summary>One check of <see cref="DeviceCheck"/>: its largest error relative to the float64 CPU reference, and its bound.</summary>
public sealed record CheckResult(string Name, double Error, double Bound)
{
    public bool Passed => Error <= Bound;
}

/// <summary>
/// <c>drift check</c>: what the tests prove on the CPU, run on a device (the day a GPU is lent, before anything is
/// measured there): every field on its automatic and its chunked path, grouped problems, the drift loss's gradient,
/// and the generators' forward and backward passes (on CUDA the convolutions run unpadded, see SafeConv2d), each
/// in float32 on the device against a float64 copy on the CPU. TF32 is off for these (strict float32); with
/// <c>tf32</c> the fields are checked once more with it on, against a looser bound.
/// </summary>
public static class DeviceCheck
{
    private const double Float32Bound = 1e-3, Tf32Bound = 1e-2;

    public static IReadOnlyList<CheckResult> Run(Device device, bool tf32, long seed)
    {
        var results = new List<CheckResult>();
        var cuda = device.type == DeviceType.CUDA;
        if (cuda) torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = false;
        using var rng = new Generator((ulong)seed);
        using (var x = torch.randn([300, 48], generator: rng))
        using (var pos = torch.randn([400, 48], generator: rng) + 0.3)
        {
            foreach (var kind in FieldKind.All)
            {
                results.Add(Field(kind, x, pos, device, null, "auto"));
                if (kind.Paths != FieldPaths.Dense)
                    results.Add(Field(kind, x, pos, device, new FieldChunking(64, kind.Paths == FieldPaths.RowAndColumnChunks ? 128 : 700), "chunks of 64 rows"));
            }
            results.Add(Loss(x, pos, device));
            if (cuda && tf32)
            {
                torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = true;
                foreach (var kind in FieldKind.All)
                    results.Add(Field(kind, x, pos, device, null, "auto, TF32") with { Bound = Tf32Bound });
                torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = false;
            }
        }
        using (var groupedX = torch.randn([3, 100, 16], generator: rng))
        using (var groupedPos = torch.randn([3, 120, 16], generator: rng))
            foreach (var kind in FieldKind.All)
                results.Add(Field(kind, groupedX, groupedPos, device, null, "3 groups") with { Name = $"{kind.Name} field, 3 groups" });
        results.Add(Network("MLP generator 8→64×3→2", () => new MlpGenerator(8, 64, 3, 2), [torch.randn([64, 8], generator: rng)],
            (m, i) => m.forward(i[0]), device, seed));
        foreach (var (size, channels, width) in new[] { (28, 1, 16), (32, 3, 8) })
            results.Add(Network($"conv generator {channels}×{size}², width {width}", () => new ConvGenerator(16, size, channels, 10, width, gridBlocks: 1),
                [torch.randn([12, 16], generator: rng), torch.randint(0, 11, [12], generator: rng), 1 + torch.rand(12, generator: rng)],
                (m, i) => m.forward(i[0], i[1], i[2]), device, seed));
        if (cuda) torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = true;
        return results;
    }

    /// <summary>The field on the device (float32) against the dense field on the CPU (float64).</summary>
    private static CheckResult Field(FieldKind kind, Tensor x, Tensor pos, Device device, FieldChunking? chunks, string path)
    {
        using var scope = torch.NewDisposeScope();
        var scales = kind.Scale.Typical.Take(2).Select(s => s * Math.Sqrt(x.shape[^1])).ToArray();
        var onDevice = kind.Create(new FieldParameters(scales) { Chunking = chunks }).Compute(x.to(device), pos.to(device)).Velocity;
        var reference = kind.Create(new FieldParameters(scales) { Chunking = new FieldChunking(int.MaxValue, int.MaxValue) })
            .Compute(x.to(float64), pos.to(float64)).Velocity;
        return new($"{kind.Name} field, {path}", RelativeMax(onDevice, reference), Float32Bound);
    }

    /// <summary>The drift loss's gradient with respect to the samples, −2ηV/B, on the device against the CPU in float64.</summary>
    private static CheckResult Loss(Tensor x, Tensor pos, Device device)
    {
        using var scope = torch.NewDisposeScope();
        Tensor Gradient(Tensor samples, Tensor positives)
        {
            var leaf = samples.detach().requires_grad_(true);
            DriftLoss.Compute(FieldKind.Conservative.Create(new FieldParameters([2.0, 6.0])), leaf, positives, 0.5).Loss.backward();
            return leaf.grad!;
        }
        return new("drift loss gradient (conservative)", RelativeMax(Gradient(x.to(device), pos.to(device)), Gradient(x.to(float64), pos.to(float64))), Float32Bound);
    }

    /// <summary>A network's output, the gradients of a random linear function of it with respect to its float inputs and to
    /// every parameter, on the device (float32) against the same weights and inputs on the CPU (float64).</summary>
    private static CheckResult Network<T>(string name, Func<T> build, Tensor[] inputs, Func<T, Tensor[], Tensor> forward, Device device, long seed)
        where T : nn.Module
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(seed);
        using var onDevice = build();
        torch.manual_seed(seed);
        using var reference = build();
        onDevice.to(device);
        reference.to(float64);
        Tensor[] Place(Device d, ScalarType type) =>
            inputs.Select(i => i.is_floating_point() ? i.to(type, d).detach().requires_grad_(true) : i.to(d)).ToArray();
        var (deviceInputs, referenceInputs) = (Place(device, float32), Place(CPU, float64));
        var output = forward(onDevice, deviceInputs);
        var expected = forward(reference, referenceInputs);
        var worst = RelativeL2(output, expected);
        var weights = torch.randn(expected.shape, dtype: float64);
        (output * weights.to(float32).to(device)).sum().backward();
        (expected * weights).sum().backward();
        foreach (var (a, b) in deviceInputs.Zip(referenceInputs).Where(p => p.First.is_floating_point()))
            worst = Math.Max(worst, RelativeL2(a.grad!, b.grad!));
        // A parameter whose gradient is zero in exact arithmetic (a convolution's bias before a group norm of one channel per
        // group), or nearly so as a sum that cancels (the output bias's, over every pixel of the batch), is measured against
        // 1e-3 of the whole gradient's norm, as CpuConvolutionOracleTests does, not against its own rounding noise: against
        // 1e-4 the output bias of the 1×28² generator read 5.7e-4 at seed 150461 (an error of 6e-8 of the whole gradient,
        // float32's rounding of that sum); against 1e-3 a wrong gradient still fails: that output bias's gradient was 6.6e-5
        // of the whole, so one wrong by a tenth of itself reads 6.6e-3.
        var pairs = onDevice.parameters().Zip(reference.parameters()).ToArray();
        var total = Math.Sqrt(pairs.Sum(p => Math.Pow(p.Second.grad!.norm().item<double>(), 2)));
        foreach (var (a, b) in pairs)
            worst = Math.Max(worst, RelativeL2(a.grad!, b.grad!, 1e-3 * total));
        return new($"{name}: output and gradients", worst, Float32Bound);
    }

    private static double RelativeMax(Tensor a, Tensor b)
    {
        var diff = (a.to(float64).cpu() - b.to(float64).cpu()).abs().max().item<double>();
        return diff / Math.Max(1e-12, b.abs().max().item<double>());
    }

    private static double RelativeL2(Tensor a, Tensor b, double floor = 1e-12)
    {
        var diff = (a.to(float64).cpu() - b.to(float64).cpu()).norm().item<double>();
        return diff / Math.Max(floor, b.norm().item<double>());
    }
}
