using System.Runtime;

namespace Drift.Train.Training;

/// <summary>
/// Keeps the garbage collector from running while a training step's libtorch calls are in flight. TorchSharp 0.107
/// turns every .NET number it hands to libtorch (<c>x * 0.5</c>, <c>t.square()</c>, the <c>alpha:</c> of its
/// optimizers) into a Scalar that only its finalizer frees, and nothing keeps that Scalar alive while libtorch reads it:
/// a collection during the native call frees it under libtorch, which then fails ("INTERNAL ASSERT FAILED at
/// c10/core/Scalar.h", "Unknown scalar type"; TorchSharp's pull request 1434, open, disposes them). Measured: 3 of 17
/// runs of 30 steps of <c>mpiexec -n 2 drift train-images --field laplace --rows-only false</c> ended so (the builds
/// before and after the Laplace field split its rows), each in the gradient norm right after the gradients' megabytes
/// were averaged, and a loop of such calls beside a 5.6 MB allocation fails within a second (NoGcRegionTests).
/// Background collections, the cause there, are off (Directory.Build.props); this holds off the collections that another
/// thread's allocation (a logger's, a progress bar's) would start. Inside a no-GC region the runtime collects nothing
/// unless the region's allocation budget runs out; what the step left is collected when the next region starts.
/// Process-wide, so threads training at once (tests) share one region: the first to enter starts it, the last to leave
/// ends it.
/// </summary>
public static class NoGcRegion
{
    /// <summary>The largest budget asked for: the runtime sets it aside at each start, and asked for far more it ended the
    /// process. Work that allocates more is collected once past it, as without a region.</summary>
    private const long MaxBytes = 1L << 30;

    private static readonly Lock Gate = new();
    private static int holders;
    private static bool started;

    /// <summary>Holds collections off until the result is disposed.</summary>
    /// <param name="bytes">What may be allocated meanwhile; past it the runtime collects (and the region ends).</param>
    public static IDisposable Enter(long bytes)
    {
        lock (Gate)
        {
            if (holders++ == 0)
                started = GCSettings.LatencyMode != GCLatencyMode.NoGCRegion && GC.TryStartNoGCRegion(Math.Min(bytes, MaxBytes));
        }
        return new Held();
    }

    private sealed class Held : IDisposable
    {
        private bool left;

        public void Dispose()
        {
            lock (Gate)
            {
                if (left) return;
                left = true;
                // A region whose budget ran out has ended already: ending it again would throw.
                if (--holders == 0 && started && GCSettings.LatencyMode == GCLatencyMode.NoGCRegion)
                    GC.EndNoGCRegion();
            }
        }
    }
}
