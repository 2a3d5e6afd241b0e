using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Train.Training.Images;

/// <summary>The indices of each class's training images, so that every class drawn in a step gets its own
/// positives however rare it is. Draws come from the run's generator, so a resumed run draws the same.</summary>
public sealed class ClassPools
{
    private readonly long[][] byClass;
    private readonly int count;

    public ClassPools(long[] labels, int classes)
    {
        byClass = Enumerable.Range(0, classes).Select(c => Enumerable.Range(0, labels.Length)
            .Where(i => labels[i] == c).Select(i => (long)i).ToArray()).ToArray();
        count = labels.Length;
    }

    public int Classes => byClass.Length;

    /// <summary>Classes that have at least one image.</summary>
    public int[] Present => Enumerable.Range(0, Classes).Where(c => byClass[c].Length > 0).ToArray();

    /// <summary>n image indices of class c (with replacement), or of any class when c is null.</summary>
    public long[] Draw(int? c, int n, Generator rng)
    {
        var size = c is { } k ? byClass[k].Length : count;
        using var picks = torch.randint(0, size, [n], generator: rng);
        var positions = picks.data<long>().ToArray();
        return c is { } cls ? positions.Select(p => byClass[cls][p]).ToArray() : positions;
    }
}
