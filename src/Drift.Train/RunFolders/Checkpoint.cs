using System.Security.Cryptography;
using System.Text;
using Drift.Data;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Drift.Train.RunFolders;

/// <summary>
/// One file, <see cref="RunFiles.Checkpoint"/>, holds everything a run needs to continue bit-for-bit: the kind of run
/// (points or images) and its config, the step, the wall time so far, the data standardisation (points),
/// the RNG state, the weights of each module (an image run also keeps its EMA copy) and the optimizer
/// state, and the fingerprint of the data it trained on. It is written to a temporary file and renamed, so a crash
/// mid-write leaves the last one intact; a SHA-256 of its contents closes the file and is checked on every load,
/// so a damaged file is refused rather than sampled or resumed (flipped bytes in weights or Adam state would
/// otherwise load and quietly ruin the run).
/// </summary>
public sealed class Checkpoint
{
    private const string Magic = "DRIFT-CHECKPOINT";
    /// <summary>3: checksum and data fingerprint. 2 (no checksum) is still read.</summary>
    private const int FormatVersion = 3;
    private const int ChecksumBytes = 32;

    private readonly byte[][] weights;
    private readonly byte[] optimizerState;
    private readonly string configJson;
    private readonly string path;

    private Checkpoint(byte[] contents, string path, string kind, string configJson, string? dataFingerprint, long step, double elapsedSeconds, Standardizer scale,
        byte[] rngState, byte[][] weights, byte[] optimizerState)
    {
        Contents = contents;
        this.path = path;
        Kind = kind;
        this.configJson = configJson;
        DataFingerprint = dataFingerprint;
        Step = step;
        ElapsedSeconds = elapsedSeconds;
        Scale = scale;
        RngState = rngState;
        this.weights = weights;
        this.optimizerState = optimizerState;
    }

    /// <summary>The kind of run that wrote it: the <see cref="IRunConfig.Kind"/> of its config.</summary>
    public string Kind { get; }

    public bool Holds<T>() where T : IRunConfig => Kind == T.Kind;

    /// <summary>The run's config, when the run is of kind <typeparamref name="T"/>.</summary>
    public T Config<T>() where T : IRunConfig => Holds<T>() ? ConfigJson.Read<T>(configJson, path)
        : throw new UserError($"{path} holds a run of {Kind}; this needs a run of {T.Kind}");

    /// <summary>What the run trained on (<c>PointData.Fingerprint</c>, <c>ImageData.Fingerprint</c>); null in a version-2 file.</summary>
    public string? DataFingerprint { get; }
    public long Step { get; }
    public double ElapsedSeconds { get; }
    public Standardizer Scale { get; }
    public byte[] RngState { get; }

    /// <summary>The checkpoint file's path, for messages.</summary>
    public string FilePath => path;

    /// <summary>Refuses data whose fingerprint is no longer the one the run trained on: metrics or fields against data the
    /// run never saw would be silently wrong, as a resume on changed data would be.</summary>
    public void RefuseChangedData(string data, string now)
    {
        if (DataFingerprint is { } trained && trained != now)
            throw new UserError($"{data} changed since the run in {Path.GetDirectoryName(path)} trained on it (fingerprint {trained}, now {now}); "
                + "restore the data it trained on");
    }

    /// <summary>The file's bytes as read, for <see cref="Read"/> in another process.</summary>
    public byte[] Contents { get; }

    /// <summary>Whether anything is at the checkpoint's path: a folder there is a damaged run to refuse, not a run without
    /// a checkpoint to start again.</summary>
    public static bool Exists(string dir) => FileTypes.Of(Path.Combine(dir, RunFiles.Checkpoint)) != FileType.Missing;

