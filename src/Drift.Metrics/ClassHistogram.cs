namespace Drift.Metrics;

/// <param name="Covered">Classes that receive at least half their share in the reference.</param>
/// <param name="HistogramError">Total variation ½ Σ_c |p̂_c − q_c| between the class shares of the sample and the reference.</param>
/// <param name="Accuracy">For samples drawn for a class: the share the classifier puts in that class; NaN otherwise.</param>
public sealed record ClassReport(int Covered, int Classes, double HistogramError, double Accuracy);

/// <summary>Compares the classes a classifier assigns to samples with those it assigns to real data.</summary>
public static class ClassHistogram
{
    /// <param name="predicted">Class the classifier assigns to each sample.</param>
    /// <param name="reference">Class it assigns to each real image (or their true labels).</param>
    /// <param name="intended">The class each sample was drawn for (−1: none), for conditional generators.</param>
    public static ClassReport Compute(long[] predicted, long[] reference, int classes, long[]? intended = null)
    {
        if (predicted.Length == 0 || reference.Length == 0) throw new ArgumentException("class histograms need samples on both sides");
        var p = Shares(predicted, classes);
        var q = Shares(reference, classes);
        var covered = Enumerable.Range(0, classes).Count(c => q[c] > 0 && p[c] >= 0.5 * q[c]);
        var tv = 0.5 * Enumerable.Range(0, classes).Sum(c => Math.Abs(p[c] - q[c]));
        var drawn = intended is null ? [] : Enumerable.Range(0, predicted.Length).Where(i => intended[i] >= 0).ToArray();
        var accuracy = drawn.Length > 0 ? drawn.Count(i => predicted[i] == intended![i]) / (double)drawn.Length : double.NaN;
        return new ClassReport(covered, Enumerable.Range(0, classes).Count(c => q[c] > 0), tv, accuracy);
    }

    private static double[] Shares(long[] labels, int classes)
    {
        var counts = new double[classes];
        foreach (var l in labels)
        {
            if (l < 0 || l >= classes) throw new ArgumentException($"class {l} outside 0..{classes - 1}");
            counts[l]++;
        }
        return counts.Select(c => c / labels.Length).ToArray();
    }
}
