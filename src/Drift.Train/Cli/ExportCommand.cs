using System.CommandLine;
using Drift.Train.Export;
using Drift.Train.RunFolders;

namespace Drift.Train.Cli;

/// <summary><c>drift export</c>: a run's generator as ONNX, safetensors with its PyTorch module, and a web page.</summary>
public static class ExportCommand
{
    public static Command Create()
    {
        var checkpointDir = new Option<string>("--checkpoint") { Description = "Run folder holding checkpoint.bin.", Required = true };
        var output = new Option<string>("--out") { Description = "Folder for the exported files (new, empty, or an earlier export).", Required = true };
        var formats = ListOption.Create("--format", "Separated by commas or spaces: onnx, safetensors (for PyTorch, with drift_generator.py), web, or all (default). generator.json is always written.", "all");
        var step = SnapshotOption.Create();
        var command = new Command("export", "Export a trained generator: ONNX, safetensors for PyTorch, a web page that samples it.") { checkpointDir, step, output, formats };

        command.SetAction(parse => Cli.Run(() =>
        {
            var chosen = Formats(parse.GetValue(formats)!);
            var dir = parse.GetValue(checkpointDir)!;
            var outDir = parse.GetValue(output)!;
            OwnedFolder.Check(outDir, FolderKind.Export, "--out");
            var checkpoint = Checkpoint.Load(dir, parse.GetValue(step));
            var files = RunExport.Write(checkpoint, dir, outDir, chosen);
            Console.WriteLine($"wrote {outDir}: {string.Join(", ", files)}");
            return 0;
        }));
        return command;
    }

    private static HashSet<ExportFormat> Formats(string[] values)
    {
        var names = ListOption.Items(values);
        if (names.Length == 0) throw new UserError("--format needs at least one of onnx, safetensors, web, all");
        // The runtime named for its file: the safetensors export is PyTorch's (drift_generator.py comes with it).
        if (names.FirstOrDefault(n => n.ToLowerInvariant() is "pytorch" or "torch" or "pt" or "pth") is { } runtime)
            throw new UserError($"unknown format '{runtime}': PyTorch loads the safetensors export, which writes drift_generator.py beside the weights: --format safetensors");
        return names.SelectMany(n => n == "all" ? Enum.GetValues<ExportFormat>()
            : [ChoiceOption.Parse<ExportFormat>(n, "format")]).ToHashSet();
    }
}