    /// <param name="snapshot">Also keep these bytes as the step's snapshot (<see cref="RunFiles.SnapshotAt"/>), written
    /// first: a run killed between the two resumes from its previous checkpoint and writes the same snapshot again.</param>
    public static void Save(string dir, string kind, string configJson, string dataFingerprint, long step, double elapsedSeconds,
        Standardizer scale, Generator rng, IReadOnlyList<nn.Module> modules, OptimizerHelper optimizer, bool snapshot = false)
    {
        if (modules.Any(HasNonFiniteWeights))
            throw new UserError($"training diverged by step {step}: the weights are no longer finite; the checkpoint on disk, if any, is kept");
        using var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write(FormatVersion);
            w.Write(kind);
            w.Write(configJson);
            w.Write(dataFingerprint);
            w.Write(step);
            w.Write(elapsedSeconds);
            WriteDoubles(w, scale.Mean);
            WriteDoubles(w, scale.Std);
            using (var state = rng.get_state())
                WriteBytes(w, state.data<byte>().ToArray());
            w.Write(modules.Count);
            foreach (var module in modules)
                WriteBytes(w, Serialize(bw => module.save(bw)));
            WriteBytes(w, Serialize(optimizer.save_state_dict));
        }
        var contents = buffer.ToArray();
        void Write(string tmp)
        {
            using var stream = File.Create(tmp);
            stream.Write(contents);
            stream.Write(SHA256.HashData(contents));
            stream.Flush(flushToDisk: true);
        }
        if (snapshot)
        {
            Directory.CreateDirectory(Path.Combine(dir, RunFiles.SnapshotFolder));
            AtomicFile.Write(Path.Combine(dir, RunFiles.SnapshotAt(step)), Write);
        }
        AtomicFile.Write(Path.Combine(dir, RunFiles.Checkpoint), Write);
    }

    /// <param name="step">A snapshot's step (<see cref="RunFiles.SnapshotAt"/>); null: the run's checkpoint.</param>
    public static Checkpoint Load(string dir, long? step = null)
    {
        if (!Directory.Exists(dir)) throw new UserError($"checkpoint folder not found: {dir}");
        if (step is { } s)
        {
            var snapshot = Path.Combine(dir, RunFiles.SnapshotAt(s));
            if (FileTypes.Of(snapshot) == FileType.Missing)
                throw new UserError($"no snapshot of step {s} in {dir}: {SnapshotSteps(dir) switch
                {
                    [] => "it keeps none (train or resume it with --snapshot-every N)",
                    var steps => $"it keeps {string.Join(", ", steps)}",
                }}");
            return Read(InputFile.ReadAllBytes(snapshot, "snapshot", InputFile.Largest), snapshot);
        }
        var path = Path.Combine(dir, RunFiles.Checkpoint);
        if (!Exists(dir)) throw new UserError($"no checkpoint in {dir} (expected {RunFiles.Checkpoint})");
        return Read(InputFile.ReadAllBytes(path, "checkpoint", InputFile.Largest), path);
    }

    /// <summary>The steps of the run's snapshots, in order.</summary>
    private static long[] SnapshotSteps(string dir)
    {
        var folder = Path.Combine(dir, RunFiles.SnapshotFolder);
        if (!Directory.Exists(folder)) return [];
        return Directory.EnumerateFiles(folder, "step-*.bin").Select(Path.GetFileName)
            .Select(name => long.TryParse(name!["step-".Length..^".bin".Length], out var step) && RunFiles.SnapshotAt(step) == Path.Combine(RunFiles.SnapshotFolder, name) ? step : -1)
            .Where(step => step >= 0).Order().ToArray();
    }

    /// <summary>A checkpoint from the bytes of its file (<see cref="Contents"/>), checked as a file is.</summary>
    /// <param name="path">The file they were read from, for messages.</param>
    public static Checkpoint Read(byte[] bytes, string path)
    {
        try
        {
            var (version, end) = Verified(bytes, path);
            using var r = new BinaryReader(new MemoryStream(bytes, 0, end, writable: false), Encoding.UTF8);
            r.ReadString();
            r.ReadInt32();
            var kind = r.ReadString();
            var config = r.ReadString();
            var fingerprint = version >= 3 ? r.ReadString() : null;
            var step = r.ReadInt64();
            var elapsed = r.ReadDouble();
            var scale = new Standardizer(ReadDoubles(r), ReadDoubles(r));
            var rng = ReadBytes(r);
            var modules = r.ReadInt32();
            if (modules is < 1 or > 16) throw new InvalidDataException("bad module count");
            var weights = Enumerable.Range(0, modules).Select(_ => ReadBytes(r)).ToArray();
            var optimizer = ReadBytes(r);
            if (r.BaseStream.Position != end) throw new InvalidDataException("trailing bytes");
            return new Checkpoint(bytes, path, kind, config, fingerprint, step, elapsed, scale, rng, weights, optimizer);
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException or IOException or ArgumentException or FormatException)
        {
            throw new UserError($"checkpoint {path} is corrupt or incomplete: {e.Message}");
        }
    }

    /// <summary>The format version, and where the contents end: before the checksum, which must match them.</summary>
    private static (int Version, int End) Verified(byte[] bytes, string path)
    {
        using var r = new BinaryReader(new MemoryStream(bytes, writable: false), Encoding.UTF8);
        if (r.ReadString() != Magic) throw new InvalidDataException("not a drift checkpoint");
        var version = r.ReadInt32();
        if (version is not (2 or FormatVersion)) throw new InvalidDataException($"format version {version}, this drift reads 2 and {FormatVersion}");
        if (version == 2) return (version, bytes.Length);
        var end = bytes.Length - ChecksumBytes;
        if (end < r.BaseStream.Position || !SHA256.HashData(bytes.AsSpan(0, end)).AsSpan().SequenceEqual(bytes.AsSpan(end)))
            throw new UserError($"checkpoint {path} is damaged: its contents do not match the checksum written with them; restore it from a copy or train again");
        return (version, end);
    }

    /// <param name="index">Which saved module: 0 the trained model, 1 an image run's EMA copy.</param>
    public void LoadWeights(nn.Module model, int index = 0)
    {
        if (index >= weights.Length) throw new UserError($"{path} holds {weights.Length} module(s), not {index + 1}");
        Restore("weights", () => model.load(new BinaryReader(new MemoryStream(weights[index]))));
        if (HasNonFiniteWeights(model))
            throw new UserError($"{path} holds non-finite weights (NaN or infinity): the run that wrote it diverged; use an earlier checkpoint or retrain");
    }

    public void LoadOptimizer(OptimizerHelper optimizer) =>
        Restore("optimizer state", () => optimizer.load_state_dict(new BinaryReader(new MemoryStream(optimizerState))));

    public void LoadRng(Generator rng)
    {
        using var state = torch.tensor(RngState, dtype: ScalarType.Byte);
        Restore("random state", () => rng.set_state(state));
    }

    private static bool HasNonFiniteWeights(nn.Module model)
    {
        using var noGrad = torch.no_grad();
        return model.parameters().Any(p => !torch.isfinite(p).all().item<bool>());
    }

    private static void Restore(string what, Action load)
    {
        try { load(); }
        catch (Exception e) when (e is not UserError)
        {
            throw new UserError($"checkpoint's {what} does not fit this model: {e.Message.Split('\n')[0]}");
        }
    }

    private static byte[] Serialize(Action<BinaryWriter> save)
    {
        using var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true)) save(w);
        return buffer.ToArray();
    }

    private static void WriteBytes(BinaryWriter w, byte[] bytes)
    {
        w.Write(bytes.Length);
        w.Write(bytes);
    }

    private static byte[] ReadBytes(BinaryReader r)
    {
        var n = r.ReadInt32();
        if (n < 0 || n > r.BaseStream.Length - r.BaseStream.Position) throw new InvalidDataException("bad block length");
        return r.ReadBytes(n);
    }

    private static void WriteDoubles(BinaryWriter w, double[] values)
    {
        w.Write(values.Length);
        foreach (var v in values) w.Write(v);
    }

    private static double[] ReadDoubles(BinaryReader r)
    {
        var n = r.ReadInt32();
        if (n < 0 || n > 1 << 20) throw new InvalidDataException("bad vector length");
        return Enumerable.Range(0, n).Select(_ => r.ReadDouble()).ToArray();
    }
}
