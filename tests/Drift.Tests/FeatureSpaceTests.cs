using Drift.Loss;
using Drift.Models;
using Drift.Train;
using Drift.Train.Training.Images;
using TorchSharp;
using static Drift.Tests.Tensors;
using static TorchSharp.torch;

namespace Drift.Tests;

/// <summary>A feature space's table (an encoder's values on the training set, computed once) against the encoder itself,
/// and spaces that share an encoder's convolutions against each computed alone.</summary>
[Trait("Category", "Numerics")]
public class FeatureSpaceTests
{
    [Theory]
    [InlineData(ClassifierArchitecture.Conv, 8, new long[] { 32, 4, 4 }, new long[] { 64, 2, 2 })]
    [InlineData(ClassifierArchitecture.Pooled, 12, new long[] { 48, 6, 6 }, new long[] { 96, 3, 3 })]
    public void OnePassGivesTheMapAfterEachPoolAndTheFeatures(ClassifierArchitecture architecture, int size, long[] map1, long[] map2)
    {
        // The pass against the network's own forward (Sequential's, not this loop) and the maps' shapes against the
        // architecture's, on fresh weights and images in float64.
        var (g, seed) = Fresh();
        torch.manual_seed(seed);
        using var encoder = new Classifier(1, size, 3, architecture);
        encoder.to(float64);
        var images = torch.rand([6, 1, size, size], dtype: float64, generator: g) * 2 - 1;
        var outputs = encoder.MapsAndFeatures(images);
        var whole = encoder.Features(images);
        Assert.Equal(2, encoder.MapCount);
        Assert.Equal(3, outputs.Length);
        Assert.Equal([6, .. map1], outputs[0].shape);
        Assert.Equal([6, .. map2], outputs[1].shape);
        Assert.True(MaxAbs(outputs[2] - whole) < 1e-12 * MaxAbs(whole), $"seed {seed}: the pass's features off by {MaxAbs(outputs[2] - whole)}");
    }

    [Fact]
    public void EncoderFlopsCountEveryConvolutionAndLinearMapOfTheFeatures()
    {
        // Two per multiply-add, the head left out (the feature spaces stop at the features). Conv at 28 px, 3 channels:
        // 3→32 and 32→32 on 28², 32→64 and 64→64 on 14², 64·7²→128. Pooled at 12 px: 5×5 1→48 on 12², 48→96 on 6²,
        // 3×3 96→192 on 3², 192→128.
        const double images = 320;
        using var conv = new Classifier(3, 28, 10, ClassifierArchitecture.Conv);
        var convPerImage = 2.0 * (28 * 28 * 9 * (3 * 32 + 32 * 32) + 14 * 14 * 9 * (32 * 64 + 64 * 64) + 64 * 49 * 128);
        Assert.Equal(images * convPerImage, conv.ForwardFlops((long)images), 6);
        using var pooled = new Classifier(1, 12, 10, ClassifierArchitecture.Pooled);
        var pooledPerImage = 2.0 * (12 * 12 * 25 * 48 + 6 * 6 * 25 * 48 * 96 + 3 * 3 * 9 * 96 * 192 + 192 * 128);
        Assert.Equal(images * pooledPerImage, pooled.ForwardFlops((long)images), 6);
    }

