using System.CommandLine;
using System.Text;
using Drift.Train.Bench;
using Drift.Train.Training;
using Drift.Train.RunFolders;

namespace Drift.Train.Cli;

/// <summary><c>drift check</c>: the numerics of fields, loss and generators on a device against float64 on the CPU.</summary>
public static class CheckCommand
{
    public static Command Create()
    {
        var device = DeviceOption.Create();
        var tf32 = new Option<bool>("--tf32") { Description = "CUDA: also check the fields with TF32 on (looser bound)." };
        var seed = new Option<long>("--seed") { Description = "Seed of the random inputs and weights. Default 0." };
        var output = new Option<string>("--out") { Description = "Also write the table to this markdown file." };
        var command = new Command("check", "Check fields, loss and generators on a device against float64 on the CPU (run it first on a new GPU or CPU).")
            { device, tf32, seed, output };
        command.SetAction(parse => Cli.Run(() =>
        {
            if (parse.GetValue(output) is { } path)
            {
                OutputDir.CheckFile(path, "--out");
            }
            var dev = Components.Device(parse.GetValue(device)!);
            DeviceOption.CheckTf32(parse.GetValue(tf32), dev);
            var results = DeviceCheck.Run(dev, parse.GetValue(tf32), parse.GetValue(seed));
            // What ran it first: a table from another machine, or from this one under capped instruction sets, must say so.
            var table = new StringBuilder($"{Provenance.Describe()}\n\ndevice {dev.type}, float32 against float64 on the CPU\n\n"
                + "| check | relative error | bound | |\n|---|---|---|---|\n");
            foreach (var r in results)
                table.AppendLine($"| {r.Name} | {r.Error:E1} | {r.Bound:g1} | {(r.Passed ? "ok" : "FAILED")} |");
            Console.Write(table);
            if (parse.GetValue(output) is { } file) AtomicFile.WriteText(file, table.ToString());
            var failed = results.Count(r => !r.Passed);
            return failed == 0 ? 0 : Cli.Fail($"{failed} of {results.Count} device checks failed (see the table)", 1);
        }));
        return command;
    }
}
