using Drift.Models;
using Drift.Train;
using Drift.Train.Training.Images;
using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Tests;

/// <summary>Networks run over many images a batch at a time (<see cref="HeapBatch"/>): the batches sized from each
/// network's largest map; the images and features the same as one pass over all, and a training step's gradients those
/// of one pass in float64.</summary>
[Trait("Category", "Numerics")]
public sealed class HeapBatchTests
{
    /// <summary>A network's <c>LargestMap</c> against the maps its convolutions actually take and make: every
    /// <see cref="SafeConv2d"/> hooked, one image passed through, each input and output counted with its channels
    /// rounded up to whole blocks of 16, the largest kept.</summary>
    [Fact]
    public void TheLargestMapIsTheWidestConvolutionMapOfAPass()
    {
        var seed = Tensors.Seed();
        var random = new Random(seed);
        for (var trial = 0; trial < 6; trial++)
        {
            var (size, channels, classes) = (new[] { 8, 16, 28, 64 }[random.Next(4)], random.Next(2) == 0 ? 1 : 3, random.Next(2) * 10);
            // Group norms of 8 groups: widths of whole groups, or one below 8.
            var (width, gridBlocks) = (new[] { 4, 8, 16, 24, 32, 40 }[random.Next(6)], random.Next(3));
            using var generator = new ConvGenerator(16, size, channels, classes, width, gridBlocks);
            var seen = Seen(generator, () =>
            {
                using var noGrad = torch.no_grad();
                generator.forward(torch.randn(1, 16), torch.tensor(new[] { (long)classes }), torch.ones(1)).Dispose();
            });
            Assert.True(seen == generator.LargestMap(), $"seed {seed}: generator {size} px, {channels} channels, width {width}, {gridBlocks} grid blocks: {generator.LargestMap()} floats, passes show {seen}");

            var architecture = random.Next(2) == 0 ? ClassifierArchitecture.Conv : ClassifierArchitecture.Pooled;
            using var classifier = new Classifier(channels, new[] { 8, 28, 32 }[random.Next(3)], 10, architecture);
            seen = Seen(classifier, () =>
            {
                using var noGrad = torch.no_grad();
                classifier.Features(torch.randn(1, channels, classifier.ImageSize, classifier.ImageSize)).Dispose();
            });
            Assert.True(seen == classifier.LargestMap(), $"seed {seed}: {architecture} classifier {classifier.ImageSize} px, {channels} channels: {classifier.LargestMap()} floats, passes show {seen}");
        }
    }

    /// <summary>More images than a batch holds come out as the generator's one pass over all of them, in order, with
    /// the labels mapped as the generator reads them (−1: its "no class" label).</summary>
    [Fact]
    public void ImagesDrawnInBatchesAreOnePassOfTheGenerator()
    {
        var (rng, seed) = Tensors.Fresh();
        using (rng)
        {
            var random = new Random(seed);
            // 64 px at width 16: 256 KB an image, so batches of 64.
            using var model = new ConvGenerator(16, 64, 1, 10, 16);
            model.eval();
            var n = random.Next(130, 200);
            Assert.True(HeapBatch.Images(model.LargestMap(), CPU) < n / 2, $"seed {seed}: {n} images fit one batch");
            var labels = Enumerable.Range(0, n).Select(_ => (long)random.Next(-1, 10)).ToArray();
            using var noise = torch.randn([n, 16], generator: rng);
            using var drawn = ImageSampling.Draw(model, labels, 1, CPU, ImageSampling.Rows(noise));

            using var noGrad = torch.no_grad();
            using var expected = model.forward(noise, torch.tensor(labels.Select(l => l < 0 ? 10L : l).ToArray()), torch.ones(n));
            var worst = (drawn - expected).abs().max().item<float>();
            Assert.True(worst <= 1e-5, $"seed {seed}: {n} images {worst:g3} from one pass");
        }
    }