    [Fact]
    public void SpacesThatShareATrunkRunItOnceAndLoseNothing()
    {
        // An encoder's features and its two pooled maps as three spaces of one trunk, beside a cheap space: the trunk
        // runs once a step where each space alone would run the encoder, its tables come from one pass over the set, and
        // the loss and gradient equal those of the spaces mapped alone.
        var (g, seed) = Fresh();
        torch.manual_seed(seed);
        using var encoder = new Classifier(1, 8, 3);
        encoder.to(float64);
        foreach (var p in encoder.parameters()) p.requires_grad_(false);
        const int groups = 2, perGroup = 5, positives = 6;
        var train = torch.rand([30, 1, 8, 8], dtype: float64, generator: g) * 2 - 1;
        var rows = torch.randint(0, train.shape[0], [groups * positives], generator: g);
        var generated = torch.rand([groups * perGroup, 1, 8, 8], dtype: float64, generator: g) * 2 - 1;
        var field = FieldKind.Laplace.Create(new FieldParameters([0.1, 0.4]));

        var passes = 0;
        Func<Tensor, Tensor[]> trunk = images => { passes++; return encoder.MapsAndFeatures(images); };
        var tables = FeatureSpace.Tabulated([o => o[2], o => o[1].flatten(1), o => o[0].flatten(1)], trunk, train.shape[0],
            (start, n) => train.narrow(0, start, n), chunk: 8);
        Assert.Equal(4, passes);   // 30 images, 8 at a time
        FeatureSpace[] shared = [FeatureSpace.Of(ImageFeatures.Map("mean2")), .. tables];
        FeatureSpace[] alone = [FeatureSpace.Of(ImageFeatures.Map("mean2")), FeatureSpace.Of(encoder.Features),
            FeatureSpace.Of(i => Independent(i, 2)), FeatureSpace.Of(i => Independent(i, 1))];

        // A map as the layers alone compute it: convolutions, SiLU and pooling of the Conv architecture, stage by stage.
        Tensor Independent(Tensor images, int stage)
        {
            var x = images;
            var convs = encoder.parameters().Where(p => p.dim() == 4).ToArray();
            var biases = encoder.parameters().Where(p => p.dim() == 1).ToArray();
            for (var s = 0; s < stage; s++)
            {
                for (var c = 2 * s; c < 2 * s + 2; c++) x = nn.functional.silu(nn.functional.conv2d(x, convs[c], biases[c], padding: [1, 1]));
                x = nn.functional.max_pool2d(x, [2, 2]);
            }
            return x.flatten(1);
        }

        (double Loss, Tensor Grad) Step(FeatureSpace[] spaces)
        {
            var x = generated.detach().requires_grad_();
            var loss = FeatureDriftLoss.Compute(field, spaces, groups, x, new DataImages(train.index_select(0, rows), rows), 0.7).Loss;
            loss.backward();
            return (loss.item<double>(), x.grad!);
        }

        passes = 0;
        var (sharedLoss, sharedGrad) = Step(shared);
        Assert.Equal(1, passes);
        var (aloneLoss, aloneGrad) = Step(alone);
        Assert.True(Math.Abs(sharedLoss - aloneLoss) < 1e-12 * Math.Abs(aloneLoss), $"seed {seed}: loss {sharedLoss} against {aloneLoss}");
        Assert.True(MaxAbs(sharedGrad - aloneGrad) < 1e-12 * MaxAbs(aloneGrad), $"seed {seed}: gradient off by {MaxAbs(sharedGrad - aloneGrad)}");
        foreach (var t in tables) t.Dispose();
    }

    [Fact]
    public void TheEncoderTablesSizeIsTheirWidthsTimesTheImages()
    {
        // The memory a run's encoder tables will hold, against the closed form of the conv architecture at 28 px
        // (128 features, 32×14×14 and 64×7×7 maps) and against the tables themselves, float32.
        torch.manual_seed(Fresh().Seed);
        using var encoder = new Classifier(1, 28, 10);
        foreach (var p in encoder.parameters()) p.requires_grad_(false);
        var train = torch.randint(0, 256, [37, 1, 28, 28], dtype: ScalarType.Byte);
        var reads = new[] { "encoder", "encoder-map1", "encoder-map2" }.Select(f => ImageComponents.Readout(encoder, f)).ToArray();
        var bytes = ImageComponents.TableBytes(encoder, reads, train);
        Assert.Equal(4.0 * 37 * (128 + 32 * 14 * 14 + 64 * 7 * 7), bytes);
        var tables = FeatureSpace.Tabulated(reads, encoder.MapsAndFeatures, 37, (start, n) => Drift.Data.Images.ImageSet.ToUnit(train.narrow(0, start, n)), chunk: 10);
        var all = new DataImages(torch.zeros([37, 1, 28, 28]), torch.arange(37));
        Assert.Equal(bytes, tables.Sum(t => (double)t.OfData(all).numel() * t.OfData(all).element_size()));
        foreach (var t in tables) t.Dispose();
    }

