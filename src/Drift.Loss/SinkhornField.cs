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
/// The batch's plan to itself (negatives left to the batch) is symmetric and takes the symmetric updates, which
/// converge in a few iterations at any bandwidth; the plan to the data takes Sinkhorn's alternating updates.
/// Small ε is where those slow down: as bandwidths anneal, plans that took ten iterations hit the cap; each plan
/// therefore starts from the potentials of the plan one scale wider, and by default stops sooner. With a
/// <see cref="SinkhornState"/> the field counts the iterations, and a run logs the counts (metrics.csv, TensorBoard).
///
/// Where processes share the batch, each computes its rows of both plans: a row scaling needs only its own row of the
/// kernel, a column scaling sums over every row (the processes add their rows' sums), the symmetric plan's next product
/// needs every point's scaling (gathered), and a plan stops when the worst row of any process has converged, so every
/// process takes the same iterations and the field is the whole batch's.
/// </summary>
public sealed class SinkhornField : IRowwiseField
{
    /// <summary>Default cap on a plan's Sinkhorn iterations (each a row then a column update; a symmetric plan's, one
    /// update) where it starts cold: the widest scale's, a field of one scale, the batch's plan to itself.</summary>
    public const int DefaultIterations = 100;
    /// <summary>Default cap where a plan starts from the plan one scale wider. Such a start is close: at the end of an anneal
    /// the narrow plans' projections were within 2–4 % of the converged ones after 20 iterations, yet the narrowest needed
    /// about 900 to meet the tolerance, so a cap of 100 stopped them unconverged all the same. Capped at 20, the 3,000-step
    /// annealed runs ended at the energy distance of a cap of 100 to 2–3 digits (pinwheel, 3 seeds; checkerboard, 2) in
    /// about three quarters of its time (docs/bench.md).</summary>
    public const int DefaultWarmIterations = 20;
    /// <summary>Default tolerance: iterations stop once every row of the plan sums to its weight within 1e-3 (relative).</summary>
    public const double DefaultTolerance = 1e-3;

    private readonly double[] bandwidths;

    /// <param name="iterations">At most this many iterations per plan; 0 gives the conservative field's row softmax. Null:
    /// <see cref="DefaultIterations"/> for a plan that starts cold, <see cref="DefaultWarmIterations"/> for one that starts
    /// from the plan a scale wider.</param>
    /// <param name="tolerance">Stop earlier once the rows' relative marginal error is below this (checked every
    /// <see cref="CheckEvery"/> iterations); 0 runs all of them.</param>
    /// <param name="state">Where plans count their iterations; null: not counted.</param>
    public SinkhornField(IEnumerable<double> bandwidths, bool normalizeScales = false, int? iterations = null,
        double tolerance = DefaultTolerance, SinkhornState? state = null)
        : this(bandwidths, normalizeScales, iterations ?? DefaultIterations, iterations ?? DefaultWarmIterations, tolerance, state, false)
    {
    }

    private SinkhornField(IEnumerable<double> bandwidths, bool normalizeScales, int iterations, int warmIterations, double tolerance,
        SinkhornState? state, bool tensorIterations)
    {
        this.bandwidths = FieldMath.CheckScales(bandwidths, "bandwidth");
        if (iterations < 0) throw new ArgumentException($"Sinkhorn iterations must be at least 0, got {iterations}");
        if (!(tolerance >= 0)) throw new ArgumentException($"Sinkhorn tolerance must be at least 0, got {tolerance}");
        NormalizeScales = normalizeScales;
        Iterations = iterations;
        WarmIterations = warmIterations;
        Tolerance = tolerance;
        State = state;
        this.tensorIterations = tensorIterations;
    }

    /// <summary>The same field iterating by tensor operations wherever the kernel is (the path of a GPU), never in one
    /// pass on the CPU: for the tests, which hold the two paths to the same references, and the bench, which times both.</summary>
    public SinkhornField WithTensorIterations() => new(bandwidths, NormalizeScales, Iterations, WarmIterations, Tolerance, State, true);

    private readonly bool tensorIterations;

