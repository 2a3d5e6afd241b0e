using Drift.Export;
using Drift.Loss;
using Drift.Models;
using Drift.Train.Training.Images;
using Google.Protobuf;
using TorchSharp;
using TorchSharp.PyBridge;
using Drift.Train.RunFolders;
using Drift.Train.Training.Points;

namespace Drift.Train.Export;

public enum ExportFormat { Onnx, Safetensors, Web }

/// <summary>
/// A run's generator out of Drift (<c>drift export</c>): the weights <c>drift sample</c> uses (an image run's EMA copy)
/// as <c>generator.onnx</c> (ONNX Runtime anywhere), <c>generator.safetensors</c> with <c>drift_generator.py</c> (the
/// PyTorch mirror of the modules), a <c>web/</c> page that samples in the browser, and always <c>generator.json</c>,
/// the card that says what the inputs and outputs are. Everything is built in memory first and each file written
/// atomically, so a refusal leaves nothing behind and a kill no half-written file. The cards are the export's commit:
/// an earlier export's are removed before any file is replaced and the new ones written last, so an export stopped part
/// way (killed, a full disk) leaves no card beside a mix of old and new files for a loader to take for a whole export.
/// </summary>
public static class RunExport
{
    private const string Onnx = FolderKind.ExportOnnx, Safetensors = FolderKind.ExportSafetensors, PyTorchModule = FolderKind.ExportPyTorch,
        WebFolder = FolderKind.ExportWeb;

    /// <summary>Each format's files in the export folder: what an export of it writes, and what one without it must not
    /// leave behind.</summary>
    private static readonly (ExportFormat Format, string[] Names)[] FilesOf =
        [(ExportFormat.Onnx, [Onnx]), (ExportFormat.Safetensors, [Safetensors, PyTorchModule]), (ExportFormat.Web, [WebFolder])];

    /// <returns>The files written, relative to <paramref name="outDir"/>.</returns>
    public static IReadOnlyList<string> Write(Checkpoint checkpoint, string runDir, string outDir, IReadOnlySet<ExportFormat> formats)
    {
        // One writer at a time: a second export into the folder meanwhile would mix its files with these.
        using var held = RunLock.Acquire(outDir, RunLock.NoCheckpoint);
        RefuseLeftovers(outDir, formats);
        var runtime = formats.Contains(ExportFormat.Web) ? WebPage.Runtime() : null;
        var (card, onnx, safetensors) = Build(checkpoint, runDir, formats);
        var files = new Dictionary<string, byte[]>();
        if (formats.Contains(ExportFormat.Onnx)) files[Onnx] = onnx;
        if (formats.Contains(ExportFormat.Safetensors))
        {
            files[Safetensors] = safetensors;
            files[PyTorchModule] = Resource(PyTorchModule);
        }
        var cards = new Dictionary<string, byte[]>();
        if (runtime is not null)
        {
            files[$"{WebFolder}/{Onnx}"] = onnx;
            files[$"{WebFolder}/index.html"] = Resource("index.html");
            // The page's own card names the files beside it, so that web/ can be served, or copied, on its own.
            cards[$"{WebFolder}/{GeneratorCard.FileName}"] = CardBytes(card with { Files = new Dictionary<string, string> { ["onnx"] = Onnx, ["web"] = "index.html" } });
        }
        cards[GeneratorCard.FileName] = CardBytes(card);

        OwnedFolder.Mark(outDir, FolderKind.Export);
        foreach (var earlier in Cards.Select(name => Path.Combine(outDir, name)).Where(File.Exists))
            File.Delete(earlier);
        foreach (var (name, bytes) in files)
            AtomicFile.Write(Path.Combine(outDir, name), tmp => File.WriteAllBytes(tmp, bytes));
        if (runtime is not null)
            foreach (var file in WebPage.RuntimeFiles)
                AtomicFile.Write(Path.Combine(outDir, WebFolder, file), tmp => File.Copy(Path.Combine(runtime, file), tmp, overwrite: true));
        foreach (var (name, bytes) in cards)
            AtomicFile.Write(Path.Combine(outDir, name), tmp => File.WriteAllBytes(tmp, bytes));
        return files.Keys.Concat(cards.Keys).Concat(runtime is null ? [] : WebPage.RuntimeFiles.Select(f => $"{WebFolder}/{f}")).Order().ToArray();
    }

    /// <summary>The cards an export writes, the page's and the folder's, relative to its folder.</summary>
    private static readonly string[] Cards = [$"{WebFolder}/{GeneratorCard.FileName}", GeneratorCard.FileName];

    private static byte[] CardBytes(GeneratorCard card) => System.Text.Encoding.UTF8.GetBytes(card.ToJson() + "\n");

