using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Drift.Models;

/// <summary>
/// Noise → image in one pass: a linear map to a small grid (size/4, or size/8 one scale up), optional
/// residual blocks on that grid, then upsampling stages of two 3×3 convolutions each, halving the channels
/// as the grid doubles. A condition vector, from the class label (index <c>classes</c> meaning "no class")
/// and the guidance scale, sets a per-channel scale and shift after the first normalisation of every block.
/// A convolution's cost grows with its grid's area, so a block on the 7×7 grid with 4× the channels costs
/// about what one at 28×28 does (16× the weights on 1/16 of the pixels): capacity where it is cheap.
/// </summary>
public sealed class ConvGenerator : Module<Tensor, Tensor, Tensor, Tensor>
{
    private readonly Embedding label;
    private readonly Linear guidance;
    private readonly Linear stem;
    private readonly ModuleList<ConvBlock> gridBlocks;
    private readonly ModuleList<ConvBlock> blocks;
    private readonly SafeConv2d output;
    private readonly long[] stemShape;

    /// <param name="classes">Number of classes; 0 for an unconditional generator.</param>
    /// <param name="width">Channels of the last stage; earlier stages have 2×, 4×, ... that.</param>
    /// <param name="gridBlocks">Residual blocks on the first (coarsest) grid, before the upsampling stages.</param>
    public ConvGenerator(int noiseDim, int imageSize, int channels, int classes, int width, int gridBlocks = 0, int condDim = 128)
        : base(nameof(ConvGenerator))
    {
        if (noiseDim < 1 || channels < 1 || classes < 0 || width < 1 || condDim < 1 || gridBlocks < 0)
            throw new ArgumentException($"generator sizes must be positive (noise {noiseDim}, channels {channels}, width {width})");
        var stages = imageSize % 8 == 0 && imageSize >= 64 ? 3 : 2;
        if (imageSize % (1 << stages) != 0 || imageSize < 8)
            throw new ArgumentException($"image size {imageSize} is not a multiple of {1 << stages} of at least 8");
        NoiseDim = noiseDim;
        Classes = classes;
        var grid = imageSize >> stages;
        var c0 = width << stages;
        stemShape = [-1, c0, grid, grid];

        label = Embedding(classes + 1, condDim);
        guidance = Linear(1, condDim);
        stem = Linear(noiseDim + condDim, c0 * grid * grid);
        blocks = new ModuleList<ConvBlock>(Enumerable.Range(0, stages)
            .Select(i => new ConvBlock(width << (stages - i), width << (stages - i - 1), condDim, upsample: true)).ToArray());
        output = new SafeConv2d(width, channels);
        // Drawn last, so that a seed gives the other weights as it did before grid blocks existed.
        this.gridBlocks = new ModuleList<ConvBlock>(Enumerable.Range(0, gridBlocks).Select(_ => new ConvBlock(c0, c0, condDim, upsample: false)).ToArray());
        RegisterComponents();
    }

    public int NoiseDim { get; }
    public int Classes { get; }

    /// <summary>Multiplies and adds of a forward pass over <paramref name="images"/> images: 2 per weight of each
    /// linear map and per weight and output pixel of each convolution as computed (<see cref="SafeConv2d.ForwardFlops"/>;
    /// norms, activations and biases, a few operations per value, not counted).</summary>
    public double ForwardFlops(long images)
    {
        static double Linear(Linear l, long n) => 2.0 * n * l.weight!.numel();
        var size = stemShape[2];
        var flops = Linear(guidance, images) + Linear(stem, images);
        foreach (var block in gridBlocks)
            flops += block.ForwardFlops(images, size);
        foreach (var block in blocks)
            flops += block.ForwardFlops(images, size *= 2);
        return flops + output.ForwardFlops(images, size);
    }

