using Drift.Loss;
using TorchSharp;
using static Drift.Tests.Tensors;
using static TorchSharp.torch;

namespace Drift.Tests;

/// <summary>
/// The drift loss when K processes share a batch, simulated in one process: each "process" holds its rows of the
/// batch, the field is computed over the gathered batch, and the K gradients averaged equal the whole batch's. A
/// shard that does not gather (each process's field over its own samples only) must give a measurably different
/// gradient: that is what sharing the samples buys.
/// </summary>
[Trait("Category", "Numerics")]
public class ShardedLossTests
{
    /// <summary>Process <paramref name="rank"/> of <paramref name="size"/> over a known whole batch, computing the field
    /// over all of it (the path of the fields that need every row).</summary>
    private sealed class Simulated(Tensor whole, int rank, int size, bool gathers) : IBatchShard
    {
        private long Rows => whole.shape[^2] / size;
        public Tensor Gather(Tensor mine) => gathers ? whole.detach() : mine;
        public Tensor Mine(Tensor all) => gathers ? all.narrow(-2, rank * Rows, Rows) : all;
        public int Count => 1;
        public long FirstRow(long rows) => 0;
        public Tensor SumOver(Tensor local) => local;
        public Tensor MaxOver(Tensor local) => local;
    }

    /// <summary>Process <paramref name="rank"/> of a group of threads, which meet in <paramref name="meeting"/> for
    /// each reduction: the row-wise fields' path, where a process computes only its rows.</summary>
    private sealed class Threaded(int rank, Meeting meeting) : IBatchShard
    {
        public Tensor Gather(Tensor mine) => meeting.Gather(rank, mine);
        public Tensor Mine(Tensor all) => all.narrow(-2, rank * all.shape[^2] / meeting.Size, all.shape[^2] / meeting.Size);
        public int Count => meeting.Size;
        public long FirstRow(long rows) => rank * rows;
        public Tensor SumOver(Tensor local) => meeting.Reduce(rank, local, (a, b) => a + b);
        public Tensor MaxOver(Tensor local) => meeting.Reduce(rank, local, torch.maximum);
    }

    /// <summary>The laplace field's rows split in each of its normalisations, in row chunks too (each chunk's self pairs at
    /// their global index; over both axes the column log-sum-exps of each process's chunks combined across processes).
    /// </summary>
    [Theory]
    [InlineData("conservative", SelfTerm.Exclude, false, false, true)]
    [InlineData("conservative", SelfTerm.Include, false, false, true)]
    [InlineData("mmd", SelfTerm.Exclude, false, false, true)]
    [InlineData("mmd", SelfTerm.Include, false, false, true)]
    [InlineData("laplace", SelfTerm.Exclude, true, false, true)]
    [InlineData("laplace", SelfTerm.Exclude, true, true, true)]
    [InlineData("laplace", SelfTerm.Exclude, false, false, true)]
    [InlineData("laplace", SelfTerm.Exclude, false, true, true)]
    [InlineData("laplace", SelfTerm.Exclude, false, false, false)]
    [InlineData("laplace", SelfTerm.Exclude, false, true, false)]
    public void RowwiseFieldsComputeOnlyTheirRowsAndStillMatchTheWholeBatch(string name, SelfTerm self, bool rowsOnly, bool chunked, bool crossWeights)
    {
        var (g, seed) = Fresh();
        const int size = 3, b = 12, d = 4;
        var kind = FieldKind.Named(name);
        var field = kind.Create(new FieldParameters([0.8, 2.5])
            { SelfTerm = self, RowsOnly = rowsOnly, CrossWeights = crossWeights, Chunking = chunked ? new FieldChunking(3, 5) : null });
        Assert.IsAssignableFrom<IRowwiseField>(field);
        foreach (var grouped in new[] { false, true })
        {
            var x = grouped ? torch.randn([2, b, d], dtype: float64, generator: g) : Randn(g, b, d);
            var pos = grouped ? torch.randn([2, 15, d], dtype: float64, generator: g) + 0.3 : Randn(g, 15, d) + 0.3;
            var whole = x.detach().requires_grad_();
            var reference = DriftLoss.Compute(field, whole, pos, 0.5);
            reference.Loss.backward();

            var meeting = new Meeting(size);
            var results = new (Tensor Grad, double Loss, Tensor ScaleRms, double VelocityRms)[size];
            meeting.Run(rank =>
            {
                var mine = x.narrow(-2, rank * (b / size), b / size).detach().requires_grad_();
                var r = DriftLoss.Compute(field, mine, pos, 0.5, shard: new Threaded(rank, meeting));
                r.Loss.backward();
                results[rank] = (mine.grad!, r.Loss.item<double>(), r.ScaleRms, r.VelocityRms.item<double>());
            });

            var averaged = torch.cat(results.Select(r => r.Grad / size).ToArray(), -2);
            var scale = MaxAbs(whole.grad!);
            Assert.True(MaxAbs(averaged - whole.grad!) < 1e-10 * scale, $"seed {seed}, {name}, grouped {grouped}: gradient off by {MaxAbs(averaged - whole.grad!)}");
            Assert.True(Math.Abs(results.Average(r => r.Loss) - reference.Loss.item<double>()) < 1e-10 * reference.Loss.item<double>(), $"seed {seed}: loss");
            foreach (var r in results)
            {
                Assert.True(MaxAbs(r.ScaleRms - reference.ScaleRms) < 1e-10 * MaxAbs(reference.ScaleRms), $"seed {seed}, {name}: scale RMS");
                Assert.True(Math.Abs(r.VelocityRms - reference.VelocityRms.item<double>()) < 1e-10, $"seed {seed}, {name}: velocity RMS");
            }
        }
    }