    /// <summary>A training step's generator in chunks: its images and every parameter's gradient (of a random weighting
    /// of the pixels) those of one pass over all the images by the same network in float64, to float32 rounding.</summary>
    [Fact]
    public void AChunkedPassHasTheGradientsOfOnePassInFloat64()
    {
        var (rng, seed) = Tensors.Fresh();
        using (rng)
        {
            var random = new Random(seed);
            // 64 px: at width 4 (padded to 16 channels) 256 KB an image, so chunks of 64.
            using var model = new ConvGenerator(16, 64, 1, 10, 4);
            using var reference = new ConvGenerator(16, 64, 1, 10, 4);
            reference.load_state_dict(model.state_dict());
            reference.to(float64);
            var n = random.Next(130, 200);
            Assert.True(n * 4L * model.LargestMap() > NativeHeap.LargestHeapBlock && HeapBatch.Images(model.LargestMap(), CPU, n) < n / 2,
                $"seed {seed}: {n} images fit one chunk");
            using var noise = torch.randn([n, 16], generator: rng);
            using var labels = torch.randint(0, 11, [n], generator: rng);
            using var guidance = 1 + torch.rand([n], generator: rng);
            using var weights = torch.randn([n, 1, 64, 64], generator: rng);

            using var x = HeapBatch.Pass(n, model.LargestMap(), CPU,
                (start, count) => model.forward(noise.narrow(0, start, count), labels.narrow(0, start, count), guidance.narrow(0, start, count)));
            (x * weights).sum().backward();
            using var expected = reference.forward(noise.to(float64), labels, guidance.to(float64));
            (expected * weights.to(float64)).sum().backward();

            var worst = (x.detach().to(float64) - expected.detach()).abs().max().item<double>();
            Assert.True(worst <= 1e-4, $"seed {seed}: {n} images {worst:g3} from one float64 pass");
            // A bias just before a group norm of one channel a group has no gradient but rounding: measured against a
            // hundredth of the largest gradient there.
            var largest = reference.parameters().Max(q => q.grad!.norm().item<double>());
            foreach (var ((name, p), (_, q)) in model.named_parameters().Zip(reference.named_parameters()))
            {
                var error = (p.grad!.to(float64) - q.grad!).norm().item<double>() / Math.Max(q.grad!.norm().item<double>(), 0.01 * largest);
                Assert.True(error <= 1e-4, $"seed {seed}: {name}'s gradient {error:g3} of its norm from one float64 pass");
            }
        }
    }

    /// <summary>A step's generated images through the encoder spaces (<see cref="ImageComponents.FeatureSpaces"/>): where
    /// their maps overfill a heap block the encoder runs in chunks (its first convolution sees batches below half of
    /// them), every space's features those of one float64 pass. Their gradient is checked in float64 below: through
    /// ReLUs and max-pools it jumps where float32 rounding moves a value across a kink or a near tie (measured 3e-7 to
    /// 2e-3 of its norm from float64 over 12 seeds, one pass or chunks alike).</summary>
    [Fact]
    public void EncoderSpacesOfManyImagesAreOnePassInFloat64()
    {
        var (rng, seed) = Tensors.Fresh();
        using (rng)
        {
            // 64 px: 512 KB an image at the first convolution, so chunks of 32.
            using var encoder = new Classifier(1, 64, 10);
            foreach (var p in encoder.parameters()) p.requires_grad_(false);
            using var reference = new Classifier(1, 64, 10);
            reference.load_state_dict(encoder.state_dict());
            reference.to(float64);
            var n = new Random(seed).Next(70, 130);
            Assert.True(n * 4L * encoder.LargestMap() > NativeHeap.LargestHeapBlock, $"seed {seed}: {n} images fit a block");
            string[] names = ["encoder", "encoder-map1", "encoder-map2-mean2"];
            var config = new ImageConfig { ImageSize = 64, Features = names, Encoder = "unused: the encoder is given" };
            using var train = torch.randint(0, 256, [5, 1, 64, 64], dtype: uint8, generator: rng);
            var spaces = ImageComponents.FeatureSpaces(config, encoder, train, Drift.Loss.WholeBatch.Instance);
            try
            {
                using var images = torch.rand([n, 1, 64, 64], generator: rng) * 2 - 1;
                var batches = new List<long>();
                var hook = encoder.modules().OfType<SafeConv2d>().First().register_forward_hook((_, input, output) =>
                {
                    batches.Add(input.shape[0]);
                    return output;
                });
                var features = Drift.Loss.FeatureSpace.MapAll(spaces, images);
                hook.remove();
                Assert.True(batches.Count > 1 && batches.Max() < n / 2 && batches.Sum() == n, $"seed {seed}: {n} images in batches {string.Join(",", batches)}");
                using var noGrad = torch.no_grad();
                var outputs = reference.MapsAndFeatures(images.to(float64));
                for (var i = 0; i < names.Length; i++)
                {
                    var expected = ImageComponents.Readout(reference, names[i])(outputs);
                    var error = (features[i].to(float64) - expected).norm().item<double>() / expected.norm().item<double>();
                    Assert.True(error <= 1e-5, $"seed {seed}: {names[i]} of {n} images {error:g3} of its norm from one float64 pass");
                }
            }
            finally
            {
                foreach (var space in spaces) space.Dispose();
            }
        }
    }

