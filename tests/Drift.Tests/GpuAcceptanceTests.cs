using System.Diagnostics;

namespace Drift.Tests;

/// <summary>bench/gpu-acceptance.sh, the script a lent GPU will run first, run end to end in its dry mode (CPU, tiny
/// sizes, a tiny image set, 6-second runs), so that the day a device comes no step of it is untried.</summary>
[Collection(RealProcesses.Name)]
public class GpuAcceptanceTests
{
    [Fact]
    public async Task TheAcceptanceScriptRunsEveryStepDryOnTheCpu()
    {
        var repo = Repository();
        var outDir = Path.Combine(Path.GetTempPath(), $"drift-gpu-acceptance-{Guid.NewGuid():N}");
        var start = new ProcessStartInfo("bash", [Path.Combine(repo, "bench", "gpu-acceptance.sh"), "--dry-run", "--out", outDir])
            { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["DRIFT"] = $"dotnet {typeof(Drift.Train.UserError).Assembly.Location}";
        start.Environment["PYTHON"] = "/usr/bin/python3";
        using var p = Process.Start(start)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(600_000), "the dry run took over ten minutes");
        var summary = Path.Combine(outDir, "summary.md");
        Assert.True(p.ExitCode == 0, $"exit {p.ExitCode}\n{(await stdout)}{(await stderr)}\n{(File.Exists(summary) ? File.ReadAllText(summary) : "")}");
        var text = File.ReadAllText(summary);
        foreach (var part in new[] { "## check", "## bench-fields", "## bench-pytorch", "## bench-images", "## bench-pytorch-image-laplace", "## bench-pytorch-points", "## runs", "failed steps: none" })
            Assert.Contains(part, text);
        Assert.DoesNotContain("FAILED", File.ReadAllText(Path.Combine(outDir, "check.md")));
        foreach (var field in new[] { "conservative", "laplace" })
        {
            Assert.True(File.Exists(Path.Combine(outDir, "samples", $"fashion-mnist-{field}.npy")), field);
            Assert.True(File.Exists(Path.Combine(outDir, "samples", $"fashion-mnist-{field}.labels.npy")), field);
        }
        Directory.Delete(outDir, recursive: true);
    }

    /// <summary>The checkout the tests were built from: the folder above the test binaries that holds Drift.sln.</summary>
    internal static string Repository()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Drift.sln"))) return dir.FullName;
        throw new InvalidOperationException("no Drift.sln above the test binaries");
    }
}
