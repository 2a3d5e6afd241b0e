using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Loss;

/// <summary>
/// The Sinkhorn drift (He et al. 2026, "Sinkhorn-drifting generative models"): the descent direction of the
/// Sinkhorn divergence S_ε(μ, ν) = OT_ε(μ, ν) − ½OT_ε(μ, μ) − ½OT_ε(ν, ν) for the cost ‖x − y‖²/2 and ε = h²,
/// per particle and divided by ε:
///
///   V(x_i) = (1/h²)(T_{μν}(x_i) − T_{μμ}(x_i)),   T_{μν}(x_i) = Σ_j P_ij y_j / Σ_j P_ij,
///
/// where P is the entropic OT plan between the uniform weights on the generated batch and on the positives
/// (T_{μμ}: on the generated batch and the negatives, which are the batch itself by default). The plan is
/// P_ij ∝ a_i exp(−‖x_i − y_j‖²/2h²) b_j, its column scalings b found by Sinkhorn's alternating scaling
/// (until the plan's marginals hold to a tolerance). With b = 1 (no iterations) each row is the conservative field's softmax, so this
/// field is the conservative one (self term included) with the model–data weights normalised over both axes:
/// every data point then receives the same mass, and the field vanishes only where the distributions match.
///
/// Small ε is where Sinkhorn slows down: as bandwidths anneal, plans that took ten iterations hit the cap. With a
/// <see cref="SinkhornState"/> the field counts them, and a run logs the counts (metrics.csv, TensorBoard).
/// </summary>
public sealed class SinkhornField : IDriftField
{
    /// <summary>Default cap on Sinkhorn iterations (each a row then a column update).</summary>
    public const int DefaultIterations = 100;
    /// <summary>Default tolerance: iterations stop once every row of the plan sums to its weight within 1e-3 (relative).</summary>
    public const double DefaultTolerance = 1e-3;

    private readonly double[] bandwidths;

    /// <param name="iterations">At most this many iterations per plan; 0 gives the conservative field's row softmax.</param>
    /// <param name="tolerance">Stop earlier once the rows' relative marginal error is below this (checked every
    /// <see cref="AbsorbEvery"/> iterations); 0 runs all of them.</param>
    /// <param name="state">Where plans count their iterations; null: not counted.</param>
    public SinkhornField(IEnumerable<double> bandwidths, bool normalizeScales = false, int iterations = DefaultIterations,
        double tolerance = DefaultTolerance, SinkhornState? state = null)
    {
        this.bandwidths = FieldMath.CheckScales(bandwidths, "bandwidth");
        if (iterations < 0) throw new ArgumentException($"Sinkhorn iterations must be at least 0, got {iterations}");
        if (!(tolerance >= 0)) throw new ArgumentException($"Sinkhorn tolerance must be at least 0, got {tolerance}");
        NormalizeScales = normalizeScales;
        Iterations = iterations;
        Tolerance = tolerance;
        State = state;
    }

    public IReadOnlyList<double> Scales => bandwidths;
    public bool NormalizeScales { get; }
    public int Iterations { get; }
    public double Tolerance { get; }
    public SinkhornState? State { get; }

    public IReadOnlyList<string> DiagnosticNames(IEnumerable<string> scaleNames) => State is null ? [] : SinkhornState.CountNames(scaleNames);

    public double[]? TakeDiagnostics() => State?.TakeCounts(bandwidths.Length);

    public IDriftField Scaled(double multiplier) =>
        multiplier == 1 ? this : new SinkhornField(bandwidths.Select(h => h * multiplier), NormalizeScales, Iterations, Tolerance, State);

    public FieldOutput Compute(Tensor x, Tensor positives, Tensor? negatives = null, GuidanceNegatives? guidance = null)
    {
        if (guidance is not null) throw new ArgumentException("the sinkhorn field takes no guidance negatives");
        using var noGrad = torch.no_grad();
        (x, var pos, var neg) = FieldMath.Detached(x, positives, negatives);
        (x, pos, neg, _) = FieldMath.Centred(x, pos, neg, null);
        var towardsData = FieldMath.SquaredDistances(x, pos);
        var towardsModel = FieldMath.SquaredDistances(x, neg);
        var perScale = bandwidths.Select((h, s) =>
            (BarycentricProjection(towardsData, pos, h, s) - BarycentricProjection(towardsModel, neg, h, s)).div_(h * h)).ToArray();
        return FieldMath.Combine(perScale, NormalizeScales);
    }

