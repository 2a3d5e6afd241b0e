using System.CommandLine;
using Drift.Data;
using Drift.Loss;
using Drift.Train.Training.Images;
using Drift.Train.Training.Points;

namespace Drift.Train.Cli;

/// <summary>The options that map one-to-one onto a run config; those given on the command line override a
/// --config file, which overrides the defaults.</summary>
public static class ConfigOptions
{
    /// <summary>The options of <c>drift train</c> and <c>drift compare</c>, each onto a <see cref="TrainConfig"/> field.</summary>
    /// <param name="oneField">--field, which a comparison (--fields) does not take.</param>
    public static ConfigBinder<TrainConfig> Points(Command command, bool oneField = true)
    {
        var binder = new ConfigBinder<TrainConfig>(command);
        binder.Bind(new Option<string>("--data") { Description = $"Toy set ({string.Join(", ", ToyDatasets.Names)}) or a file of points: .npy (N×d) or CSV. Default checkerboard." },
            (c, v) => c with { Data = v });
        FieldOptions.Bind(binder, "at the start of the run, in standardised data units", oneField);
        binder.Bind(new Option<bool>("--standardize") { Description = "Train in per-dimension standardised coordinates (default true); samples are always in data units." },
            (c, v) => c with { Standardize = v });
        binder.Bind(new Option<double>("--anneal") { Description = "Bandwidths/temperatures shrink as exp(-r*step/steps) over the run. Default: "
            + FieldKind.DefaultsByField(f => f.DefaultAnneal, "0.###") + "." },
            (c, v) => c with { Anneal = v });
        binder.Bind(new Option<double>("--eta") { Description = "Drift size: the loss regresses x onto x + eta*V, so it scales as eta^2; Adam's steps hardly depend on it (README, Training). Default 1." }, (c, v) => c with { Eta = v });
        binder.Bind(new Option<bool>("--through-field") { Description = $"Ablation: no stop-gradient, backpropagate through the field (loss eta^2*|V(x)|^2); the {FieldKind.Names(f => f.ThroughFieldLoss is not null)} field. Default false." },
            (c, v) => c with { ThroughField = v });
        binder.Bind(new Option<int>("--steps") { Description = "Training steps. Default 2000." }, (c, v) => c with { Steps = v });
        binder.Bind(new Option<int>("--batch") { Description = "Generated samples per step. Default 1024." }, (c, v) => c with { Batch = v });
        binder.Bind(new Option<int>("--positives") { Description = "Data samples per step. Default: as many as --batch." }, (c, v) => c with { Positives = v });
        binder.Bind(new Option<double>("--lr") { Description = "Adam learning rate (peak). Default 2e-3." }, (c, v) => c with { Lr = v });
        binder.Bind(new Option<string>("--lr-schedule") { Description = "cosine (default: decays to zero at the last step) or constant." },
            (c, v) => c with { LrSchedule = v });
        binder.Bind(new Option<long>("--seed") { Description = "Seed of the weights, noise and data draws. Default 0." }, (c, v) => c with { Seed = v });
        binder.Bind(new Option<string>("--device") { Description = DeviceOption.ForRuns }, (c, v) => c with { Device = v });
        binder.Bind(new Option<int>("--noise-dim") { Description = "Noise dimension. Default 8." }, (c, v) => c with { NoiseDim = v });
        binder.Bind(new Option<int>("--width") { Description = "Generator MLP width. Default 256." }, (c, v) => c with { Width = v });
        binder.Bind(new Option<int>("--depth") { Description = "Generator MLP hidden layers. Default 3." }, (c, v) => c with { Depth = v });
        binder.Bind(new Option<int>("--log-every") { Description = "Steps between metric rows. Default 10." }, (c, v) => c with { LogEvery = v });
        binder.Bind(new Option<int>("--eval-every") { Description = "Steps between energy-distance evaluations. Default 200." }, (c, v) => c with { EvalEvery = v });
        binder.Bind(new Option<int>("--eval-samples") { Description = "Generated and held-out points per evaluation. Default 2000." }, (c, v) => c with { EvalSamples = v });
        binder.Bind(new Option<int>("--checkpoint-every") { Description = "Steps between checkpoints (one is always written at the end). Default 500." }, (c, v) => c with { CheckpointEvery = v });
        binder.Bind(new Option<int>("--snapshot-every") { Description = "Steps between snapshots: copies of the checkpoint kept in snapshots/step-N.bin, which sample, eval and export read with --step N. Default 0 (none); a resumed run may change it." }, (c, v) => c with { SnapshotEvery = v });
        return binder;
    }

