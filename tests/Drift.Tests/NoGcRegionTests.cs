using System.Runtime;
using Drift.Train.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Tests;

/// <summary>
/// No Scalar TorchSharp made from a .NET number is finalized while libtorch still reads it: inside
/// <see cref="NoGcRegion"/> nothing is collected, and without background collections (Directory.Build.props) none
/// runs beside the thread that works. With background collections and no region the scalar loop below failed within a
/// second here ("INTERNAL ASSERT FAILED at c10/core/Scalar.h", or the test host went down); with them off and no region
/// it passed 3,000 steps twice (here 500), and failed within seconds once another thread allocated beside it, which the region
/// holds off.
/// </summary>
[Collection(Name)]
[CollectionDefinition(Name, DisableParallelization = true)]
public class NoGcRegionTests
{
    /// <summary>Alone: a region is process-wide, and other tests' allocations would count against its budget.</summary>
    public const string Name = "the collector held off";

    [Fact]
    public void NothingIsCollectedInsideAndTheRegionEndsWithItsLastHolder()
    {
        using (NoGcRegion.Enter(256L << 20))
        {
            // Starting the region may collect once, to make room for its budget; nothing is collected after.
            var before = GC.CollectionCount(0);
            using (var inner = NoGcRegion.Enter(1L << 20))
            {
                for (var i = 0; i < 64; i++) GC.KeepAlive(new byte[1 << 20]);
                inner.Dispose();
            }
            Assert.Equal(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
            Assert.Equal(before, GC.CollectionCount(0));
        }
        Assert.NotEqual(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
        // A region whose budget ran out has ended with a collection; leaving it is no error.
        using (NoGcRegion.Enter(1L << 20))
            for (var i = 0; i < 64; i++) GC.KeepAlive(new byte[1 << 20]);
        Assert.NotEqual(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
        // A budget past what the runtime sets aside is capped (TryStartNoGCRegion(long.MaxValue) took the test host down).
        using (NoGcRegion.Enter(long.MaxValue))
            Assert.Equal(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ImplicitScalarsSurviveLargeAllocations(bool inRegion)
    {
        Assert.Equal("false", AppContext.GetData("System.GC.Concurrent")?.ToString());
        var drift = Path.ChangeExtension(DriftProcess.Dll, ".runtimeconfig.json");
        Assert.Contains("\"System.GC.Concurrent\": false", File.ReadAllText(drift));
        var (g, seed) = Tensors.Fresh();
        var weights = Enumerable.Range(0, 40).Select(_ => torch.randn([100_000], generator: g)).ToArray();
        using var reference = torch.stack(weights.Select(w => (w * w).sum()).ToArray()).sum().sqrt();
        for (var step = 0; step < 500; step++)
        {
            using var region = inRegion ? NoGcRegion.Enter(64L << 20) : null;
            using var scope = NewDisposeScope();
            // What a data-parallel step does between the backward pass and the gradient norm: a large host array (the
            // averaged gradients), then many small libtorch calls that each take a Scalar made from a .NET number.
            using var averaged = torch.tensor(new float[1_400_000]);
            for (var k = 0; k < 10; k++) (weights[k] * 0.5).add_(1.0);
            var norm = torch.stack(weights.Select(w => w.square().sum()).ToArray()).sum().sqrt();
            Assert.True(Math.Abs(norm.item<float>() - reference.item<float>()) <= 1e-5 * reference.item<float>(), $"seed {seed}, step {step}");
        }
    }
}
