using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Loss;

/// <summary>A target distribution ν whose Gaussian-smoothed score ∇log ν_h, ν_h = ν * N(0, h² I), is known in
/// closed form, so that a conservative field against it needs no target samples.</summary>
public interface ISmoothedTarget
{
    int Dim { get; }

    Tensor Sample(int n, Generator g, ScalarType dtype = ScalarType.Float64);

    /// <summary>∇log ν_h at each row of x.</summary>
    Tensor SmoothedScore(Tensor x, double h);
}