    /// <summary>The options of <c>drift train-images</c> and <c>drift compare-images</c>, each onto an <see cref="ImageConfig"/> field.</summary>
    /// <param name="oneField">--field, which a comparison (--fields) does not take.</param>
    public static ConfigBinder<ImageConfig> Images(Command command, bool oneField = true)
    {
        var b = new ConfigBinder<ImageConfig>(command);
        b.Bind(new Option<string>("--data") { Description = "fashion-mnist (default; Debian's dataset-fashion-mnist), a folder of MNIST-format IDX files, of CIFAR-10 binary batches, or of PNG/JPEG/BMP/GIF/TGA images (one subfolder per class, or flat), or a .npy of uint8 images (labels in NAME.labels.npy)." },
            (c, v) => c with { Data = v });
        b.Bind(new Option<int>("--image-size") { Description = "Bring images to this side in pixels. Default: the dataset's own (32 for an image folder)." }, (c, v) => v is >= 8 and <= 512 ? c with { ImageSize = v } : throw new UserError($"--image-size must be between 8 and 512, got {v}"));
        FieldOptions.Bind(b, "relative to each feature space's mean distance √D", oneField);
        b.Bind(new Option<string[]>("--features") { Description = "Feature spaces of the field: pixels, meanK (K×K patch means), stdK (patch stds), encoder (the encoder's 128-d features, with --encoder), encoder-mapK (its map after the K-th max-pool: 32×14×14 and 64×7×7 at 28 px), encoder-mapK-meanJ / -stdJ (that map's J×J patch means or stds, per channel). Default pixels mean2 mean4 std4.", AllowMultipleArgumentsPerToken = true },
            (c, v) => c with { Features = v });
        b.Bind(new Option<string>("--encoder") { Description = "Folder of a frozen feature encoder (drift encoder) for the 'encoder' and 'encoder-mapK' feature spaces." }, (c, v) => c with { Encoder = v },
            c => c.Features.Any(ImageConfig.IsEncoderSpace), "by the encoder's feature spaces (--features encoder, encoder-mapK, …)");
        b.Bind(new Option<bool>("--conditional") { Description = "Class-conditional generator with per-class positives and negatives. Default true." }, (c, v) => c with { Conditional = v });
        b.Bind(new Option<double>("--guidance-max") { Description = "Classifier-free guidance: train at scales α drawn from [1, this], unconditional data mixed into the negatives at 1 − 1/α. Default 1 (off)." },
            (c, v) => c with { GuidanceMax = v });
        b.Bind(new Option<int>("--unconditional-negatives") { Description = "Unconditional data images per class per step when guidance is on. Default 32." },
            (c, v) => c with { UnconditionalNegatives = v }, c => c.GuidanceMax > 1, "with guidance (--guidance-max above 1)");
        b.Bind(new Option<double>("--eta") { Description = "Drift size: the loss regresses x onto x + eta*V, so it scales as eta^2; AdamW's steps hardly depend on it (README, Training). Default 1." }, (c, v) => c with { Eta = v });
        b.Bind(new Option<int>("--steps") { Description = "Training steps. Default 2000." }, (c, v) => c with { Steps = v });
        b.Bind(new Option<int>("--class-batch") { Description = "Generated images per class per step. Default 64." }, (c, v) => c with { ClassBatch = v });
        b.Bind(new Option<int>("--class-positives") { Description = "Data images per class per step. Default 256; 0: as many as --class-batch." }, (c, v) => c with { ClassPositives = v });
        b.Bind(new Option<int>("--classes-per-step") { Description = "Classes drawn each step. Default: all." }, (c, v) => c with { ClassesPerStep = v }, c => c.Conditional, "by a conditional generator (--conditional true)");
        b.Bind(new Option<double>("--lr") { Description = "AdamW peak learning rate. Default: " + FieldKind.DefaultsByField(f => f.ImageLr, "0e0") + "." }, (c, v) => c with { Lr = v });
        b.Bind(new Option<string>("--lr-schedule") { Description = "cosine (default) or constant, after the warm-up." }, (c, v) => c with { LrSchedule = v });
        b.Bind(new Option<int>("--warmup") { Description = "Linear learning-rate warm-up steps. Default 100." }, (c, v) => c with { Warmup = v });
        b.Bind(new Option<double>("--weight-decay") { Description = "AdamW weight decay. Default 0.01." }, (c, v) => c with { WeightDecay = v });
        b.Bind(new Option<double>("--clip-grad") { Description = "Clip the gradient norm to this; 0 turns it off. Default 1." }, (c, v) => c with { ClipGrad = v });
        b.Bind(new Option<double>("--ema") { Description = "Decay of the EMA weights used for sampling; 0 samples the trained weights. Default 0.999." }, (c, v) => c with { Ema = v });
        b.Bind(new Option<int>("--noise-dim") { Description = "Noise dimension. Default 64." }, (c, v) => c with { NoiseDim = v });
        b.Bind(new Option<int>("--width") { Description = "Generator channels at full resolution (2× and 4× at the coarser stages). Default 64 (3.0M parameters at 28 px; 1.4M at --width 32)." }, (c, v) => c with { Width = v });
        b.Bind(new Option<int>("--grid-blocks") { Description = "Residual blocks on the generator's coarsest grid (7×7 at 28 px), at 4× --width channels. Default 0." },
            (c, v) => c with { GridBlocks = v });
        b.Bind(new Option<long>("--seed") { Description = "Seed of the weights, noise and data draws. Default 0." }, (c, v) => c with { Seed = v });
        b.Bind(new Option<string>("--device") { Description = DeviceOption.ForRuns }, (c, v) => c with { Device = v });
        b.Bind(new Option<bool>("--tf32") { Description = "TF32 matmuls and convolutions on CUDA. Default true." }, (c, v) => c with { Tf32 = v });
        b.Bind(new Option<string>("--classifier") { Description = "Folder of a metric classifier (drift classifier): log FD-<dataset> of the EMA generator every --eval-every steps. Default: none." },
            (c, v) => c with { Classifier = v });
        b.Bind(new Option<int>("--eval-every") { Description = "Steps between FD evaluations (with --classifier). Default 250." }, (c, v) => c with { EvalEvery = v });
        b.Bind(new Option<int>("--eval-samples") { Description = "Generated and test images per FD evaluation. Default 1000." }, (c, v) => c with { EvalSamples = v });
        b.Bind(new Option<int>("--log-every") { Description = "Steps between metric rows. Default 10." }, (c, v) => c with { LogEvery = v });
        b.Bind(new Option<int>("--grid-every") { Description = "Steps between sample grids (grid.png and grids/step-N.png, EMA weights). Default 250." }, (c, v) => c with { GridEvery = v });
        b.Bind(new Option<int>("--checkpoint-every") { Description = "Steps between checkpoints (one is always written at the end). Default 500." }, (c, v) => c with { CheckpointEvery = v });
        b.Bind(new Option<int>("--snapshot-every") { Description = "Steps between snapshots: copies of the checkpoint kept in snapshots/step-N.bin, which sample, eval and export read with --step N. Default 0 (none); a resumed run may change it." }, (c, v) => c with { SnapshotEvery = v });
        return b;
    }
}