    /// <summary>A pass with several outputs in chunks (<see cref="HeapBatch.Pass(long, long, Device, Func{long, long, Tensor[]})"/>,
    /// an encoder's maps and features) in float64, where rounding crosses no kink: every output, and the gradient of a
    /// random weighting of all of them in the images, those of one pass.</summary>
    [Fact]
    public void ChunksOfAPassWithSeveralOutputsJoinAsOnePass()
    {
        var (rng, seed) = Tensors.Fresh();
        using (rng)
        {
            using var encoder = new Classifier(1, 64, 10);
            encoder.to(float64);
            var n = new Random(seed).Next(70, 130);
            Assert.True(n * 4L * encoder.LargestMap() > NativeHeap.LargestHeapBlock, $"seed {seed}: {n} images fit a block");
            using var images = (torch.rand([n, 1, 64, 64], generator: rng, dtype: float64) * 2 - 1).requires_grad_();
            using var again = images.detach().clone().requires_grad_();
            var chunked = HeapBatch.Pass(n, encoder.LargestMap(), CPU, (start, count) => encoder.MapsAndFeatures(images.narrow(0, start, count)));
            var whole = encoder.MapsAndFeatures(again);
            Assert.Equal(whole.Select(t => t.shape), chunked.Select(t => t.shape));
            var weights = whole.Select(t => torch.randn(t.shape, generator: rng, dtype: float64)).ToArray();
            torch.stack(chunked.Zip(weights, (t, w) => (t * w).sum()).ToList()).sum().backward();
            torch.stack(whole.Zip(weights, (t, w) => (t * w).sum()).ToList()).sum().backward();
            for (var i = 0; i < whole.Length; i++)
            {
                var error = (chunked[i] - whole[i]).abs().max().item<double>();
                Assert.True(error <= 1e-12 * Math.Max(1, whole[i].abs().max().item<double>()), $"seed {seed}: output {i} of {n} images {error:g3} from one pass");
            }
            var gradError = (images.grad! - again.grad!).norm().item<double>() / again.grad!.norm().item<double>();
            Assert.True(gradError <= 1e-12, $"seed {seed}: the images' gradient {gradError:g3} of its norm from one pass");
        }
    }

