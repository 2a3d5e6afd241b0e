namespace Drift.Metrics;

/// <summary>Metrics that measure one quality in several ways (FD in two networks' features and in pixels), and which way
/// is better. A metric belongs to the first family whose <see cref="Member"/> takes its name; <see cref="Ways"/> names
/// what its members differ by, for the claims.</summary>
public sealed record MetricFamily(string Name, bool HigherIsBetter, Func<string, bool> Member, string Ways = "spaces")
{
    /// <summary>Image runs: FD, precision and recall, in every network's features and in pixels.</summary>
    public static readonly IReadOnlyList<MetricFamily> Images =
    [
        new("FD", false, name => name.StartsWith("FD-") || name.StartsWith("FD in ")),
        new("precision", true, name => name.StartsWith("precision (k=")),
        new("recall", true, name => name.StartsWith("recall (k=")),
    ];

    /// <summary>Points: three distances to the held-out data, each blind where another sees.</summary>
    public static readonly IReadOnlyList<MetricFamily> Points =
    [
        new("distance to the data", false, name => name is "energy distance" or "MMD² (unbiased)" or "sliced W2²", "distances"),
    ];
}

/// <summary>
/// Which of two fields is better, said only where the evidence agrees: one feature network, trained by the project
/// itself, ranked two fields nearly equal where an outside judge saw a wide gap (docs/judges.md), so a claim needs every
/// space of a family to agree, and with several seeds every run of the one to beat every run of the other in each
/// space. Otherwise the line says what was found and makes no claim.
/// </summary>
public static class Ranking
{
    /// <param name="runsOf">Each field's runs (one per seed), each a list of its final metrics.</param>
    public static IReadOnlyList<string> Claims(IReadOnlyList<string> fields, Func<string, IReadOnlyList<IReadOnlyList<EvaluatedMetric>>> runsOf,
        IReadOnlyList<MetricFamily> families)
    {
        var lines = new List<string>();
        foreach (var family in families)
        {
            var spaces = runsOf(fields[0])[0].Select(m => m.Name).Where(family.Member).ToArray();
            if (spaces.Length == 0) continue;
            for (var i = 0; i < fields.Count; i++)
            for (var j = i + 1; j < fields.Count; j++)
                lines.Add($"{family.Name}: {Claim(fields[i], fields[j], spaces, family, runsOf)}");
        }
        return lines;
    }

    private static string Claim(string a, string b, string[] spaces, MetricFamily family,
        Func<string, IReadOnlyList<IReadOnlyList<EvaluatedMetric>>> runsOf)
    {
        double[] Values(string field, string space) => runsOf(field).Select(r => r.First(m => m.Name == space).Generated).ToArray();
        // Signed so that larger is better; NaN (a metric a run could not compute) decides nothing.
        double Better(double v) => family.HigherIsBetter ? v : -v;
        var aAhead = new List<string>();
        var bAhead = new List<string>();
        var overlap = new List<string>();
        foreach (var space in spaces)
        {
            var (va, vb) = (Values(a, space).Select(Better).ToArray(), Values(b, space).Select(Better).ToArray());
            if (va.Concat(vb).Any(double.IsNaN)) { overlap.Add(space); continue; }
            if (va.Average() == vb.Average()) { overlap.Add(space); continue; }
            var ahead = va.Average() > vb.Average() ? aAhead : bAhead;
            ahead.Add(space);
            if (!(va.Min() > vb.Max() || vb.Min() > va.Max())) overlap.Add(space);
        }
        var seeds = runsOf(a).Count > 1 && runsOf(b).Count > 1 ? "every seed" : "one seed each, no spread to judge";
        if (bAhead.Count == 0 && overlap.Count == 0) return $"{a} beats {b} in all {spaces.Length} {family.Ways} ({seeds})";
        if (aAhead.Count == 0 && overlap.Count == 0) return $"{b} beats {a} in all {spaces.Length} {family.Ways} ({seeds})";
        var found = new List<string>();
        if (aAhead.Count > 0) found.Add($"{a} better on average in {string.Join(", ", aAhead)}");
        if (bAhead.Count > 0) found.Add($"{b} better on average in {string.Join(", ", bAhead)}");
        if (overlap.Count > 0) found.Add($"the seeds overlap or tie in {string.Join(", ", overlap)}");
        return $"no claim ({string.Join("; ", found)})";
    }
}