    [Theory]
    [InlineData("encoder-map1-std2", 1, 2, true)]
    [InlineData("encoder-map2-mean3", 2, 3, false)]
    [InlineData("encoder-map1-mean6", 1, 6, false)]
    public void AMapsPatchStatisticIsThatStatisticOfEachChannelsPatches(string space, int map, int k, bool std)
    {
        // Against explicit loops over channels and k×k patches of the map the network's own pass returns, in float64,
        // fresh weights and images; 24 px conv encoder: map 1 is 32×12×12, map 2 64×6×6.
        var (g, seed) = Fresh();
        torch.manual_seed(seed);
        using var encoder = new Classifier(1, 24, 3);
        encoder.to(float64);
        var images = torch.rand([3, 1, 24, 24], dtype: float64, generator: g) * 2 - 1;
        using var noGrad = torch.no_grad();
        var outputs = encoder.MapsAndFeatures(images);
        var read = ImageComponents.Readout(encoder, space)(outputs);
        var maps = outputs[map - 1].data<double>().ToArray();
        var (channels, side) = ((int)outputs[map - 1].shape[1], (int)outputs[map - 1].shape[2]);
        var cells = side / k;
        Assert.Equal(new long[] { 3, channels * cells * cells }, read.shape);
        var got = read.data<double>().ToArray();
        var worst = 0.0;
        for (var n = 0; n < 3; n++)
        for (var c = 0; c < channels; c++)
        for (var i = 0; i < cells; i++)
        for (var j = 0; j < cells; j++)
        {
            double sum = 0, squares = 0;
            for (var a = 0; a < k; a++)
            for (var b = 0; b < k; b++)
            {
                var v = maps[((n * channels + c) * side + i * k + a) * side + j * k + b];
                sum += v;
                squares += v * v;
            }
            var mean = sum / (k * k);
            // The statistic's floor (1e-4 under the root) keeps its gradient finite on flat patches.
            var expected = std ? Math.Sqrt(Math.Max(squares / (k * k) - mean * mean, 0) + 1e-4) : mean;
            worst = Math.Max(worst, Math.Abs(got[n * channels * cells * cells + (c * cells + i) * cells + j] - expected));
        }
        Assert.True(worst < 1e-12, $"seed {seed}: {space} off by {worst}");
        var tooWide = Assert.Throws<UserError>(() => ImageComponents.Readout(encoder, $"encoder-map{map}-mean5"));
        Assert.Contains($"do not tile map {map}, a {side}×{side} grid", tooWide.Message);
    }

    [Fact]
    public void ATablesRowsAreTheEncodersFeaturesOfThoseImages()
    {
        // Fresh encoder weights and images; the table is built in chunks of 7 (the last one short) and read at rows
        // drawn with repeats, as class pools draw them. Float64, so only the indexing can differ.
        var (g, seed) = Fresh();
        torch.manual_seed(seed);
        using var encoder = new Classifier(1, 8, 3);
        encoder.to(float64);
        var images = torch.rand([30, 1, 8, 8], dtype: float64, generator: g) * 2 - 1;
        using var space = FeatureSpace.Tabulated(encoder.Features, images.shape[0], (start, n) => images.narrow(0, start, n), chunk: 7);
        var rows = torch.randint(0, images.shape[0], [45], generator: g);

        // Images that are not those rows' prove the rows are what is read.
        var looked = space.OfData(new DataImages(torch.zeros([rows.shape[0], 1, 8, 8], dtype: float64), rows));
        using var noGrad = torch.no_grad();
        var mapped = encoder.Features(images.index_select(0, rows));
        Assert.True(space.HasTable);
        Assert.Equal(mapped.shape, looked.shape);
        Assert.True(MaxAbs(looked - mapped) < 1e-12 * MaxAbs(mapped), $"seed {seed}: table off by {MaxAbs(looked - mapped)}");
        // Without rows the images are mapped.
        Assert.True(MaxAbs(space.OfData(new DataImages(images.narrow(0, 0, 5))) - encoder.Features(images.narrow(0, 0, 5))) == 0);
    }

