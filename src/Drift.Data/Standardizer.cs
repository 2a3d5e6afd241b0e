using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Data;

/// <summary>Per-dimension affine map between data units and the standardised space the generator lives in.
/// Saved with each checkpoint, so sampling needs no data.</summary>
public sealed record Standardizer(double[] Mean, double[] Std)
{
    public static Standardizer Identity(int dim) => new(new double[dim], Enumerable.Repeat(1.0, dim).ToArray());

    public static Standardizer Fit(Tensor points)
    {
        using var scope = torch.NewDisposeScope();
        var p = points.to(float64);
        var mean = p.mean([0]).data<double>().ToArray();
        var std = p.std(0).data<double>().ToArray();
        // A constant column has no spread to standardise by.
        return new Standardizer(mean, std.Select(s => s > 1e-12 ? s : 1.0).ToArray());
    }

    public Tensor Normalize(Tensor raw) => (raw - AsTensor(Mean, raw)) / AsTensor(Std, raw);

    public Tensor Denormalize(Tensor z) => z * AsTensor(Std, z) + AsTensor(Mean, z);

    private static Tensor AsTensor(double[] v, Tensor like) => torch.tensor(v, dtype: like.dtype, device: like.device);
}