    /// <summary>T(x_i) = Σ_j P_ij y_j / Σ_j P_ij for the entropic plan between uniform weights on the rows and on the
    /// columns of <paramref name="squaredDistances"/> [B, M] (or [G, B, M]).</summary>
    /// <remarks>
    /// The plan is diag(a)·K·diag(b) with K_ij = exp(−‖x_i − y_j‖²/2h²); Sinkhorn alternates a = 1/(K b) (rows sum
    /// to 1) and b = (B/M)/(Kᵀ a) (columns to B/M, the same total). Matrix–vector products on K cost a fraction of
    /// log-domain updates, which need an exponential per entry and iteration. Every <see cref="AbsorbEvery"/>
    /// iterations b moves into the log-potential g and K is rebuilt from the logits plus g as a row softmax: each
    /// row scaled to sum 1, a scale that a absorbs and b never sees, so no row of K underflows, and b stays within
    /// float range however small h is against the distances. (A softmax rather than exp after subtracting each row's
    /// maximum: libtorch's exp went through MKL's slow path for every underflowing entry, 37 % of a step at small h;
    /// the softmax's own exp does not.) A column whose sum still underflows (a positive beyond every sample's reach)
    /// is floored, and receives no mass instead of making b infinite. T normalises each row, so a's scale never matters.
    /// After each absorption the rows' marginal error decides whether to go on (columns are exact after a b update);
    /// groups go on together until the worst one has converged.
    /// </remarks>
    private Tensor BarycentricProjection(Tensor squaredDistances, Tensor y, double h, int scale)
    {
        var epsilon = h * h;
        var (g, iterations, converged) = Iterate(squaredDistances, torch.zeros_like(squaredDistances.select(-2, 0)).unsqueeze(-2), epsilon, Iterations, Tolerance);
        if (Iterations > 0) State?.Count(scale, iterations, converged || Tolerance == 0);
        return torch.softmax(squaredDistances / (-2 * epsilon) + g, -1).matmul(y);
    }

    /// <summary>Up to <paramref name="cap"/> Sinkhorn iterations at <paramref name="epsilon"/> from the column log-scalings
    /// <paramref name="g"/> [.., 1, M]: the new g, the iterations taken, and whether the rows' marginals met the tolerance.</summary>
    private static (Tensor G, int Iterations, bool Converged) Iterate(Tensor squaredDistances, Tensor g, double epsilon, int cap, double tolerance)
    {
        var logits = squaredDistances / (-2 * epsilon);
        var ratio = (double)logits.shape[^2] / logits.shape[^1];
        for (var done = 0; done < cap; done += AbsorbEvery)
        {
            using var scope = torch.NewDisposeScope();
            var kernel = torch.softmax(logits + g, -1);
            var b = torch.ones_like(g).transpose(-2, -1);
            var a = b;
            var block = Math.Min(AbsorbEvery, cap - done);
            for (var k = 0; k < block; k++)
            {
                a = kernel.matmul(b).reciprocal_();
                b = kernel.transpose(-2, -1).matmul(a).clamp_min_(1e-30).reciprocal_().mul_(ratio);
            }
            var converged = tolerance > 0 && (kernel.matmul(b) * a - 1).abs_().max().to(float64).item<double>() < tolerance;
            g = (g + b.log_().transpose(-2, -1)).MoveToOuterDisposeScope();
            if (converged) return (g, done + block, true);
        }
        return (g, cap, false);
    }

    /// <summary>Scaling iterations between two absorptions of b into the log-potential (and two convergence
    /// checks): b can grow by up to 1e30 in one, which float32 holds.</summary>
    private const int AbsorbEvery = 10;
}
