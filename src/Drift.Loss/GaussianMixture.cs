using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Loss;

/// <summary>
/// A mixture of isotropic Gaussians Σ_k w_k N(μ_k, σ_k² I): a target whose Gaussian-smoothed density
/// ν_h = ν * N(0, h² I) = Σ_k w_k N(μ_k, (σ_k² + h²) I) has an exact score, so a conservative field
/// against it needs no target samples.
/// </summary>
public sealed class GaussianMixture : ISmoothedTarget
{
    private readonly double[,] means;
    private readonly double[] stds;
    private readonly double[] weights;

    public GaussianMixture(double[,] means, double[] stds, double[] weights)
    {
        var k = means.GetLength(0);
        if (k == 0 || stds.Length != k || weights.Length != k)
            throw new ArgumentException("a mixture needs as many stds and weights as means, at least one");
        if (stds.Any(s => !(s > 0)) || weights.Any(w => !(w > 0)))
            throw new ArgumentException("mixture stds and weights must be positive");
        this.means = means;
        this.stds = stds;
        var total = weights.Sum();
        this.weights = weights.Select(w => w / total).ToArray();
    }

    public int Dim => means.GetLength(1);

    /// <summary>The component means [K, d] (a copy).</summary>
    public double[,] Means => (double[,])means.Clone();

    /// <summary>The component standard deviations (a copy).</summary>
    public double[] Stds => (double[])stds.Clone();

    /// <summary>The normalised component weights (a copy).</summary>
    public double[] Weights => (double[])weights.Clone();

    /// <summary>N(0, I) in d dimensions.</summary>
    public static GaussianMixture StandardNormal(int d) => new(new double[1, d], [1.0], [1.0]);

    /// <summary>Equal components of std 0.5 at ±2 along the first min(d, 2) axes: 2 modes in one
    /// dimension, 4 from two on.</summary>
    public static GaussianMixture Modes(int d)
    {
        var axes = Math.Min(d, 2);
        var means = new double[2 * axes, d];
        for (var a = 0; a < axes; a++)
        {
            means[2 * a, a] = 2;
            means[2 * a + 1, a] = -2;
        }
        return new GaussianMixture(means, Enumerable.Repeat(0.5, 2 * axes).ToArray(), Enumerable.Repeat(1.0, 2 * axes).ToArray());
    }

    /// <summary>K equal components of std 0.5 in a row along the first axis, <paramref name="spacing"/> apart and
    /// centred on the origin: a target whose modes lie ever farther apart as K grows, for the annealing study.</summary>
    public static GaussianMixture Line(int modes, double spacing, int d)
    {
        if (modes < 1 || !(spacing > 0) || d < 1) throw new ArgumentException($"a line of modes needs K ≥ 1, spacing > 0 and d ≥ 1, got {modes}, {spacing}, {d}");
        var means = new double[modes, d];
        for (var k = 0; k < modes; k++)
            means[k, 0] = spacing * (k - (modes - 1) / 2.0);
        return new GaussianMixture(means, Enumerable.Repeat(0.5, modes).ToArray(), Enumerable.Repeat(1.0, modes).ToArray());
    }

    public Tensor Sample(int n, Generator g, ScalarType dtype = ScalarType.Float64)
    {
        using var scope = torch.NewDisposeScope();
        var pick = torch.multinomial(torch.tensor(weights), n, replacement: true, generator: g);
        var mu = torch.tensor(means).index_select(0, pick);
        var sd = torch.tensor(stds).index_select(0, pick).unsqueeze(1);
        return (mu + sd * torch.randn([n, Dim], dtype: float64, generator: g)).to(dtype).MoveToOuterDisposeScope();
    }

    /// <summary>∇log ν_h at each row of x: Σ_k r_k(x) (μ_k − x)/(σ_k² + h²), r the posterior of component k
    /// under the smoothed mixture. h = 0 gives the target's own score.</summary>
    public Tensor SmoothedScore(Tensor x, double h)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var mu = torch.tensor(means, dtype: x.dtype, device: x.device);
        var variance = torch.tensor(stds.Select(s => s * s + h * h).ToArray(), dtype: x.dtype, device: x.device);
        var logWeights = torch.tensor(weights.Select(w => Math.Log(w)).ToArray(), dtype: x.dtype, device: x.device);
        var sq = (x.unsqueeze(1) - mu.unsqueeze(0)).pow(2).sum(2);             // [B, K], K is small
        var logits = logWeights - 0.5 * Dim * variance.log() - sq / (2 * variance);
        var r = torch.softmax(logits, 1) / variance;                             // r_k / var_k
        return (r.mm(mu) - r.sum(1, keepdim: true) * x).MoveToOuterDisposeScope();
    }
}
