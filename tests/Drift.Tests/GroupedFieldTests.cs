using Drift.Loss;
using TorchSharp;
using static Drift.Tests.Tensors;
using static TorchSharp.torch;

namespace Drift.Tests;

/// <summary>A field over [G, n, d] groups must equal the field of each group on its own.</summary>
[Trait("Category", "Numerics")]
public class GroupedFieldTests
{
    public static TheoryData<string, SelfTerm, bool> Cases => new()
    {
        { "conservative", SelfTerm.Exclude, false },
        { "conservative", SelfTerm.Include, false },
        { "conservative", SelfTerm.Exclude, true },
        { "laplace", SelfTerm.Exclude, false },
        { "laplace", SelfTerm.Exclude, true },
        { "sinkhorn", SelfTerm.Include, false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void EachGroupEqualsItsOwnField(string kind, SelfTerm self, bool guided)
    {
        var (g, seed) = Fresh();
        const int groups = 4, b = 7, p = 6, u = 3, d = 5;
        IDriftField field = kind switch
        {
            "conservative" => new ConservativeField([0.5, 1.5], self, normalizeScales: true),
            "laplace" => new LaplaceField([0.4, 1.2]),
            // Groups stop iterating together, when the worst one has converged: compared without early stops.
            _ => new SinkhornField([0.5, 1.5], normalizeScales: true, tolerance: 0),
        };
        var x = torch.randn([groups, b, d], dtype: float64, generator: g);
        var pos = torch.randn([groups, p, d], dtype: float64, generator: g) + 0.4;
        var extra = torch.randn([groups, u, d], dtype: float64, generator: g) - 0.2;
        var gammas = Enumerable.Range(0, groups).Select(k => 0.15 * k).ToArray();
        var grouped = field.Compute(x, pos, null, guided ? new GuidanceNegatives(extra, gammas) : null);

        var rms = torch.zeros(2, dtype: float64);
        for (var k = 0; k < groups; k++)
        {
            var alone = field.Compute(x[k], pos[k], null, guided ? new GuidanceNegatives(extra[k], gammas[k]) : null);
            Assert.True(MaxAbs(grouped.Velocity[k] - alone.Velocity) < 1e-12, $"seed {seed}: group {k} off by {MaxAbs(grouped.Velocity[k] - alone.Velocity)}");
            rms += alone.ScaleRms / groups;
        }
        Assert.True(MaxAbs(grouped.ScaleRms - rms) < 1e-12, $"seed {seed}: scale RMS is not the mean over groups");
    }

    [Theory]
    [InlineData("conservative")]
    [InlineData("laplace")]
    public void ChunkedGroupsGoOneAtATimeAndEqualTheDenseOnes(string kind)
    {
        var (g, seed) = Fresh();
        var x = torch.randn([3, 9, 4], dtype: float64, generator: g);
        var pos = torch.randn([3, 5, 4], dtype: float64, generator: g);
        var guidance = new GuidanceNegatives(torch.randn([3, 4, 4], dtype: float64, generator: g), [0.1, 0.4, 0.6]);
        IDriftField Make(FieldChunking? c) => kind == "conservative" ? new ConservativeField([0.6, 2.0], chunking: c) : new LaplaceField([0.5, 1.0], chunking: c);
        var dense = Make(null).Compute(x, pos, null, guidance);
        var chunked = Make(new FieldChunking(4, 3)).Compute(x, pos, null, guidance);
        Assert.True(MaxAbs(dense.Velocity - chunked.Velocity) < 1e-12, $"seed {seed}: off by {MaxAbs(dense.Velocity - chunked.Velocity)}");
        Assert.True(MaxAbs(dense.ScaleRms - chunked.ScaleRms) < 1e-12, $"seed {seed}: scale RMS differs");
    }

    [Fact]
    public void MismatchedGroupsAreRejected()
    {
        var x = torch.randn(2, 4, 3);
        Assert.Throws<ArgumentException>(() => new LaplaceField([1.0]).Compute(x, torch.randn(3, 4, 3)));
        Assert.Throws<ArgumentException>(() => new LaplaceField([1.0]).Compute(x, torch.randn(4, 3)));
        Assert.Throws<ArgumentException>(() => new LaplaceField([1.0]).Compute(x, torch.randn(2, 4, 3), null, new GuidanceNegatives(torch.randn(2, 3, 3), [0.1, 0.2, 0.3])));
    }
}
