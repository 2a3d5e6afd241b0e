using System.Globalization;
using Drift.Data.Images;
using Drift.Loss;
using System.Text.Json.Serialization;
using Drift.Train.RunFolders;
using static Drift.Train.RunFolders.ConfigJson;

namespace Drift.Train.Training.Images;

/// <summary>Everything that defines an image run; written as config.json and inside each checkpoint.</summary>
/// <remarks>The field's scales are relative to each feature space: h acts as h·√D once features are scaled to mean distance √D.</remarks>
public sealed record ImageConfig() : FieldConfig(images: true), IRunConfig
{
    public static string Kind => "images";
    public static string[] FromData => ["imageSize", "channels", "classes", "classNames"];

    [JsonPropertyOrder(-2)] public string Data { get; init; } = ImageData.FashionMnist;
    /// <summary>Side in pixels; 0 keeps the dataset's own (the saved config holds the size used).</summary>
    [JsonPropertyOrder(-2)] public int ImageSize { get; init; }
    /// <summary>Set from the data when a run starts, so a checkpoint can be sampled without its data.</summary>
    [JsonPropertyOrder(-2)] public int Channels { get; init; }
    /// <summary>Set from the data when a run starts, like <see cref="Channels"/>.</summary>
    [JsonPropertyOrder(-2)] public int Classes { get; init; }
    /// <summary>The classes' names, set from the data when a run starts (a folder's subfolders; Fashion-MNIST's and CIFAR-10's
    /// own), so that samples, reports and exports name them without the data; null in runs from before (see
    /// <see cref="NamedClasses"/>).</summary>
    [JsonPropertyOrder(-2), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string[]? ClassNames { get; init; }
    /// <summary>Spaces the field is computed in (see <see cref="ImageFeatures"/>, <c>encoder</c> and <c>encoder-mapK[-statistic]</c>): each adds its own loss.
    /// The 4×4 patch standard deviations joined the default after docs/quality.md: at 300 steps they lowered FD
    /// from 32 to 21 (conservative) and 35 to 25 (laplace) and raised recall and precision with it.</summary>
    public string[] Features { get; init; } = ["pixels", "mean2", "mean4", "std4"];
    /// <summary>Folder of a frozen feature encoder (drift encoder), for the <c>encoder</c> and <c>encoder-mapK</c> feature spaces.</summary>
    public string? Encoder { get; init; }
    /// <summary>One generator per class label with per-class positives and negatives; false: one pool.</summary>
    public bool Conditional { get; init; } = true;
    /// <summary>Classifier-free guidance: each class group trains at a scale α drawn uniformly from [1, this],
    /// the generator conditioned on α, with unconditional data mixed into its negatives at γ = 1 − 1/α. 1: off.</summary>
    public double GuidanceMax { get; init; } = 1.0;
    /// <summary>Unconditional data images per class group when guidance is on.</summary>
    public int UnconditionalNegatives { get; init; } = 32;
    public double Eta { get; init; } = 1.0;
    public int Steps { get; init; } = 2000;
    /// <summary>Generated images per class per step (negatives); unconditional: per step, times the class count.</summary>
    public int ClassBatch { get; init; } = 64;
    /// <summary>Data images per class per step; 0: as many as <see cref="ClassBatch"/>. Positives are cheap (no
    /// generator pass, no gradient) and their number sets how much of each class one step's field sees: 256
    /// instead of 32 doubled recall at 300 steps in docs/quality.md.</summary>
    public int ClassPositives { get; init; } = 256;
    /// <summary>Classes drawn per step; 0: all of them.</summary>
    public int ClassesPerStep { get; init; }
    /// <summary>Peak learning rate; null: the field's <see cref="FieldKind.ImageLr"/>.</summary>
    public double? Lr { get; init; }
    public string LrSchedule { get; init; } = "cosine";
    public int Warmup { get; init; } = 100;
    public double WeightDecay { get; init; } = 0.01;
    /// <summary>Gradient norm clip; 0: none.</summary>
    public double ClipGrad { get; init; } = 1.0;
    /// <summary>Decay of the EMA weights sampling uses; 0: no EMA (sample the trained weights).</summary>
    public double Ema { get; init; } = 0.999;
    public int NoiseDim { get; init; } = 64;
    /// <summary>Channels of the generator's last stage (earlier stages 2×, 4×).</summary>
    public int Width { get; init; } = 64;
    /// <summary>Residual blocks on the generator's coarsest grid (7×7 at 28 px), at 4× <see cref="Width"/> channels.
    /// Left out of config.json at 0, so that configs from before it existed read and write back unchanged.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int GridBlocks { get; init; }
    public long Seed { get; init; }
    public string Device { get; init; } = "cpu";
    /// <summary>TF32 matmuls and convolutions on CUDA (about 1e-3 relative precision, several times faster).</summary>
    public bool Tf32 { get; init; } = true;
    /// <summary>Folder of a metric classifier (drift classifier): FD-&lt;dataset&gt; is then logged every
    /// <see cref="EvalEvery"/> steps. Null: no evaluation during training.</summary>
    public string? Classifier { get; init; }
    public int EvalEvery { get; init; } = 250;
    public int EvalSamples { get; init; } = 1000;
    public int LogEvery { get; init; } = 10;
    public int GridEvery { get; init; } = 250;
    public int CheckpointEvery { get; init; } = 500;
    /// <summary>Steps between snapshots, copies of the checkpoint kept in snapshots/ (0: none). Left out of config.json at
    /// 0, so that configs from before it existed read and write back unchanged; a resumed run may change it.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int SnapshotEvery { get; init; }

    /// <summary>The feature space of the frozen encoder's 128-d features.</summary>
    public const string EncoderSpace = "encoder";

    /// <summary>The feature spaces of the frozen encoder's maps after its first, second, … max-pool are this and the
    /// map's number (<see cref="Classifier.MapsAndFeatures"/>): encoder-map1, encoder-map2; with a patch statistic
    /// after a dash (<see cref="ImageFeatures"/>), that statistic of the map, channel by channel: encoder-map1-std2.</summary>
    public const string EncoderMapSpace = "encoder-map";

    /// <summary>Whether a feature space is read from the encoder.</summary>
    public static bool IsEncoderSpace(string f) => f == EncoderSpace || EncoderMap(f).Map > 0;

    /// <summary>The number k of an encoder-mapk[-statistic] space and its statistic (null: the map itself); k = 0: not one.</summary>
    public static (int Map, string? Statistic) EncoderMap(string f)
    {
        if (!f.StartsWith(EncoderMapSpace, StringComparison.Ordinal)) return (0, null);
        var rest = f[EncoderMapSpace.Length..];
        var (number, statistic) = rest.IndexOf('-') is var dash and >= 0 ? (rest[..dash], rest[(dash + 1)..]) : (rest, null);
        return int.TryParse(number, out var k) && k is >= 1 and <= 9 && (statistic is null || ImageFeatures.IsPatchStatistic(statistic))
            ? (k, statistic) : (0, null);
    }

    public int PositiveCount => ClassPositives > 0 ? ClassPositives : ClassBatch;

    /// <summary>The chosen field's scales. Written into config.json since the first image runs, so kept: their
    /// configs and checkpoints must still load under the strict reader.</summary>
    public IReadOnlyList<double> Scales => FieldScales;

    public string ToJson() => ConfigJson.Write(this);

    /// <summary>This config with the field-dependent defaults written out, as it is saved.</summary>
    public ImageConfig Resolved() => this with { Lr = PeakLr, RowsOnly = RowsOnlyInForce };

    protected override bool DefaultRowsOnly => Field.ImageRowsOnly;

    /// <summary>The generator's class count (<see cref="Drift.Models.ConvGenerator.Classes"/>; 0: unconditional), which is also its label
    /// for "no class", the last row of its label embedding: an unconditional generator has that row alone.</summary>
    [JsonIgnore] public int GeneratorClasses => Conditional ? Classes : 0;

    /// <summary>The names of the classes: <see cref="ClassNames"/>, or in a run from before a run recorded them, the names its
    /// data goes by without loading it (Fashion-MNIST's); null: the classes go by number.</summary>
    [JsonIgnore] public string[]? NamedClasses => ClassNames ?? ImageData.KnownClassNames(Data);

    /// <summary>Class <paramref name="c"/> as a reader knows it (<see cref="ImageData.NameOf"/>).</summary>
    public string ClassName(int c) => ImageData.NameOf(NamedClasses, c);

    /// <summary>The first classes, named (<see cref="ClassName"/>), for messages: "0 (cat), 1 (dog)".</summary>
    public string ClassList(int most = 12) =>
        string.Join(", ", Enumerable.Range(0, Math.Min(Classes, most)).Select(ClassName)) + (Classes > most ? ", ..." : "");

    /// <summary>The class <c>--class</c> names: its name, its number where no class has that name, or its name in another
    /// case where only case tells two apart.</summary>
    public int ClassLabel(string spec)
    {
        var names = NamedClasses ?? [];
        // A name first: class folders named 1 to 102 sort as 1, 10, 100, ..., so number 3 is the folder named 101.
        if (Array.IndexOf(names, spec) is >= 0 and var exact) return exact;
        if (int.TryParse(spec, NumberStyles.None, CultureInfo.InvariantCulture, out var c)) return c;
        var matches = Enumerable.Range(0, names.Length).Where(k => string.Equals(names[k], spec, StringComparison.OrdinalIgnoreCase)).ToArray();
        if (matches.Length == 1) return matches[0];
        throw new UserError(NamedClasses is null ? $"--class '{spec}': this run names its classes by number, 0 to {Classes - 1}"
            : $"--class '{spec}': {(matches.Length > 1 ? "names more than one class but for case" : "no class of this run has that name")}; its classes are {ClassList()}");
    }

    /// <summary>The peak learning rate: <see cref="Lr"/>, or the field's default.</summary>
    [JsonIgnore] public double PeakLr => Lr ?? Field.ImageLr;

    /// <summary>Linear warm-up to --lr, then cosine decay to zero at the last step (or constant).</summary>
    public double LearningRateAt(long step)
    {
        if (step < Warmup) return PeakLr * (step + 1) / Warmup;
        if (LrSchedule == "constant") return PeakLr;
        var progress = (double)(step - Warmup) / Math.Max(1, Steps - Warmup);
        return PeakLr * 0.5 * (1 + Math.Cos(Math.PI * Math.Min(1, progress)));
    }

    /// <summary>A floor on the bytes a step holds, for the check against the machine's memory: the generator's
    /// activations at each stage (about eight floats per unit, forward and backward), the data images and
    /// the features of both sides, for every class group. Unknown sizes (0) are taken as 32 pixels, 3 channels, 10 classes.</summary>
    public double EstimatedBytes()
    {
        double size = ImageSize > 0 ? ImageSize : 32, channels = Channels > 0 ? Channels : 3, classes = Classes > 0 ? Classes : 10;
        var groups = Conditional ? (ClassesPerStep > 0 ? Math.Min(ClassesPerStep, classes) : classes) : 1;
        var generated = groups * (Conditional ? ClassBatch : ClassBatch * classes);
        var data = groups * (Conditional ? PositiveCount : PositiveCount * classes) + (GuidanceMax > 1 ? groups * UnconditionalNegatives : 0);
        var stages = size % 8 == 0 && size >= 64 ? 3 : 2;
        var perImage = Enumerable.Range(0, stages + 1).Sum(i => 8.0 * Width * (1 << i) * Math.Pow(size / (1 << i), 2))
            + GridBlocks * 8.0 * (Width << stages) * Math.Pow(size / (1 << stages), 2);
        var pixels = channels * size * size;
        return 4 * (generated * (perImage + 2 * Features.Length * pixels) + data * Features.Length * pixels);
    }

    public void ValidateProcesses(int processes)
    {
        if (ClassBatch % processes != 0)
            Fail($"--class-batch {ClassBatch} must divide by the {processes} processes, each of which generates an equal share of every class");
    }

    public void Validate()
    {
        ValidateField();
        if (LrSchedule is not ("cosine" or "constant")) Fail($"unknown learning-rate schedule '{LrSchedule}': use cosine or constant");
        if (!Components.IsDeviceName(Device)) Fail($"unknown device '{Device}': use {Components.DeviceNames}");
        Positive("--eta", Eta, 1e6);
        Positive("--lr", PeakLr, 1e30);
        if (!(GuidanceMax is >= 1 and <= 100)) Fail($"--guidance-max must be between 1 and 100, got {GuidanceMax}");
        if (GuidanceMax > 1 && !Conditional) Fail("--guidance-max needs a conditional generator (--conditional true)");
        if (GuidanceMax > 1 && !Field.TakesGuidance)
            Fail($"--guidance-max needs the {FieldKind.Names(f => f.TakesGuidance)} field: the {Field.Name} field takes no guidance negatives");
        if (!(WeightDecay is >= 0 and <= 100)) Fail($"--weight-decay must be between 0 and 100, got {WeightDecay}");
        if (!(ClipGrad is >= 0 and <= 1e6)) Fail($"--clip-grad must be between 0 and 1e6, got {ClipGrad}");
        if (!(Ema is >= 0 and < 1)) Fail($"--ema must be in [0, 1), got {Ema}");
        if (Features.Length == 0) Fail("--features needs at least one feature space");
        foreach (var f in Features.Where(f => !IsEncoderSpace(f)))
        {
            if (f.StartsWith(EncoderSpace, StringComparison.Ordinal)) Fail($"--features: unknown encoder space '{f}': use encoder or encoder-mapK (K = 1, 2, …), or encoder-mapK-meanJ / -stdJ for its J×J patch statistics");
            try { ImageFeatures.Check(f, ImageSize); }
            catch (ArgumentException e) { Fail("--features: " + e.Message); }
        }
        if (Features.FirstOrDefault(IsEncoderSpace) is { } encoderSpace && Encoder is null)
            Fail($"--features {encoderSpace} needs --encoder DIR (train one with drift encoder)");
        if (ImageSize != 0) Within("--image-size", ImageSize, 8, 512);
        AtLeast("--steps", Steps, 1);
        Within("--class-batch", ClassBatch, 2, 1 << 16);
        Within("--class-positives", ClassPositives, 0, 1 << 16);
        Within("--classes-per-step", ClassesPerStep, 0, 1 << 16);
        AtLeast("--warmup", Warmup, 0);
        Within("--unconditional-negatives", UnconditionalNegatives, 1, 1 << 16);
        Within("--noise-dim", NoiseDim, 1, 1 << 14);
        Within("--width", Width, 1, 1 << 12);
        Within("--grid-blocks", GridBlocks, 0, 64);
        AtLeast("--log-every", LogEvery, 1);
        AtLeast("--eval-every", EvalEvery, 1);
        Within("--eval-samples", EvalSamples, 10, 1 << 17);
        AtLeast("--grid-every", GridEvery, 1);
        AtLeast("--checkpoint-every", CheckpointEvery, 1);
        AtLeast("--snapshot-every", SnapshotEvery, 0);
    }
}
