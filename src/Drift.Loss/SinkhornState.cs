namespace Drift.Loss;

/// <summary>
/// How many iterations a run's Sinkhorn plans took, shared by the field and its rescaled copies (annealing, feature
/// spaces): the most per scale since the run last looked, and the plans that stopped at the cap without meeting the
/// tolerance, so that a run's log shows when its field was not converged.
/// </summary>
public sealed class SinkhornState
{
    private readonly Dictionary<int, int> mostIterations = [];
    private int unconverged;

    /// <summary>Records one plan of scale <paramref name="scale"/>: the iterations it took, and whether it met the tolerance.</summary>
    internal void Count(int scale, int iterations, bool converged)
    {
        mostIterations[scale] = Math.Max(iterations, mostIterations.GetValueOrDefault(scale));
        if (!converged) unconverged++;
    }

    /// <summary>The columns <see cref="TakeCounts"/> fills, one per scale and the unconverged plans.</summary>
    public static IReadOnlyList<string> CountNames(IEnumerable<string> scaleNames) =>
        scaleNames.Select(s => $"sinkhorn_iterations_{s}").Append("sinkhorn_unconverged").ToArray();

    /// <summary>Since the last call: per scale the most iterations a plan took, then the plans that hit the cap unconverged.</summary>
    public double[] TakeCounts(int scales)
    {
        var counts = Enumerable.Range(0, scales).Select(s => (double)mostIterations.GetValueOrDefault(s)).Append(unconverged).ToArray();
        mostIterations.Clear();
        unconverged = 0;
        return counts;
    }
}