    public IReadOnlyList<double> Scales => bandwidths;
    public bool NormalizeScales { get; }
    /// <summary>The cap of a plan that starts cold.</summary>
    public int Iterations { get; }
    /// <summary>The cap of a plan that starts from the plan one scale wider.</summary>
    public int WarmIterations { get; }
    public double Tolerance { get; }
    public SinkhornState? State { get; }

    public IReadOnlyList<string> DiagnosticNames(IEnumerable<string> scaleNames) => State is null ? [] : SinkhornState.CountNames(scaleNames);

    public double[]? TakeDiagnostics() => State?.TakeCounts(bandwidths.Length);

    public IDriftField Scaled(double multiplier) =>
        multiplier == 1 ? this : new SinkhornField(bandwidths.Select(h => h * multiplier), NormalizeScales, Iterations, WarmIterations, Tolerance, State,
            tensorIterations);

    public FieldOutput Compute(Tensor x, Tensor positives, Tensor? negatives = null, GuidanceNegatives? guidance = null)
    {
        if (guidance is not null) throw new ArgumentException("the sinkhorn field takes no guidance negatives");
        using var noGrad = torch.no_grad();
        (x, var pos, var neg) = FieldMath.Detached(x, positives, negatives);
        (x, pos, neg, _) = FieldMath.Centred(x, pos, neg, null);
        // The batch's plan to itself (negatives left to the batch) is symmetric, and solved as such.
        return ReferenceEquals(neg, x) ? Field(x, pos, x, WholeBatch.Instance) : Field(x, pos, neg, null);
    }

    public FieldOutput ComputeRows(Tensor rows, Tensor positives, Tensor batch, IBatchShard shard)
    {
        using var noGrad = torch.no_grad();
        (rows, var pos, var neg) = FieldMath.Detached(rows, positives, batch);
        (rows, pos, neg, _) = FieldMath.Centred(rows, pos, neg, null);
        return Field(rows, pos, neg, shard);
    }

    /// <summary>The field at the rows of x (centred, detached).</summary>
    /// <param name="shard">Null: <paramref name="neg"/> is a set of negatives, with a plan of its own. Else neg is the
    /// batch, x this process's rows of it (all of it in <see cref="WholeBatch"/>): the batch's symmetric plan to itself.</param>
    private FieldOutput Field(Tensor x, Tensor pos, Tensor neg, IBatchShard? shard)
    {
        var towards = Projections(FieldMath.SquaredDistances(x, pos), pos, shard ?? WholeBatch.Instance);
        var towardsModel = FieldMath.SquaredDistances(x, neg);
        Tensor[] away;
        if (shard is null)
            away = Projections(towardsModel, neg, WholeBatch.Instance);
        else
        {
            FieldMath.SetSelfPairs(towardsModel, 0, shard.FirstRow(x.shape[^2]));
            away = bandwidths.Select((h, s) => SymmetricProjection(towardsModel, neg, h, s, shard)).ToArray();
        }
        return FieldMath.Combine(bandwidths.Select((h, s) => towards[s].sub_(away[s]).div_(h * h)).ToArray(), NormalizeScales, shard);
    }

