using Drift.Loss;
using TorchSharp;
using static Drift.Tests.Tensors;
using static TorchSharp.torch;

namespace Drift.Tests;

/// <summary>The memory-bounded paths must give the dense field, chunk boundaries included.</summary>
[Trait("Category", "Numerics")]
public class ChunkedFieldTests
{
    public static TheoryData<int, int, bool> Chunks => new()
    {
        { 7, 5, true },     // neither size divides 23, 19 or 23+19
        { 1, 1, true },
        { 23, 64, true },   // one chunk holding everything
        { 7, 20, true },    // the 19 positives at once, the 23 negatives streamed
        { 5, 23, false },   // both sides at once, one of them exactly one chunk
        { 4, 6, false },
    };

    [Theory]
    [MemberData(nameof(Chunks))]
    public void ConservativeChunkedEqualsDense(int rows, int columns, bool selfPairs)
    {
        var (g, seed) = Fresh();
        var x = Randn(g, 23, 3);
        var pos = Randn(g, 19, 3) + 0.5;
        var neg = selfPairs ? null : Randn(g, 17, 3, 1.3);
        foreach (var self in new[] { SelfTerm.Exclude, SelfTerm.Include })
        {
            double[] hs = [0.3, 0.8, 2.0];
            var dense = new ConservativeField(hs, self, true).Compute(x, pos, neg);
            var chunked = new ConservativeField(hs, self, true, new FieldChunking(rows, columns)).Compute(x, pos, neg);
            Assert.True(MaxAbs(dense.Velocity - chunked.Velocity) < 1e-10, $"seed {seed}, {self}: {MaxAbs(dense.Velocity - chunked.Velocity)}");
            Assert.True(MaxAbs(dense.ScaleRms - chunked.ScaleRms) < 1e-10, $"seed {seed}, {self}: RMS");
        }
    }

    [Theory]
    [MemberData(nameof(Chunks))]
    public void LaplaceChunkedEqualsDense(int rows, int columns, bool selfPairs)
    {
        _ = columns;
        var (g, seed) = Fresh();
        var x = Randn(g, 23, 3);
        var pos = Randn(g, 19, 3) + 0.5;
        var neg = selfPairs ? null : Randn(g, 17, 3, 1.3);
        double[] temps = [0.05, 0.3, 1.0];
        // The paper's field, the Gaussian-kernel, rows-only variant of the score-matching identity, and both axes without
        // cross weights (whose column sums the chunks must still gather over every row).
        foreach (var (gaussian, rowsOnly, crossWeights) in new[] { (false, false, true), (true, true, true), (false, false, false) })
        {
            var dense = new LaplaceField(temps, gaussian: gaussian, rowsOnly: rowsOnly, crossWeights: crossWeights).Compute(x, pos, neg);
            var chunked = new LaplaceField(temps, chunking: new FieldChunking(rows, 1), gaussian: gaussian, rowsOnly: rowsOnly, crossWeights: crossWeights)
                .Compute(x, pos, neg);
            var variant = $"gaussian {gaussian}, rows only {rowsOnly}, cross weights {crossWeights}";
            Assert.True(MaxAbs(dense.Velocity - chunked.Velocity) < 1e-10, $"seed {seed}, {variant}: {MaxAbs(dense.Velocity - chunked.Velocity)}");
            Assert.True(MaxAbs(dense.ScaleRms - chunked.ScaleRms) < 1e-10, $"seed {seed}, {variant}: RMS");
        }
    }

    [Fact]
    public void LargeBatchesChunkThemselvesAndStayWithinFloat32Tolerance()
    {
        // 4500 × (4500 + 4500) entries pass the dense limit, so Auto chunks; float32 against a float64 dense run. Among
        // 4500 points some pairs lie within 1e-3 of each other: distances from the expansion ‖x‖² + ‖y‖² − 2x·y put
        // the Laplace field off by up to 1.2e-3 (seed 649550912); from the differences, 1e-5–2e-5.
        var (g, seed) = Fresh();
        var x = torch.randn([4500, 2], generator: g);
        var pos = torch.randn([4500, 2], generator: g) + 0.3;
        Assert.NotNull(FieldChunking.Auto(4500, 9000, DeviceType.CPU));
        foreach (var field in new IDriftField[] { new ConservativeField([0.1, 0.4], normalizeScales: true), new LaplaceField([0.05, 0.5]) })
        {
            var reference = field.Compute(x.to(float64), pos.to(float64)).Velocity;
            var fast = field.Compute(x, pos).Velocity;
            var err = MaxAbs(reference - fast.to(float64)) / MaxAbs(reference);
            Assert.True(err < 1e-4, $"seed {seed}: {field.GetType().Name} relative error {err}");
        }
    }

    [Theory]
    [InlineData(DeviceType.CUDA, 16384, 16384)]
    [InlineData(DeviceType.CUDA, 65536, 65536)]
    [InlineData(DeviceType.CUDA, 3000, 1_000_000)]
    [InlineData(DeviceType.CUDA, 3000, 2_000_000)]
    [InlineData(DeviceType.CPU, 8192, 8192)]
    [InlineData(DeviceType.CPU, 4096, 100_000)]
    public void ChunksAreBoundedAndKeepWholeSidesWhileRowsAllow(DeviceType device, long rows, long data)
    {
        var columns = rows + data;
        var budget = FieldChunking.ChunkEntries(device);
        var chunks = FieldChunking.Auto(rows, columns, device)!;
        Assert.True((long)chunks.Rows * chunks.Columns <= budget, $"{chunks}");
        Assert.True(chunks.Rows >= FieldChunking.MinRows(device), $"{chunks}: small row chunks would wait on launches");
        // A side streams through an online softmax only when MinRows rows of whole sides would not fit.
        Assert.Equal(FieldChunking.MinRows(device) * columns <= budget, chunks.Columns >= Math.Max(rows, data));
        Assert.Null(FieldChunking.Auto(64, 128, device));
    }

    [Fact]
    public void DataFarFromTheOriginKeepsFloat32Accuracy()
    {
        // Logits from inner products cancel terms of size ‖y‖²: 1000 units out, float32 gave relative errors
        // of 0.26 before the fields centred their inputs. The float64 reference takes the float32-rounded points, so
        // that only the fields' arithmetic is judged: the rounding of the inputs themselves (6e-5 at 1000 units)
        // moved the field by up to 2.3e-4 of its size (seed 691572327), which no float32 field can avoid.
        var (g, seed) = Fresh();
        var offset = 1000 * torch.randn([1, 3], dtype: float64, generator: g);
        var x = (Randn(g, 300, 3) + offset).to(float32);
        var pos = (Randn(g, 200, 3) + 0.5 + offset).to(float32);
        foreach (var field in new IDriftField[] { new ConservativeField([0.5, 1.0], normalizeScales: true), new LaplaceField([0.3, 1.0]) })
        {
            var reference = field.Compute(x.to(float64), pos.to(float64)).Velocity;
            var fast = field.Compute(x, pos).Velocity.to(float64);
            var err = MaxAbs(reference - fast) / MaxAbs(reference);
            Assert.True(err < 1e-5, $"seed {seed}: {field.GetType().Name} relative error {err}");
        }
    }
}