    /// <summary>An earlier export in <paramref name="outDir"/> whose files of another format this one would not replace
    /// would leave them, perhaps another run's, beside a card that does not name them: refused, nothing deleted.</summary>
    private static void RefuseLeftovers(string outDir, IReadOnlySet<ExportFormat> formats)
    {
        var left = FilesOf.Where(f => !formats.Contains(f.Format))
            .SelectMany(f => OwnedFolder.Present(outDir, f.Names).Select(n => (f.Format, Name: n == WebFolder ? n + "/" : n)))
            .ToArray();
        if (left.Length == 0) return;
        var needed = FilesOf.Select(f => f.Format).Where(f => formats.Contains(f) || left.Any(l => l.Format == f)).Select(f => f.ToString().ToLowerInvariant());
        throw new UserError($"{outDir} holds an earlier export's {string.Join(", ", left.Select(l => l.Name))}, which this one would not replace; "
            + $"export with --format {string.Join(",", needed)}, or choose a new --out");
    }

    /// <summary>The card, the ONNX model and the safetensors of the checkpoint's generator.</summary>
    private static (GeneratorCard, byte[] Onnx, byte[] Safetensors) Build(Checkpoint checkpoint, string runDir, IReadOnlySet<ExportFormat> formats)
    {
        var version = typeof(RunExport).Assembly.GetName().Version?.ToString() ?? "0";
        var written = new Dictionary<string, string>();
        if (formats.Contains(ExportFormat.Onnx)) written["onnx"] = Onnx;
        if (formats.Contains(ExportFormat.Safetensors)) (written["safetensors"], written["pytorch"]) = (Safetensors, PyTorchModule);
        if (formats.Contains(ExportFormat.Web)) written["web"] = $"{WebFolder}/index.html";
        CardTensor Noise(int dim) => new(OnnxGenerators.Noise, "float32", [OnnxGraph.Batch, dim], "standard normal noise");

        if (checkpoint.Holds<ImageConfig>())
        {
            var c = checkpoint.Config<ImageConfig>();
            using var model = ImageComponents.Generator(c);
            checkpoint.LoadWeights(model, 1);
            model.eval();
            var (labels, guidance) = (c.Conditional, c.GuidanceMax > 1);
            var inputs = new List<CardTensor> { Noise(c.NoiseDim) };
            if (labels) inputs.Add(new(OnnxGenerators.Labels, "int64", [OnnxGraph.Batch], $"class 0 to {c.Classes - 1}; {c.Classes} means no class"));
            if (guidance) inputs.Add(new(OnnxGenerators.Guidance, "float32", [OnnxGraph.Batch], $"guidance scale α in [1, {c.GuidanceMax:g}]; 1 is none"));
            var card = new GeneratorCard(GeneratorCard.FormatName, "images",
                new("conv", new Dictionary<string, int>
                {
                    ["noise_dim"] = c.NoiseDim, ["image_size"] = c.ImageSize, ["channels"] = c.Channels, ["classes"] = model.Classes,
                    ["width"] = c.Width, ["grid_blocks"] = c.GridBlocks, ["cond_dim"] = (int)model.named_parameters().First(p => p.name == "label.weight").parameter.shape[1],
                }),
                "standard normal, float32", inputs,
                [new(OnnxGenerators.Images, "float32", [OnnxGraph.Batch, c.Channels, c.ImageSize, c.ImageSize], "images in [0, 1], channels first")],
                null, null, null, c.Classes, labels ? c.NamedClasses : null, guidance ? c.GuidanceMax : null, written,
                new(runDir, checkpoint.Step, c.Data, c.Field.Name, "ema", Provenance.Drift));
            return (card, OnnxGenerators.Conv(model, labels, guidance, version).ToByteArray(), SafetensorsOf(model));
        }
        var config = checkpoint.Config<TrainConfig>();
        var dim = checkpoint.Scale.Mean.Length;
        using var mlp = PointComponents.Generator(config, dim);
        checkpoint.LoadWeights(mlp);
        var pointsCard = new GeneratorCard(GeneratorCard.FormatName, "points",
            new("mlp", new Dictionary<string, int> { ["noise_dim"] = config.NoiseDim, ["width"] = config.Width, ["depth"] = config.Depth, ["out_dim"] = dim }),
            "standard normal, float32", [Noise(config.NoiseDim)],
            [new(OnnxGenerators.Points, "float32", [OnnxGraph.Batch, dim], "points in data units")],
            checkpoint.Scale.Mean, checkpoint.Scale.Std, config.Columns, null, null, null, written,
            new(runDir, checkpoint.Step, config.Data, config.Field.Name, "trained", Provenance.Drift));
        return (pointsCard, OnnxGenerators.Mlp(mlp, checkpoint.Scale.Mean, checkpoint.Scale.Std, version).ToByteArray(), SafetensorsOf(mlp));
    }

    /// <summary>The module's parameters under their own names (TorchSharp.PyBridge), which the PyTorch mirror shares.</summary>
    private static byte[] SafetensorsOf(torch.nn.Module module)
    {
        using var buffer = new MemoryStream();
        module.save_safetensors(buffer, null, leaveOpen: true);
        return buffer.ToArray();
    }

    /// <summary>A file of the repository's export/ folder, built into drift.</summary>
    private static byte[] Resource(string name)
    {
        using var stream = typeof(RunExport).Assembly.GetManifestResourceStream($"export/{name}")
            ?? throw new InvalidOperationException($"export/{name} is not built into drift");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
