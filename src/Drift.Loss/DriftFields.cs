namespace Drift.Loss;

/// <summary>The one place a field kind becomes a field. Runs build their field here once; annealing and
/// feature spaces then rescale it with <see cref="IDriftField.Scaled"/>.</summary>
public static class DriftFields
{
    /// <param name="scales">Bandwidths (conservative, sinkhorn) or temperatures (laplace).</param>
    /// <param name="selfTerm">Conservative only: the Laplace field always masks self pairs, the Sinkhorn field's
    /// self coupling (the batch's transport plan to itself) always holds them.</param>
    /// <param name="gaussianKernel">Laplace only: see <see cref="LaplaceField.Gaussian"/>.</param>
    /// <param name="rowsOnly">Laplace only: see <see cref="LaplaceField.RowsOnly"/>.</param>
    /// <param name="sinkhornState">Sinkhorn only: where its plans count their iterations (a run's field has one).</param>
    public static IDriftField Create(FieldKind kind, IEnumerable<double> scales, SelfTerm selfTerm = SelfTerm.Exclude,
        bool normalizeScales = true, FieldChunking? chunking = null, bool gaussianKernel = false, bool rowsOnly = false,
        SinkhornState? sinkhornState = null) => kind switch
    {
        FieldKind.Conservative => new ConservativeField(scales, selfTerm, normalizeScales, chunking),
        FieldKind.Laplace => new LaplaceField(scales, normalizeScales, chunking, gaussianKernel, rowsOnly),
        FieldKind.Sinkhorn => new SinkhornField(scales, normalizeScales, state: sinkhornState),
        _ => throw new ArgumentException($"unknown field kind {(int)kind}"),
    };

    /// <summary>The lower-case name configs and the command line use: conservative, laplace, sinkhorn.</summary>
    public static string Name(this FieldKind kind) => kind.ToString().ToLowerInvariant();
}
