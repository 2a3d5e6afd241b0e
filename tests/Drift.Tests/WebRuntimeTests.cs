using Drift.Train;
using Drift.Train.Export;

namespace Drift.Tests;

/// <summary>Where <c>drift export --format web</c> finds ONNX Runtime Web, and what it says when it finds none.</summary>
public sealed class WebRuntimeTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("drift-web-runtime-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    private static string Dist(string above, IEnumerable<string> files)
    {
        var dist = Path.Combine(above, "export", "web", "node_modules", "onnxruntime-web", "dist");
        Directory.CreateDirectory(dist);
        foreach (var f in files) File.WriteAllText(Path.Combine(dist, f), "");
        return dist;
    }

    /// <summary>Found in a checkout above the start folder at any depth, and DRIFT_ORT_WEB's folder before it; a folder
    /// missing any one of the three files does not count, and then the error says how to export without the page.</summary>
    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 2)]
    [InlineData(2, 4)]
    public void TheRuntimeIsFoundAboveTheStartOrWhereGivenAndItsAbsenceNamesTheWayOut(int missingFile, int depth)
    {
        var checkout = Path.Combine(root, "checkout");
        var start = Path.Combine([checkout, .. Enumerable.Range(0, depth).Select(i => $"level{i}")]);
        Directory.CreateDirectory(start);
        var found = Dist(checkout, WebPage.RuntimeFiles);
        Assert.Equal(found, WebPage.Runtime(null, start));

        var given = Dist(Path.Combine(root, "given"), WebPage.RuntimeFiles);
        Assert.Equal(given, WebPage.Runtime(given, start));

        var missing = WebPage.RuntimeFiles[missingFile];
        var incomplete = Dist(Path.Combine(root, "incomplete"), WebPage.RuntimeFiles.Where(f => f != missing));
        Assert.Equal(found, WebPage.Runtime(incomplete, start));
        var error = Assert.Throws<UserError>(() => WebPage.Runtime(incomplete, Path.Combine(root, "incomplete", "below")));
        Assert.Contains("npm ci --prefix export/web", error.Message);
        Assert.Contains("--format onnx,safetensors", error.Message);
    }
}