    /// <summary>T(x_i) = Σ_j P_ij y_j / Σ_j P_ij for every scale's entropic plan between uniform weights on the rows and on
    /// the columns of <paramref name="squaredDistances"/> [B, M] (or [G, B, M]; this process's rows of them, whose column
    /// sums <paramref name="shard"/> adds up), in the order of the scales.</summary>
    /// <remarks>
    /// The plan is diag(a)·K·diag(b) with K_ij = exp(−‖x_i − y_j‖²/2h²); Sinkhorn alternates a = 1/(K b) (rows sum
    /// to 1) and b = (B/M)/(Kᵀ a) (columns to B/M, the same total). Matrix–vector products on K cost a fraction of
    /// log-domain updates, which need an exponential per entry and iteration. Once b strays beyond e^±<see cref="AbsorbBeyond"/>
    /// (checked every <see cref="CheckEvery"/> iterations), it moves into the log-potential g and K is rebuilt from the logits plus g
    /// as a row softmax: each row scaled to sum 1, a scale that a absorbs and b never sees, so no row of K underflows, and b
    /// stays within float range however small h is against the distances. (A softmax rather than exp after subtracting each
    /// row's maximum: libtorch's exp went through MKL's slow path for every underflowing entry, 37 % of a step at small h;
    /// the softmax's own exp does not.) Rebuilding only then rather than at every check took a capped plan from ten kernel builds
    /// to two or three, each a pass of exponentials over K that cost as much as ten iterations (docs/bench.md). A column whose
    /// sum still underflows (a positive beyond every sample's reach) is floored, and receives no mass instead of making b
    /// infinite; its b then passes the bound and the next rebuild brings the column within reach. T normalises each row, so
    /// a's scale never matters. Every check the rows' marginal error decides whether to go on (columns are exact after a b
    /// update); groups go on together until the worst one has converged.
    ///
    /// The plans are solved widest scale first, the widest from zero potentials and each narrower one from the column
    /// potentials of the one before (ε-scaling, with the field's own scales as its stages; the fixed point is the same).
    /// At small ε the plain updates crawl because mass crosses between groups of points that the narrow kernel barely
    /// links; the wider plan has already moved it. At the end of an anneal (h = 0.05 … 0.4, 1024 pinwheel points a side)
    /// the field of plans started so was within 2 % of the converged one after 20 iterations a plan, where cold starts were
    /// 36–55 % off after 100 (docs/bench.md). A field of one scale starts cold: stages of its own at 2h, 4h, … were tried,
    /// and at a narrow fixed bandwidth they cost time and trained no better.
    /// </remarks>
    private Tensor[] Projections(Tensor squaredDistances, Tensor y, IBatchShard shard)
    {
        var projections = new Tensor[bandwidths.Length];
        var widestFirst = Enumerable.Range(0, bandwidths.Length).OrderByDescending(s => bandwidths[s]).ToArray();
        (Tensor? Potentials, double Epsilon) start = (null, 0);
        foreach (var s in widestFirst)
        {
            var h = bandwidths[s];
            // Potentials carry over between ε in units of the cost: log b at ε is ψ/ε, so the wider plan's g·ε'/ε starts this one.
            var cap = start.Potentials is null ? Iterations : WarmIterations;
            var plan = Iterate(squaredDistances, h * h, cap, Tolerance, tensorIterations, start.Potentials?.mul(start.Epsilon / (h * h)), shard);
            if (cap > 0) State?.Count(s, plan.Iterations, plan.Converged || Tolerance == 0);
            start = (plan.Potentials, h * h);
            projections[s] = FieldMath.WeightedSum(plan.Kernel, plan.B * y).div_(plan.Kernel.matmul(plan.B));
        }
        return projections;
    }

    /// <summary>T(x_i) = Σ_j P_ij x_j / Σ_j P_ij for the entropic plan of the batch <paramref name="x"/> with itself (uniform
    /// weights on both sides of <paramref name="squaredDistances"/> [N, N] or [G, N, N], zero on the diagonal), at this
    /// process's rows of it (<paramref name="shard"/>; the distances' rows).</summary>
    /// <remarks>
    /// The plan is symmetric, P = diag(u)·K·diag(u) with u_i (K u)_i = 1, and the averaged update u ← (u / K u)^½ finds
    /// it (in log-potentials f ← ½(f + S(f)), S the Sinkhorn update; Feydy et al. 2019, "Interpolating between optimal
    /// transport and MMD using Sinkhorn divergences"). Near the solution the error is multiplied by ½(I − D⁻¹P), D the
    /// plan's row sums, whose eigenvalues lie in [0, ½] because a Gaussian kernel is positive semi-definite: it at least
    /// halves every iteration, where the alternating updates need hundreds of iterations at small h. One
    /// matrix–vector product an iteration, which is also the convergence check. No rebuilds: K_ii = 1 keeps every row
    /// sum ≥ 1, and u stays within [1/N, 1]. The logits are floored at −80 before the exponential: below it MKL's exp
    /// takes its slow path for underflowing results (13 % of a step at small h), and entries of e^−80 next to row sums
    /// of at least 1 change nothing float32 holds. The kernel is formed as 2^(logits·log₂e), the factor folded into the
    /// one that scales the distances (no extra rounding): libtorch's exp_ goes to MKL's vector exp, which on this AMD CPU
    /// took 640 µs for a 1024 × 1024 kernel where exp2_ took 270 (docs/bench.md).
    /// </remarks>
    private Tensor SymmetricProjection(Tensor squaredDistances, Tensor x, double h, int scale, IBatchShard shard)
    {
        var kernel = (squaredDistances * (-Math.Log2(Math.E) / (2 * h * h))).clamp_min_(-80 * Math.Log2(Math.E)).exp2_();
        // u over every point (the kernel's columns); this process updates its rows' share and the shares are gathered.
        var u = torch.ones_like(x.select(-1, 0)).unsqueeze(-1);
        var ku = kernel.matmul(u);
        bool Converged() => Tolerance > 0 && shard.MaxOver((shard.Mine(u) * ku - 1).abs_().max()).to(float64).item<double>() < Tolerance;
        var iterations = 0;
        var converged = Iterations > 0 && Converged();
        while (!converged && iterations < Iterations)
        {
            using var scope = torch.NewDisposeScope();
            u = shard.Gather((shard.Mine(u) / ku).sqrt_()).MoveToOuterDisposeScope();
            ku = kernel.matmul(u).MoveToOuterDisposeScope();
            iterations++;
            converged = Converged();
        }
        if (Iterations > 0) State?.Count(scale, iterations, converged || Tolerance == 0);
        return FieldMath.WeightedSum(kernel, u * x).div_(ku);
    }

