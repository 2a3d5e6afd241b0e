namespace Drift.Tests;

/// <summary>Tests that compare networks or training runs built from one seed run one at a time, after the others. A
/// network's initial weights come from libtorch's one global generator, seeded just before it is built (the trainers
/// do so too); a test of another class that builds a module or seeds that generator in between (xunit runs classes in
/// parallel) changes one side's weights and not the other's. A fresh-clone CI run on a loaded machine failed so once
/// (ResumeTests, 2026-12-05).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SeededWeights
{
    public const string Name = "weights drawn from one seed";
}