    /// <summary>A batch whose largest map a heap block holds, and any batch on a GPU, is one pass, as before chunks:
    /// its results stay exactly as they were.</summary>
    [Fact]
    public void ABatchTheHeapServesIsOnePass()
    {
        var random = new Random(Tensors.Seed());
        foreach (var map in Enumerable.Range(0, 20).Select(_ => (long)random.Next(1, 1 << 20)))
        {
            var whole = NativeHeap.LargestHeapBlock / (4 * map);
            var calls = new List<(long, long)>();
            Tensor Count(long start, long count) { calls.Add((start, count)); return torch.zeros(count); }
            using (HeapBatch.Pass(whole, map, CPU, Count)) Assert.Equal([(0L, whole)], calls);
            calls.Clear();
            using (HeapBatch.Pass(whole + 1, map, new Device(DeviceType.CUDA, 0), Count)) Assert.Equal([(0L, whole + 1)], calls);
            calls.Clear();
            using (var joined = HeapBatch.Pass(whole + 1, map, CPU, Count)) Assert.Equal(whole + 1, joined.shape[0]);
            Assert.True(calls.Count >= 2 && calls.Sum(c => c.Item2) == whole + 1, $"{whole + 1} images of {map} floats: {calls.Count} chunk(s)");
        }
    }

    /// <summary>The same for a classifier's features, and each predicted class the one with the largest logit of the
    /// one pass (up to rounding between near-equal logits).</summary>
    [Fact]
    public void FeaturesEmbeddedInBatchesAreOnePassOfTheClassifier()
    {
        var (rng, seed) = Tensors.Fresh();
        using (rng)
        {
            // 64 px: 512 KB an image at the first convolution, so batches of 32.
            using var model = new Classifier(1, 64, 10);
            var n = new Random(seed).Next(70, 130);
            Assert.True(HeapBatch.Images(model.LargestMap(), CPU) < n / 2, $"seed {seed}: {n} images fit one batch");
            using var images = torch.rand([n, 1, 64, 64], generator: rng) * 2 - 1;
            var (features, predicted) = ClassifierTrainer.Embed(model, images, CPU);
            using (features)
            {
                using var noGrad = torch.no_grad();
                using var expected = model.Features(images);
                using var logits = model.Classify(expected);
                var worst = (features - expected).abs().max().item<float>();
                Assert.True(worst <= 1e-5, $"seed {seed}: {n} images' features {worst:g3} from one pass");
                var best = logits.max(1).values.data<float>().ToArray();
                var chosen = logits.gather(1, torch.tensor(predicted).unsqueeze(1)).squeeze(1).data<float>().ToArray();
                Assert.All(Enumerable.Range(0, n), i => Assert.True(best[i] - chosen[i] <= 1e-5, $"seed {seed}: image {i} called {predicted[i]}, {best[i] - chosen[i]:g3} below the best logit"));
            }
        }
    }

    /// <summary>On the CPU a batch's largest map fills at most half a heap block and one image more would overfill it;
    /// one image at least, however large, and at most the cap; a GPU takes the cap.</summary>
    [Fact]
    public void ABatchFillsHalfAHeapBlock()
    {
        var random = new Random(Tensors.Seed());
        const long half = NativeHeap.LargestHeapBlock / 2;
        foreach (var map in Enumerable.Range(0, 20).Select(_ => (long)Math.Exp(random.NextDouble() * Math.Log(1L << 24))).Append(1L << 30))
        {
            var most = random.Next(1, 2000);
            var batch = HeapBatch.Images(map, CPU, most);
            Assert.InRange(batch, 1, most);
            Assert.True(batch == 1 || batch * 4 * map <= half, $"{batch} images of {map} floats overfill half a block");
            Assert.True(batch == most || (batch + 1) * 4 * map > half, $"{batch} images of {map} floats: one more would fit");
            Assert.Equal(most, HeapBatch.Images(map, new Device(DeviceType.CUDA, 0), most));
        }
    }

    /// <summary>The largest map any of <paramref name="network"/>'s convolutions take or make while <paramref name="pass"/> runs.</summary>
    private static long Seen(nn.Module network, Action pass)
    {
        static long Padded(Tensor map) => (map.shape[1] + 15) / 16 * 16 * map.shape[2] * map.shape[3];
        var largest = 0L;
        var hooks = network.modules().OfType<SafeConv2d>().Select(conv => conv.register_forward_hook((_, input, output) =>
        {
            largest = Math.Max(largest, Math.Max(Padded(input), Padded(output)));
            return output;
        })).ToList();
        pass();
        foreach (var hook in hooks) hook.remove();
        return largest;
    }
}
