namespace Drift.Tests;

/// <summary>Tests that start drift processes and time signals and kills against them run one at a time, after the
/// others, so that on 2 cores they do not compete with the in-process training tests (or with each other) for the
/// moments they wait for.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RealProcesses
{
    public const string Name = "real drift processes";
}
