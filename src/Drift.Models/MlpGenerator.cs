using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Drift.Models;

/// <summary>Noise [B, noiseDim] → samples [B, outDim] through <c>depth</c> hidden SiLU layers of <c>width</c>.</summary>
public sealed class MlpGenerator : Module<Tensor, Tensor>
{
    private readonly Sequential net;

    public MlpGenerator(int noiseDim, int width, int depth, int outDim) : base(nameof(MlpGenerator))
    {
        if (noiseDim < 1 || width < 1 || depth < 1 || outDim < 1)
            throw new ArgumentException($"MLP sizes must be at least 1 (noise {noiseDim}, width {width}, depth {depth}, out {outDim})");
        NoiseDim = noiseDim;
        var layers = new List<(string, Module<Tensor, Tensor>)>();
        var inputs = noiseDim;
        for (var i = 0; i < depth; i++)
        {
            layers.Add(($"fc{i}", Linear(inputs, width)));
            layers.Add(($"act{i}", SiLU()));
            inputs = width;
        }
        layers.Add(("out", Linear(inputs, outDim)));
        net = Sequential(layers);
        RegisterComponents();
    }

    public int NoiseDim { get; }

    /// <summary>Multiplies and adds of a forward pass over <paramref name="batch"/> samples, 2 per weight and sample
    /// (the biases and activations, a few per unit, not counted).</summary>
    public double ForwardFlops(long batch) =>
        2.0 * batch * net.children().OfType<Linear>().Sum(l => (double)l.weight!.numel());

    public override Tensor forward(Tensor noise) => net.forward(noise);

    protected override void Dispose(bool disposing)
    {
        if (disposing) net.Dispose();
        base.Dispose(disposing);
    }
}