    /// <summary>Up to <paramref name="cap"/> Sinkhorn iterations at <paramref name="epsilon"/> from the column log-potentials
    /// <paramref name="potentials"/> [.., 1, M] (null: zero): the plan's rows as the last rebuilt kernel K (row-softmax) and
    /// the column scalings b [.., M, 1] that follow it (the plan's row i is K_ij·b_j up to its scale, so T = K(b ⊙ y) / K b
    /// costs two products where another softmax cost a pass of exponentials), the column log-potentials g + log b that K
    /// and b stand for, the iterations taken, and whether the rows' marginals met the tolerance. With no iterations, K is the
    /// logits' row softmax whatever the potentials.</summary>
    /// <remarks>A plan not converged after its first block is over-relaxed: each scaling moves ω = <see cref="Overrelaxation"/>
    /// of the way in log space, a ← a^(1−ω)·(1/(K b))^ω and b likewise (Thibault et al. 2021, "Overrelaxed Sinkhorn–Knopp
    /// algorithm for regularized optimal transport"): the same fixed point, reached in a fraction of the iterations where
    /// small ε makes the plain updates crawl (at h = 0.2 on 512 pinwheel points, 40 iterations to the tolerance against
    /// 375; docs/bench.md). The plain updates converge from anywhere and the relaxed ones only near the solution, so a
    /// block whose marginal error grew tenfold over the group's best (or is not a number) is undone, and that group runs
    /// plain from then on. The first block stays plain even from a warm start: at wide bandwidths relaxing it slowed plans
    /// that converge within it (a 3,000-step annealed run left 3 of 8 plans a step unconverged at a cap of 20 from its
    /// first steps on, docs/bench.md). A block's iterations run in one pass over K each where K is in CPU memory
    /// (<see cref="SinkhornCpuIterations"/>: the same updates, 1.5–2× faster on 2 cores), elsewhere, as on a GPU, as tensor
    /// operations with two products each, as they are where processes share the rows (their column sums and the marginal
    /// error reduced across them each iteration, through <paramref name="shard"/>).</remarks>
    private static (Tensor Kernel, Tensor B, Tensor Potentials, int Iterations, bool Converged) Iterate(Tensor squaredDistances,
        double epsilon, int cap, double tolerance, bool tensorIterations, Tensor? potentials, IBatchShard shard)
    {
        // A warm start's logits include the potentials it starts from, and g counts from there.
        var warm = cap > 0 && potentials is not null;
        var logits = warm ? potentials!.add(squaredDistances, -1 / (2 * epsilon)) : squaredDistances / (-2 * epsilon);
        var kernel = torch.softmax(logits, -1);
        var b = torch.ones_like(logits.select(-2, 0)).unsqueeze(-1);
        var g = torch.zeros_like(b).transpose(-2, -1);
        Tensor Potentials() => (warm ? potentials! + g : g) + b.log().transpose(-2, -1);
        if (cap == 0) return (kernel, b, g, 0, false);
        var ratio = (double)logits.shape[^2] * shard.Count / logits.shape[^1];
        // Per group (each its own problem): ω, whether it may still relax, and the smallest marginal error of its blocks.
        var omega = torch.ones_like(b.select(-2, 0)).unsqueeze(-1);
        var relax = torch.ones_like(omega, dtype: ScalarType.Bool);
        var best = torch.full_like(omega, double.PositiveInfinity);
        var relaxing = false;
        for (var done = 0; done < cap; done += CheckEvery)
        {
            using var scope = torch.NewDisposeScope();
            var start = b;
            var block = Math.Min(CheckEvery, cap - done);
            Tensor a;
            if (!tensorIterations && shard.Count == 1 && SinkhornCpuIterations.Takes(kernel))
            {
                b = b.contiguous().clone();
                a = torch.empty([.. kernel.shape[..^1], 1], kernel.dtype);
                SinkhornCpuIterations.Run(kernel, a, b, omega.flatten().to(float64).data<double>().ToArray(), block, ratio);
            }
            else
            {
                a = kernel.matmul(b).reciprocal_();
                for (var k = 0; k < block; k++)
                {
                    if (k > 0) a = Relaxed(a, kernel.matmul(b).reciprocal_(), relaxing ? omega : null);
                    b = Relaxed(b, shard.SumOver(kernel.transpose(-2, -1).matmul(a)).clamp_min_(1e-30).reciprocal_().mul_(ratio), relaxing ? omega : null);
                }
            }
            var error = shard.MaxOver((kernel.matmul(b) * a - 1).abs_().amax([-2, -1], keepdim: true));
            var undo = (omega > 1).logical_and_(error.le(best * 10).logical_not_());
            b = torch.where(undo, start, b);   // an undone block leaves the group's plan as the block found it
            relax.logical_and_(undo.logical_not());
            best.copy_(torch.where(undo, best, best.minimum(error)));
            omega.copy_(torch.where(relax, Overrelaxation, 1.0));
            relaxing = relax.any().item<bool>();
            var converged = tolerance > 0 && torch.where(undo, best, error).max().to(float64).item<double>() < tolerance;
            if (!converged && done + block < cap && b.log().abs_().max().to(float64).item<double>() > AbsorbBeyond)
            {
                g = (g + b.log().transpose(-2, -1)).MoveToOuterDisposeScope();
                kernel.Dispose();
                kernel = torch.softmax(logits + g, -1).MoveToOuterDisposeScope();
                b = torch.ones_like(b);
            }
            b = b.MoveToOuterDisposeScope();
            if (converged) return (kernel, b, Potentials().MoveToOuterDisposeScope(), done + block, true);
        }
        return (kernel, b, Potentials(), cap, false);
    }

    /// <summary>Scalings moved ω (per group) of the way from <paramref name="old"/> to their Sinkhorn update, in log
    /// space (kept within e^±80 of 1, which float32 holds); null ω: the plain update itself, with no logs to take.</summary>
    private static Tensor Relaxed(Tensor old, Tensor update, Tensor? omega) =>
        omega is null ? update : torch.lerp(old.log(), update.log_(), omega).clamp_(-80, 80).exp_();

    /// <summary>ω of the relaxed updates: Thibault et al. find the best ω near 2 at small ε; 1.8 converged in every
    /// trial (docs/bench.md), where 1.9 and above oscillated at the narrowest bandwidths.</summary>
    private const double Overrelaxation = 1.8;

    /// <summary>Iterations between two checks of the marginals (and of the scalings' range).</summary>
    private const int CheckEvery = 10;

    /// <summary>|log b| beyond which b moves into the log-potential and K is rebuilt. Below it the plan K·diag(b) reweighs K's
    /// columns by at most e^±30, which float32 holds with room to spare; a column that needs more (its kernel entries
    /// rounded to zero, so its b hit the floor's 1e30) is the sign that K no longer represents the plan.</summary>
    private const double AbsorbBeyond = 30;
}