    /// <summary>Floats of the largest map one image makes in a forward pass (<see cref="SafeConv2d.LargestMap"/>; the
    /// stem's output is the first block's input): a batch's memory is about this many floats an image.</summary>
    public long LargestMap()
    {
        var (most, size) = (0L, stemShape[2]);
        foreach (var block in gridBlocks)
            most = Math.Max(most, block.LargestMap(size));
        foreach (var block in blocks)
        {
            most = Math.Max(most, block.LargestMap(size));
            size *= 2;
        }
        return Math.Max(most, output.LargestMap(size));
    }

    /// <param name="labels">int64 [B]; <see cref="Classes"/> (or any label of an unconditional generator) means none.</param>
    /// <param name="guidanceScale">float [B], the classifier-free guidance scale α the sample is drawn for (1: none).</param>
    public override Tensor forward(Tensor noise, Tensor labels, Tensor guidanceScale)
    {
        var cond = functional.silu(label.call(labels) + guidance.call((guidanceScale - 1).unsqueeze(1)));
        var h = functional.silu(stem.call(torch.cat([noise, cond], 1))).view(stemShape);
        foreach (var block in gridBlocks)
            h = block.call(h, cond);
        foreach (var block in blocks)
            h = block.call(h, cond);
        return output.call(h);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            label.Dispose();
            guidance.Dispose();
            stem.Dispose();
            gridBlocks.Dispose();
            blocks.Dispose();
            output.Dispose();
        }
        base.Dispose(disposing);
    }

    /// <summary>Nearest ×2 upsampling, conv–norm–(condition)–SiLU, conv–norm–SiLU; without the upsampling, the
    /// same body added to its input (a residual block, channels kept).</summary>
    public sealed class ConvBlock : Module<Tensor, Tensor, Tensor>
    {
        private readonly bool upsample;
        private readonly SafeConv2d conv1;
        private readonly SafeConv2d conv2;
        private readonly GroupNorm norm1;
        private readonly GroupNorm norm2;
        private readonly Linear film;

        public ConvBlock(int inChannels, int outChannels, int condDim, bool upsample) : base(nameof(ConvBlock))
        {
            if (!upsample && inChannels != outChannels) throw new ArgumentException("a residual block keeps its channels");
            this.upsample = upsample;
            conv1 = new SafeConv2d(inChannels, outChannels, upsample: upsample);
            conv2 = new SafeConv2d(outChannels, outChannels);
            norm1 = GroupNorms.Create(Groups(outChannels), outChannels, NormEpsilon);
            norm2 = GroupNorms.Create(Groups(outChannels), outChannels, NormEpsilon);
            film = Linear(condDim, 2 * outChannels);
            RegisterComponents();
        }

        /// <summary>Channel groups of a block's group norm over <paramref name="channels"/> channels.</summary>
        public static int Groups(long channels) => (int)Math.Min(8, channels);

        /// <summary>The group norm's ε, PyTorch's default.</summary>
        public const double NormEpsilon = 1e-5;

        /// <summary>See <see cref="ConvGenerator.ForwardFlops"/>; <paramref name="size"/> is the block's output grid.</summary>
        public double ForwardFlops(long images, long size) =>
            conv1.ForwardFlops(images, upsample ? size / 2 : size) + conv2.ForwardFlops(images, size) + 2.0 * images * film.weight!.numel();

        /// <summary>See <see cref="ConvGenerator.LargestMap"/>; <paramref name="size"/> is the block's input grid.</summary>
        public long LargestMap(long size) => Math.Max(conv1.LargestMap(size), conv2.LargestMap(upsample ? 2 * size : size));

        public override Tensor forward(Tensor x, Tensor cond)
        {
            var h = conv1.call(x);
            var scaleShift = film.call(cond).unsqueeze(-1).unsqueeze(-1).chunk(2, 1);
            h = functional.silu(norm1.call(h) * (scaleShift[0] + 1) + scaleShift[1]);
            h = functional.silu(norm2.call(conv2.call(h)));
            return upsample ? h : x + h;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                conv1.Dispose();
                conv2.Dispose();
                norm1.Dispose();
                norm2.Dispose();
                film.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
