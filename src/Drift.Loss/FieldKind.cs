namespace Drift.Loss;

/// <summary>The families of drifting field; <see cref="DriftFields.Create"/> builds each.</summary>
public enum FieldKind
{
    /// <summary><see cref="ConservativeField"/>: the KDE-gradient field, scales are Gaussian bandwidths.</summary>
    Conservative,

    /// <summary><see cref="LaplaceField"/>: the original paper's displacement field, scales are temperatures.</summary>
    Laplace,

    /// <summary><see cref="SinkhornField"/>: the Sinkhorn-divergence drift, scales are Gaussian bandwidths as for the
    /// conservative field, whose row softmax it replaces by two-sided (optimal-transport) normalisation.</summary>
    Sinkhorn,
}
