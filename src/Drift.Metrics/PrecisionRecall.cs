using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Metrics;

/// <summary>
/// Precision and recall on k-nearest-neighbour manifolds (Kynkäänniemi et al. 2019). Each set's manifold is
/// the union of balls around its points, each ball reaching the point's k-th nearest neighbour in the
/// same set. Precision: the share of generated points inside the real manifold (fidelity). Recall: the
/// share of real points inside the generated manifold (diversity). Float64; rows in chunks.
/// </summary>
public static class PrecisionRecall
{
    public static (double Precision, double Recall) Compute(Tensor real, Tensor generated, int k = 3)
    {
        if (real.dim() != 2 || generated.dim() != 2 || real.shape[1] != generated.shape[1])
            throw new ArgumentException("precision/recall take two [n, d] feature sets of one dimension");
        if (k < 1 || real.shape[0] <= k || generated.shape[0] <= k)
            throw new ArgumentException($"k = {k} needs more than k points a side");
        using var scope = torch.NewDisposeScope();
        var r = real.detach().to(float64, CPU);
        var g = generated.detach().to(float64, CPU);
        var realRadii = KthNeighbourDistance(r, k);
        var generatedRadii = KthNeighbourDistance(g, k);
        return (Inside(g, r, realRadii), Inside(r, g, generatedRadii));
    }

    /// <summary>Recall within each class: the share of class c's real points inside the manifold of the points
    /// generated for class c alone. A generator that covers every class but only a narrow part of each
    /// scores high class coverage and low per-class recall. NaN for a class with k or fewer points on a side.</summary>
    public static double[] PerClassRecall(Tensor real, long[] realLabels, Tensor generated, long[] generatedLabels, int classes, int k)
    {
        if (real.shape[0] != realLabels.Length || generated.shape[0] != generatedLabels.Length)
            throw new ArgumentException("per-class recall needs one label per point");
        using var scope = torch.NewDisposeScope();
        Tensor Rows(Tensor x, long[] labels, int c) =>
            x.index_select(0, torch.tensor(Enumerable.Range(0, labels.Length).Where(i => labels[i] == c).Select(i => (long)i).ToArray()));
        return Enumerable.Range(0, classes).Select(c =>
        {
            var r = Rows(real, realLabels, c);
            var g = Rows(generated, generatedLabels, c);
            return r.shape[0] > k && g.shape[0] > k ? Compute(r, g, k).Recall : double.NaN;
        }).ToArray();
    }

    /// <summary>Distance of each point to its k-th nearest other point of the same set.</summary>
    public static Tensor KthNeighbourDistance(Tensor x, int k) =>
        Chunked(x, x, d => d.topk(k + 1, 1, largest: false).values.select(1, k));

    /// <summary>Share of the query points within the radius of at least one manifold point.</summary>
    private static double Inside(Tensor query, Tensor manifold, Tensor radii) =>
        Chunked(query, manifold, d => (d <= radii.unsqueeze(0)).any(1).to(float64)).mean().item<double>();

    private static Tensor Chunked(Tensor rows, Tensor columns, Func<Tensor, Tensor> reduce)
    {
        const int chunk = 1024;
        var parts = new List<Tensor>();
        for (long start = 0; start < rows.shape[0]; start += chunk)
            parts.Add(reduce(torch.cdist(rows.narrow(0, start, Math.Min(chunk, rows.shape[0] - start)), columns)));
        return torch.cat(parts, 0);
    }
}
