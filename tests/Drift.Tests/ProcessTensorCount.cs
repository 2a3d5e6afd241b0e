namespace Drift.Tests;

/// <summary>The count of tensors alive in the process is process-wide: tests that read it run alone, after the others.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessTensorCount
{
    public const string Name = "process-wide tensor count";
}
