using System.Diagnostics;

namespace Drift.Tests;

/// <summary>NumPy itself (Debian's python3-numpy, which python3-torch brings), the reference for .npy files.</summary>
internal static class NumpyScript
{
    private const string Python = "/usr/bin/python3";

    /// <summary>Runs <paramref name="code"/> in NumPy with <c>d</c> = <paramref name="dir"/>.</summary>
    public static void Run(string dir, string code)
    {
        var script = Path.Combine(dir, "script.py");
        File.WriteAllText(script, $"import numpy as np\nd = {System.Text.Json.JsonSerializer.Serialize(dir)}\n{code}\n");
        using var p = Process.Start(new ProcessStartInfo(Python, [script]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{Python}: exit {p.ExitCode}\n{stdout.Result}{stderr}");
    }
}
