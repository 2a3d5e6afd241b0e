using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Loss;

/// <summary>
/// The uniform distribution on the cube [−a, a]^d with a = √3 (unit variance per axis, like N(0, I)): a target
/// with a discontinuous density, whose smoothed score is not h-uniformly regular. ν_h factorises over axes,
/// ν_h(x) = Π_k [Φ((a − x_k)/h) − Φ((−a − x_k)/h)]/(2a), so each axis of the score is
/// s(x) = [φ((−a − x)/h) − φ((a − x)/h)] / (h [Φ((a − x)/h) − Φ((−a − x)/h)]): 0 deep inside, of order 1/h in a
/// boundary layer of width h, and −(x ∓ a)/h² far outside.
/// </summary>
public sealed class UniformCube(int dim) : ISmoothedTarget
{
    public static readonly double HalfWidth = Math.Sqrt(3);

    public int Dim { get; } = dim >= 1 ? dim : throw new ArgumentException($"a cube needs d ≥ 1, got {dim}");

    public Tensor Sample(int n, Generator g, ScalarType dtype = ScalarType.Float64) =>
        ((torch.rand([n, Dim], dtype: float64, generator: g) * 2 - 1) * HalfWidth).to(dtype);

    /// <remarks>Odd in each axis, so computed at t = |x| and given x's sign. With u = (a − t)/h ≥ l = (−a − t)/h:
    /// inside (u ≥ 0) Φ(u) − Φ(l) ≥ 1/2 − Φ(−a/h) has no cancellation and the plain form is exact; outside
    /// (u &lt; 0) both Φ underflow together, so numerator and denominator are divided by φ(u), with
    /// erfc(z) = erfcx(z)·e^(−z²): s = −√(2/π)(1 − E) / (h [erfcx(−u/√2) − E·erfcx(−l/√2)]), E = e^(−2at/h²).</remarks>
    public Tensor SmoothedScore(Tensor x, double h)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var a = HalfWidth;
        var t = x.abs();
        var u = (a - t) / h;
        var l = (-a - t) / h;
        var inside = (Density(l) - Density(u)) / (h * (Phi(u) - Phi(l)));
        var e = torch.exp(-2 * a * t / (h * h));
        var outside = -Math.Sqrt(2 / Math.PI) * (1 - e)
            / (h * (Erfcx(-u / Math.Sqrt(2)) - e * Erfcx(-l / Math.Sqrt(2))));
        return (torch.where(u >= 0, inside, outside) * x.sign()).MoveToOuterDisposeScope();
    }

    /// <summary>erfcx(z) = e^(z²) erfc(z) for z ≥ 0: directly below 20, above by its asymptotic series
    /// (1/(z√π))(1 − 1/(2z²) + 3/(4z⁴) − 15/(8z⁶)), whose next term is 3e-10 of it at z = 20. Written out because
    /// TorchSharp 0.107's torch.special.erfcx returns erfc (checked against PyTorch: erfcx(1) = 0.4276).</summary>
    private static Tensor Erfcx(Tensor z)
    {
        var direct = torch.exp(z * z) * torch.special.erfc(z);
        var w = 1 / (2 * z * z);
        var series = (1 - w * (1 - 3 * w * (1 - 5 * w))) / (z * Math.Sqrt(Math.PI));
        return torch.where(z < 20, direct, series);
    }

    private static Tensor Phi(Tensor z) => 0.5 * torch.special.erfc(-z / Math.Sqrt(2));

    private static Tensor Density(Tensor z) => torch.exp(-0.5 * z * z) / Math.Sqrt(2 * Math.PI);
}