    /// <summary>The Sinkhorn field's rows split: each process iterates its rows of both plans (the plan to the data's column
    /// sums and marginal errors, the symmetric plan's scalings gathered, combined across processes each iteration), in
    /// float64 against the whole batch's field, whose CPU path iterates in one pass: the same loss, gradient, RMS and
    /// iterations. Wide bandwidths that converge, and narrow ones that rebuild their kernels and stop at the cap.</summary>
    [Theory]
    [InlineData(0.8, 2.5, null)]
    [InlineData(0.08, 0.25, 30)]
    public void SinkhornPlansSplitTheirRowsAndStillMatchTheWholeBatch(double narrow, double wide, int? iterations)
    {
        var (g, seed) = Fresh();
        const int size = 3, b = 24, d = 2;
        SinkhornField Field(SinkhornState state) => new([narrow, wide], iterations: iterations, state: state);
        foreach (var grouped in new[] { false, true })
        {
            var x = grouped ? torch.randn([2, b, d], dtype: float64, generator: g) : Randn(g, b, d);
            var pos = grouped ? torch.randn([2, 30, d], dtype: float64, generator: g) + 0.3 : Randn(g, 30, d) + 0.3;
            var whole = x.detach().requires_grad_();
            var wholeState = new SinkhornState();
            var reference = DriftLoss.Compute(Field(wholeState), whole, pos, 0.5);
            reference.Loss.backward();
            var counts = wholeState.TakeCounts(2);

            var meeting = new Meeting(size);
            var results = new (Tensor Grad, double Loss, Tensor ScaleRms, double[] Counts)[size];
            meeting.Run(rank =>
            {
                var state = new SinkhornState();
                var mine = x.narrow(-2, rank * (b / size), b / size).detach().requires_grad_();
                var r = DriftLoss.Compute(Field(state), mine, pos, 0.5, shard: new Threaded(rank, meeting));
                r.Loss.backward();
                results[rank] = (mine.grad!, r.Loss.item<double>(), r.ScaleRms, state.TakeCounts(2));
            });

            var context = $"seed {seed}, bandwidths {narrow} and {wide}, grouped {grouped}";
            var averaged = torch.cat(results.Select(r => r.Grad / size).ToArray(), -2);
            Assert.True(MaxAbs(averaged - whole.grad!) < 1e-10 * MaxAbs(whole.grad!), $"{context}: gradient off by {MaxAbs(averaged - whole.grad!)}");
            Assert.True(Math.Abs(results.Average(r => r.Loss) - reference.Loss.item<double>()) < 1e-10 * reference.Loss.item<double>(), $"{context}: loss");
            foreach (var r in results)
            {
                Assert.True(MaxAbs(r.ScaleRms - reference.ScaleRms) < 1e-10 * MaxAbs(reference.ScaleRms), $"{context}: scale RMS");
                Assert.Equal(counts, r.Counts);
            }
            if (iterations is { } cap) Assert.True(counts[^1] > 0, $"{context}: no plan reached the cap of {cap}; the narrow case should");
        }
    }

    public static TheoryData<string> Fields => new(FieldKind.All.Select(f => f.Name));