    [Theory]
    [InlineData(30, 2)]
    [InlineData(30, 4)]
    [InlineData(5, 4)]
    public void ProcessesEachComputeTheirShareAndAllHoldTheWholeTable(int count, int processes)
    {
        // Threads stand in for processes and meet in the gather. Shares of ceil(count / processes) rows: with 30 images
        // and 4 processes the last one maps 6, with 5 and 4 it maps none and only pads. Every process must end with
        // the one-process table (float64: only the chunks' float sums differ), having mapped only its own rows.
        var (g, seed) = Fresh();
        torch.manual_seed(seed);
        using var encoder = new Classifier(1, 8, 3);
        encoder.to(float64);
        var images = torch.rand([count, 1, 8, 8], dtype: float64, generator: g) * 2 - 1;
        using var alone = FeatureSpace.Tabulated(encoder.Features, count, (start, n) => images.narrow(0, start, n), chunk: 3);
        var all = torch.arange(count);
        using var expected = alone.OfData(new DataImages(images, all));

        var meeting = new Meeting(processes);
        var share = (count + processes - 1) / processes;
        var mapped = new long[processes];
        var tables = new Tensor[processes];
        meeting.Run(rank =>
        {
            Tensor Counted(Tensor x) { mapped[rank] += x.shape[0]; return encoder.Features(x); }
            using var space = FeatureSpace.Tabulated(Counted, count, (start, n) => images.narrow(0, start, n), chunk: 3, shard: new Gathered(rank, meeting));
            tables[rank] = space.OfData(new DataImages(images, all)).DetachFromDisposeScope();
        });
        for (var rank = 0; rank < processes; rank++)
        {
            var mine = Math.Clamp(count - rank * share, 0, share);
            Assert.Equal(mine == 0 ? 1 : mine, mapped[rank]);   // an empty share maps one image, for the features' width
            Assert.True(tables[rank].shape.SequenceEqual(expected.shape) && MaxAbs(tables[rank] - expected) < 1e-12 * MaxAbs(expected),
                $"seed {seed}: process {rank} of {processes} holds another table");
        }
    }

    /// <summary>Process <paramref name="rank"/> of threads that gather through <paramref name="meeting"/>.</summary>
    private sealed class Gathered(int rank, Meeting meeting) : IBatchShard
    {
        public Tensor Gather(Tensor mine) => meeting.Gather(rank, mine);
        public Tensor Mine(Tensor whole) => throw new NotSupportedException();
        public int Count => meeting.Size;
        public long FirstRow(long rows) => rank * rows;
        public Tensor SumOver(Tensor local) => throw new NotSupportedException();
        public Tensor MaxOver(Tensor local) => throw new NotSupportedException();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ALossWithATableIsTheLossWithoutIt(bool guided)
    {
        // The same step with the encoder's features of the positives (and guidance negatives) looked up and mapped:
        // the same loss and the same gradient in the generated images.
        var (g, seed) = Fresh();
        torch.manual_seed(seed);
        using var encoder = new Classifier(1, 8, 3);
        encoder.to(float64);
        foreach (var p in encoder.parameters()) p.requires_grad_(false);
        const int groups = 2, perGroup = 5, positives = 6, negatives = 3;
        var train = torch.rand([40, 1, 8, 8], dtype: float64, generator: g) * 2 - 1;
        var rows = torch.randint(0, train.shape[0], [groups * positives], generator: g);
        var unconditionalRows = torch.randint(0, train.shape[0], [groups * negatives], generator: g);
        var generated = torch.rand([groups * perGroup, 1, 8, 8], dtype: float64, generator: g) * 2 - 1;
        var field = FieldKind.Conservative.Create(new FieldParameters([0.2, 0.5]));
        double[] gammas = [0.3, 0.6];

        (double Loss, Tensor Grad) Step(FeatureSpace encoded, bool withRows)
        {
            DataImages Data(Tensor r) => new(train.index_select(0, r), withRows ? r : null);
            var x = generated.detach().requires_grad_();
            var loss = FeatureDriftLoss.Compute(field, [FeatureSpace.Of(ImageFeatures.Map("mean2")), encoded], groups, x, Data(rows), 0.8,
                guided ? Data(unconditionalRows) : null, guided ? gammas : null).Loss;
            loss.backward();
            return (loss.item<double>(), x.grad!);
        }

        var encoded = 0L;
        Tensor Counted(Tensor images) { encoded += images.shape[0]; return encoder.Features(images); }
        using var table = FeatureSpace.Tabulated(Counted, train.shape[0], (start, n) => train.narrow(0, start, n), chunk: 16);
        encoded = 0;
        var (lookedLoss, lookedGrad) = Step(table, withRows: true);
        Assert.Equal(groups * perGroup, encoded);   // only the generated images went through the encoder
        var (mappedLoss, mappedGrad) = Step(FeatureSpace.Of(encoder.Features), withRows: false);
        Assert.True(Math.Abs(lookedLoss - mappedLoss) < 1e-12 * Math.Abs(mappedLoss), $"seed {seed}: loss {lookedLoss} against {mappedLoss}");
        Assert.True(MaxAbs(lookedGrad - mappedGrad) < 1e-12 * MaxAbs(mappedGrad), $"seed {seed}: gradient off by {MaxAbs(lookedGrad - mappedGrad)}");
    }
}
