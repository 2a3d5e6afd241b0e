namespace Drift.Metrics;

/// <summary>One metric of generated samples against held-out data, next to its floor: the same metric for an
/// independent draw of data against the same held-out points, what a perfect generator scores.</summary>
public sealed record EvaluatedMetric(string Name, double Generated, double Floor);
