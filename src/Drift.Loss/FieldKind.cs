namespace Drift.Loss;

/// <summary>The two families of drifting field; <see cref="DriftFields.Create"/> builds either.</summary>
public enum FieldKind
{
    /// <summary><see cref="ConservativeField"/>: the KDE-gradient field, scales are Gaussian bandwidths.</summary>
    Conservative,

    /// <summary><see cref="LaplaceField"/>: the original paper's displacement field, scales are temperatures.</summary>
    Laplace,
}
