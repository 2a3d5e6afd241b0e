using Drift.Loss;
using TorchSharp;
using static Drift.Tests.Tensors;
using static TorchSharp.torch;

namespace Drift.Tests;

/// <summary>The stop-gradient ablation against the production field (value) and against finite differences of
/// η²·mean‖V(x)‖² with V from <see cref="ConservativeField"/> in float64 (gradient): an independent oracle, since
/// the production field computes without autograd.</summary>
[Trait("Category", "Numerics")]
public class ThroughFieldLossTests
{
    private static double FieldEnergy(ConservativeField field, double[,] x, Tensor pos, double eta)
    {
        using var scope = torch.NewDisposeScope();
        var v = field.Compute(FromArray(x), pos).Velocity;
        return eta * eta * v.pow(2).sum(-1).mean().item<double>();
    }

    [Theory]
    [InlineData(SelfTerm.Exclude, false)]
    [InlineData(SelfTerm.Include, false)]
    [InlineData(SelfTerm.Exclude, true)]
    public void GradientIsTheFiniteDifferenceOfTheFieldsSize(SelfTerm self, bool normalize)
    {
        var (g, seed) = Fresh();
        const int b = 6, d = 2;
        const double eta = 0.7;
        var field = new ConservativeField([0.7, 1.5], self, normalize);
        var x = Randn(g, b, d).requires_grad_();
        var pos = Randn(g, 9, d) + 0.4;

        var result = ThroughFieldLoss.Compute(field, x, pos, eta);
        result.Loss.backward();
        var grad = ToArray(x.grad!);
        var xs = ToArray(x.detach());

        Assert.True(Math.Abs(result.Loss.item<double>() - FieldEnergy(field, xs, pos, eta)) < 1e-12,
            $"seed {seed}: loss {result.Loss.item<double>()} vs η²·mean‖V‖² {FieldEnergy(field, xs, pos, eta)}");
        for (var i = 0; i < b; i++)
        for (var k = 0; k < d; k++)
        {
            var (i0, k0) = (i, k);
            var fd = Reference.Gradient(p =>
            {
                var moved = (double[,])xs.Clone();
                moved[i0, k0] = p[0];
                return FieldEnergy(field, moved, pos, eta);
            }, [xs[i, k]])[0];
            Assert.True(Math.Abs(grad[i, k] - fd) < 1e-6 * (1 + Math.Abs(fd)),
                $"seed {seed}, {self}, normalize {normalize}: dL/dx[{i},{k}] = {grad[i, k]}, finite difference {fd}");
        }
    }

    [Fact]
    public void SameValueAsTheDriftLossButAnotherGradient()
    {
        var (g, seed) = Fresh();
        var field = new ConservativeField([0.5, 1.0, 2.0], SelfTerm.Exclude, normalizeScales: true);
        var x = Randn(g, 32, 2).requires_grad_();
        var pos = Randn(g, 40, 2) * 0.5 + 1;

        var held = DriftLoss.Compute(field, x, pos, 1.0);
        held.Loss.backward();
        var heldGrad = x.grad!.clone();
        x.grad!.zero_();
        var through = ThroughFieldLoss.Compute(field, x, pos, 1.0);
        through.Loss.backward();

        Assert.True(Math.Abs(held.Loss.item<double>() - through.Loss.item<double>()) < 1e-10 * held.Loss.item<double>(),
            $"seed {seed}: {held.Loss.item<double>()} vs {through.Loss.item<double>()}");
        Assert.True((held.ScaleRms - through.ScaleRms).abs().max().item<double>() < 1e-10, $"seed {seed}: scale RMS differ");
        // The held target's gradient is −2V/B; through the field it is 2J_VᵀV/B, a different direction.
        var cosine = (heldGrad * x.grad!).sum() / (heldGrad.norm() * x.grad!.norm());
        Assert.True(cosine.item<double>() < 0.9, $"seed {seed}: cosine of the two gradients {cosine.item<double>()}");
    }

    [Fact]
    public void RefusesBadInput()
    {
        var field = new ConservativeField([1.0]);
        Assert.Throws<ArgumentException>(() => ThroughFieldLoss.Compute(field, torch.zeros(4, 2), torch.ones(4, 2), 0));
        Assert.Throws<ArgumentException>(() => ThroughFieldLoss.Compute(field, torch.zeros(4, 2), torch.ones(4, 3), 1));
    }
}
