namespace Drift.Loss;

/// <summary>
/// Whether a generated point counts itself in the model KDE when the negatives are the generated batch.
/// <c>Include</c> is the theory's form; once the bandwidth is below the spacing between samples (always
/// so in high dimension) the self term dominates the model KDE and repulsion vanishes, so generators
/// collapse. <c>Exclude</c> (leave-one-out) keeps repulsion and is the training default.
/// </summary>
public enum SelfTerm
{
    Exclude,
    Include,
}
