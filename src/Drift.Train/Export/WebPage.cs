namespace Drift.Train.Export;

/// <summary>Where ONNX Runtime Web's files are: installed by npm from export/web/package.json (pinned, with its lockfile)
/// into export/web/node_modules of the Drift checkout this drift was built in.</summary>
public static class WebPage
{
    /// <summary>The WebAssembly build alone: one thread, no WebGPU, so the page runs from any static file server.</summary>
    public static readonly string[] RuntimeFiles = ["ort.wasm.min.js", "ort-wasm-simd-threaded.wasm", "ort-wasm-simd-threaded.mjs"];

    private const string Dist = "export/web/node_modules/onnxruntime-web/dist";

    /// <summary>The folder holding <see cref="RuntimeFiles"/>: DRIFT_ORT_WEB, or <c>export/web/node_modules/onnxruntime-web/dist</c>
    /// in a folder above drift's own or the current one.</summary>
    public static string Runtime() =>
        Runtime(Environment.GetEnvironmentVariable("DRIFT_ORT_WEB"), AppContext.BaseDirectory, Directory.GetCurrentDirectory());

    /// <summary>The first of <paramref name="given"/> and <c>export/web/node_modules/onnxruntime-web/dist</c> in a folder
    /// at or above each of <paramref name="starts"/> that holds every one of <see cref="RuntimeFiles"/>.</summary>
    public static string Runtime(string? given, params string[] starts)
    {
        var candidates = new List<string>();
        if (given is { Length: > 0 }) candidates.Add(given);
        foreach (var start in starts)
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                candidates.Add(Path.Combine(dir.FullName, Dist));
        // The default format is all, so a user who never asked for the page is told how to do without it.
        return candidates.FirstOrDefault(c => RuntimeFiles.All(f => File.Exists(Path.Combine(c, f))))
            ?? throw new UserError("--format web needs onnxruntime-web, which is not installed: run `npm ci --prefix export/web` in the Drift checkout, "
                + "set DRIFT_ORT_WEB to its dist folder, or export without the page (--format onnx,safetensors)");
    }
}