    [Theory]
    [MemberData(nameof(Fields))]
    public void AveragedGradientsOfTheSharesAreTheWholeBatchsAndOnlyIfTheyShareTheirSamples(string name)
    {
        var (g, seed) = Fresh();
        const int size = 2, b = 16, d = 3;
        var field = FieldKind.Named(name).Create(new FieldParameters(FieldKind.Named(name).Scale.Typical.Select(s => s * 2).ToArray()));
        var x = Randn(g, b, d);
        var pos = Randn(g, 24, d) + 0.5;

        var whole = x.detach().requires_grad_();
        var reference = DriftLoss.Compute(field, whole, pos, 0.7);
        reference.Loss.backward();

        Tensor Averaged(bool gathers)
        {
            var sum = torch.zeros_like(x);
            for (var rank = 0; rank < size; rank++)
            {
                var mine = x.narrow(0, rank * (b / size), b / size).detach().requires_grad_();
                DriftLoss.Compute(field, mine, pos, 0.7, shard: new Simulated(x, rank, size, gathers)).Loss.backward();
                sum.narrow(0, rank * (b / size), b / size).add_(mine.grad!);
            }
            return sum / size;
        }

        var shared = Averaged(gathers: true);
        var scale = MaxAbs(whole.grad!);
        Assert.True(MaxAbs(shared - whole.grad!) < 1e-12 * scale, $"seed {seed}, {name}: shared shards off by {MaxAbs(shared - whole.grad!)}");
        var local = Averaged(gathers: false);
        Assert.True(MaxAbs(local - whole.grad!) > 1e-2 * scale, $"seed {seed}, {name}: fields over local samples only should differ, off by {MaxAbs(local - whole.grad!)}");
    }

    [Fact]
    public void FeatureLossOfTheSharesIsTheWholeBatchsPerGroup()
    {
        // Two groups of 6 generated images, each process holding 3 of each: scales and fields see the whole groups.
        var (g, seed) = Fresh();
        const int groups = 2, perGroup = 6, size = 3;
        var images = torch.rand([groups * perGroup, 1, 8, 8], dtype: float64, generator: g);
        var data = torch.rand([groups * 10, 1, 8, 8], dtype: float64, generator: g);
        FeatureSpace[] spaces = [FeatureSpace.Of(i => ImageFeatures.Apply("pixels", i)), FeatureSpace.Of(i => ImageFeatures.Apply("mean2", i))];
        var field = FieldKind.Conservative.Create(new FieldParameters([0.1, 0.3]));

        var whole = images.detach().requires_grad_();
        var reference = FeatureDriftLoss.Compute(field, spaces, groups, whole, new DataImages(data), 1.0);
        reference.Loss.backward();

        var averaged = torch.zeros_like(images);
        for (var rank = 0; rank < size; rank++)
        {
            var rows = torch.tensor(Enumerable.Range(0, groups).SelectMany(k => Enumerable.Range(k * perGroup + rank * 2, 2)).Select(i => (long)i).ToArray());
            var mine = images.index_select(0, rows).detach().requires_grad_();
            var shard = new GroupShard(images, spaces, groups, rank, size);
            FeatureDriftLoss.Compute(field, spaces, groups, mine, new DataImages(data), 1.0, shard: shard).Loss.backward();
            averaged.index_add_(0, rows, mine.grad!, 1.0 / size);
        }
        var error = MaxAbs(averaged - whole.grad!) / MaxAbs(whole.grad!);
        Assert.True(error < 1e-10, $"seed {seed}: shares' averaged gradient off by {error} relative");
    }

    /// <summary>A process's share of each group's features: it knows the whole batch's images, so it gathers by
    /// recomputing every feature space on them (the order FeatureDriftLoss visits the spaces in).</summary>
    private sealed class GroupShard(Tensor images, FeatureSpace[] spaces, int groups, int rank, int size) : IBatchShard
    {
        private int next;

        public Tensor Gather(Tensor mine)
        {
            var all = spaces[next++ % spaces.Length].Map(images).view(groups, images.shape[0] / groups, -1);
            return all.detach();
        }

        public Tensor Mine(Tensor all) => all.narrow(-2, rank * (all.shape[^2] / size), all.shape[^2] / size);

        // The field over the whole gathered batch (as a field that needs every row computes it): no reductions.
        public int Count => 1;
        public long FirstRow(long rows) => 0;
        public Tensor SumOver(Tensor local) => local;
        public Tensor MaxOver(Tensor local) => local;
    }
}
