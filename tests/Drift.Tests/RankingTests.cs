using Drift.Metrics;

namespace Drift.Tests;

public class RankingTests
{
    private static readonly string[] Spaces = ["FD-x [a]", "FD-x [b]", "FD in pixels"];

    /// <summary>Runs of one field: per seed, the three FD spaces at the given values, and a metric of no family.</summary>
    private static IReadOnlyList<EvaluatedMetric>[] Runs(params double[][] perSeed) =>
        perSeed.Select(v => (IReadOnlyList<EvaluatedMetric>)[.. Spaces.Select((s, i) => new EvaluatedMetric(s, v[i], 0)), new EvaluatedMetric("classes covered", 10, 10)]).ToArray();

    private static IReadOnlyList<string> Claims(Dictionary<string, IReadOnlyList<EvaluatedMetric>[]> runs, bool higherIsBetter = false) =>
        Ranking.Claims([.. runs.Keys], f => runs[f], [new MetricFamily("FD", higherIsBetter, n => n.StartsWith("FD"))]);

    /// <summary>A claim where every space agrees and the seeds do not overlap; none where one space disagrees or overlaps,
    /// saying which; the direction follows the family; every pair of three fields gets its line.</summary>
    [Fact]
    public void AClaimNeedsEverySpaceAndEverySeed()
    {
        var random = new Random(Tensors.Seed());
        double Draw() => 1 + 10 * random.NextDouble();
        var (x, y, z) = (Draw(), Draw(), Draw());
        // a below b in every space, by more than the seeds' spread.
        var a = Runs([x, y, z], [x + 0.1, y + 0.1, z + 0.1]);
        var b = Runs([x + 1, y + 1, z + 1], [x + 1.2, y + 1.3, z + 1.1]);
        Assert.Equal(["FD: a beats b in all 3 spaces (every seed)"], Claims(new() { ["a"] = a, ["b"] = b }));
        Assert.Equal(["FD: b beats a in all 3 spaces (every seed)"], Claims(new() { ["a"] = a, ["b"] = b }, higherIsBetter: true));
        Assert.Equal(["FD: a beats b in all 3 spaces (one seed each, no spread to judge)"],
            Claims(new() { ["b"] = b[..1], ["a"] = a[..1] }));

        // Pixels disagree: no claim, and each side's spaces named.
        var split = Runs([x + 1, y + 1, z - 1], [x + 1.2, y + 1.3, z - 1.1]);
        Assert.Equal(["FD: no claim (a better on average in FD-x [a], FD-x [b]; split better on average in FD in pixels)"],
            Claims(new() { ["a"] = a, ["split"] = split }));
        // Ahead on average everywhere, but one seed of the other is better in network b's space.
        var close = Runs([x + 1, y - 0.05, z + 1], [x + 1.2, y + 0.5, z + 1.1]);
        Assert.Equal(["FD: no claim (a better on average in FD-x [a], FD-x [b], FD in pixels; the seeds overlap or tie in FD-x [b])"],
            Claims(new() { ["a"] = a, ["close"] = close }));
        // A metric a run could not compute decides nothing.
        var missing = Runs([x + 1, double.NaN, z + 1], [x + 1.2, y + 1.3, z + 1.1]);
        Assert.StartsWith("FD: no claim (", Claims(new() { ["a"] = a, ["missing"] = missing })[0]);

        // Three fields: a line per pair, in order (b and split share their values in the networks' spaces: ties).
        var three = Claims(new() { ["a"] = a, ["b"] = b, ["split"] = split });
        Assert.Equal(3, three.Count);
        Assert.StartsWith("FD: a beats b in all 3 spaces", three[0]);
        Assert.StartsWith("FD: no claim (a better on average in FD-x [a], FD-x [b]; split better", three[1]);
        Assert.Equal("FD: no claim (split better on average in FD in pixels; the seeds overlap or tie in FD-x [a], FD-x [b])", three[2]);
    }

    /// <summary>The families the reports use take the metric names the evaluations give, and nothing else.</summary>
    [Fact]
    public void TheFamiliesTakeTheEvaluationsNames()
    {
        string[] fd = ["FD-fashion-mnist", "FD-fashion-mnist [classifier-pooled-fashion-mnist]", "FD in pixels"];
        string[] precision = ["precision (k=5)", "precision (k=5) [pooled]", "precision (k=5) in pixels"];
        string[] recall = ["recall (k=5)", "recall (k=5) [pooled]", "recall (k=5) in pixels"];
        string[] none = ["per-class recall, mean", "recall of class 7 (Sneaker)", "copying z in pixels, 1st/2nd ratio (below -3: copies)", "classified as drawn class"];
        foreach (var (names, family) in new[] { (fd, "FD"), (precision, "precision"), (recall, "recall") })
            Assert.All(names, n => Assert.Equal(family, MetricFamily.Images.First(f => f.Member(n)).Name));
        Assert.All(none, n => Assert.DoesNotContain(MetricFamily.Images, f => f.Member(n)));
        Assert.All(new[] { "energy distance", "MMD² (unbiased)", "sliced W2²" }, n => Assert.Contains(MetricFamily.Points, f => f.Member(n)));
        Assert.DoesNotContain(MetricFamily.Points, f => f.Member("1-NN two-sample accuracy"));
    }
}
