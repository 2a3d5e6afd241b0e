namespace Drift.Tests;

/// <summary>Tests that start drift processes and time signals against them run one at a time, after the others: in
/// one fresh-clone CI run on 2 cores (with a build beside it), run alongside the in-process training tests, a
/// SIGINT'd run had not stopped after a minute, the signal test's wait.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RealProcesses
{
    public const string Name = "real drift processes";
}
