using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Metrics;

/// <summary>
/// Fréchet distance between Gaussians fitted to two sets of features: ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ −
/// 2 tr (Σ₁Σ₂)^½. The trace of the square root is taken as Σ √λ over the eigenvalues of the symmetric
/// PSD matrix Σ₁^½ Σ₂ Σ₁^½, which has the same spectrum as Σ₁Σ₂. Float64 on the CPU.
/// </summary>
public static class FrechetDistance
{
    public static double Compute(Tensor a, Tensor b)
    {
        if (a.dim() != 2 || b.dim() != 2 || a.shape[1] != b.shape[1])
            throw new ArgumentException("Fréchet distance takes two [n, d] feature sets of one dimension");
        if (a.shape[0] < 2 || b.shape[0] < 2) throw new ArgumentException("Fréchet distance needs at least 2 samples a side");
        using var scope = torch.NewDisposeScope();
        var (muA, covA) = Moments(a);
        var (muB, covB) = Moments(b);
        return FromMoments(muA, covA, muB, covB);
    }

    /// <summary>Mean [d] and unbiased covariance [d, d], in float64.</summary>
    public static (Tensor Mean, Tensor Covariance) Moments(Tensor x)
    {
        var f = x.detach().to(float64, CPU);
        var mean = f.mean([0]);
        var centred = f - mean;
        return (mean, centred.t().mm(centred) / (f.shape[0] - 1));
    }

    public static double FromMoments(Tensor mu1, Tensor sigma1, Tensor mu2, Tensor sigma2)
    {
        using var scope = torch.NewDisposeScope();
        var root1 = SymmetricSqrt(sigma1.to(float64));
        var inner = root1.mm(sigma2.to(float64)).mm(root1);
        var eigen = torch.linalg.eigvalsh((inner + inner.t()) / 2).clamp_min(0);
        var meanTerm = (mu1.to(float64) - mu2.to(float64)).pow(2).sum().item<double>();
        var traceTerm = sigma1.trace().item<double>() + sigma2.trace().item<double>() - 2 * eigen.sqrt().sum().item<double>();
        return Math.Max(0, meanTerm + traceTerm);
    }

    /// <summary>The PSD square root V diag(√max(λ, 0)) Vᵀ of a symmetric matrix.</summary>
    private static Tensor SymmetricSqrt(Tensor s)
    {
        var (values, vectors) = torch.linalg.eigh((s + s.t()) / 2);
        return vectors.mm(torch.diag(values.clamp_min(0).sqrt())).mm(vectors.t());
    }
}
