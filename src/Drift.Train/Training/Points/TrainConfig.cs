using Drift.Loss;
using System.Text.Json.Serialization;
using Drift.Train.RunFolders;
using static Drift.Train.RunFolders.ConfigJson;

namespace Drift.Train.Training.Points;

/// <summary>Everything that defines a run. Written as config.json in every run folder and inside each
/// checkpoint; <c>drift train --config</c> reads it back.</summary>
/// <remarks>The field's scales are in standardised data units.</remarks>
public sealed record TrainConfig() : FieldConfig(images: false), IRunConfig
{
    public static string Kind => "points";
    public static string[] FromData => ["columns"];

    public const string DefaultData = "checkerboard";
    [JsonPropertyOrder(-2)] public string Data { get; init; } = DefaultData;
    /// <summary>The data's column names (a CSV file's header), set from the data when a run starts, so that its samples
    /// carry them; null (left out of config.json): x0, x1, ...</summary>
    [JsonPropertyOrder(-2), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string[]? Columns { get; init; }
    public bool Standardize { get; init; } = true;
    /// <summary>Bandwidths/temperatures shrink as e^(−r·step/steps) over the run; 0 keeps them fixed. Null: the
    /// field's <see cref="FieldKind.DefaultAnneal"/>.</summary>
    public double? Anneal { get; init; }

    /// <summary>This config with the field-dependent defaults written out, as it is saved.</summary>
    public TrainConfig Resolved() => this with { Anneal = Anneal ?? Field.DefaultAnneal, RowsOnly = RowsOnlyInForce };

    /// <summary>Off for every field: on 2-D data the laplace field over rows only dropped a distant mode that its column
    /// normalisation finds (docs/ablation/laplace-normalisation.sh), so points runs keep the paper's field.</summary>
    protected override bool DefaultRowsOnly => false;

    public double ScaleAt(double progress) => Math.Exp(-(Anneal ?? 0) * progress);
    public double Eta { get; init; } = 1.0;
    /// <summary>The stop-gradient ablation (<see cref="FieldKind.ThroughFieldLoss"/>): backpropagate through the field instead
    /// of regressing onto a held target. Fields that have one only; left out of config.json when off, so that
    /// configs from before it existed read and write back unchanged.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool ThroughField { get; init; }
    public int Steps { get; init; } = 2000;
    public int Batch { get; init; } = 1024;
    /// <summary>Data samples per step; 0 means as many as the batch.</summary>
    public int Positives { get; init; }
    public double Lr { get; init; } = 2e-3;
    /// <summary>cosine (decay to zero at the last step) or constant.</summary>
    public string LrSchedule { get; init; } = "cosine";
    public long Seed { get; init; }
    public string Device { get; init; } = "cpu";
    public int NoiseDim { get; init; } = 8;
    public int Width { get; init; } = 256;
    public int Depth { get; init; } = 3;
    public int LogEvery { get; init; } = 10;
    public int EvalEvery { get; init; } = 200;
    public int EvalSamples { get; init; } = 2000;
    public int CheckpointEvery { get; init; } = 500;
    /// <summary>Steps between snapshots, copies of the checkpoint kept in snapshots/ (0: none). Left out of config.json at
    /// 0, so that configs from before it existed read and write back unchanged; a resumed run may change it.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int SnapshotEvery { get; init; }

    public int PositiveCount => Positives > 0 ? Positives : Batch;

    public string ToJson() => ConfigJson.Write(this);

    /// <summary>Cosine decay from --lr to zero over the run: late steps average out the minibatch noise
    /// in the field instead of chasing it.</summary>
    public double LearningRateAt(long step) => LrSchedule == "constant" ? Lr : Lr * 0.5 * (1 + Math.Cos(Math.PI * step / Steps));

    /// <summary>A floor on the bytes a step holds, for the check against the machine's memory: the MLP's
    /// activations and their gradients (about four floats per unit), and the field's kernel matrices, which
    /// stay dense up to <see cref="FieldChunking.DenseLimit"/> and are chunked beyond. Data of d ≤ 8 dimensions.</summary>
    public double EstimatedBytes()
    {
        const int dim = 8;
        double b = Batch, p = PositiveCount;
        var activations = b * (NoiseDim + 4.0 * Width * Depth + 4 * dim) + p * 2 * dim;
        var kernels = Math.Min(b * (b + p), FieldChunking.DenseLimit(TorchSharp.DeviceType.CPU)) * FieldScales.Count * 4;
        return 4 * (activations + kernels + (double)Width * Width * Depth * 4);
    }

    public void ValidateProcesses(int processes)
    {
        if (Batch % processes != 0)
            Fail($"--batch {Batch} must divide by the {processes} processes, each of which generates an equal share");
        if (ThroughField && processes > 1)
            Fail("--through-field backpropagates through the whole batch's field: it runs as one process, not under mpiexec");
    }

    public void Validate()
    {
        if (Drift.Data.Images.ImageData.IsImageData(Data))
            Fail($"--data {Data} is image data: train on it with drift train-images (or drift compare-images)");
        ValidateField();
        if (ThroughField && Field.ThroughFieldLoss is null)
            Fail($"--through-field is an ablation of the {FieldKind.Names(f => f.ThroughFieldLoss is not null)} field, not of {Field.Name}");
        if (LrSchedule is not ("cosine" or "constant")) Fail($"unknown learning-rate schedule '{LrSchedule}': use cosine or constant");
        if (!Components.IsDeviceName(Device)) Fail($"unknown device '{Device}': use {Components.DeviceNames}");
        Positive("--eta", Eta, 1e6);
        Positive("--lr", Lr, 1e30);
        if (Anneal is { } r && !(r is >= 0 and <= 100)) Fail($"--anneal must be between 0 and 100, got {r}");
        AtLeast("--steps", Steps, 1);
        Within("--batch", Batch, 2, 1 << 22);
        Within("--positives", Positives, 0, 1 << 22);
        Within("--noise-dim", NoiseDim, 1, 1 << 14);
        Within("--width", Width, 1, 1 << 14);
        Within("--depth", Depth, 1, 64);
        AtLeast("--log-every", LogEvery, 1);
        AtLeast("--eval-every", EvalEvery, 1);
        Within("--eval-samples", EvalSamples, 2, 1 << 18);
        AtLeast("--checkpoint-every", CheckpointEvery, 1);
        AtLeast("--snapshot-every", SnapshotEvery, 0);
    }
}
