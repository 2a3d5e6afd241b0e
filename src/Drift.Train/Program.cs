using System.CommandLine;
using Drift.Train;
using Drift.Train.Cli;

#if EXTERNAL_LIBTORCH
// When no libtorch is on LD_LIBRARY_PATH, TorchSharp falls back to copying ~600 MB of CPU libtorch out of
// the NuGet cache into the app folder; this build is meant to use the machine's own libtorch instead.
Environment.SetEnvironmentVariable("NUGET_PACKAGES", Path.Combine(AppContext.BaseDirectory, "no-nuget-fallback"));
#endif

// Numbers read and written the same on every machine: under a locale with decimal commas (LANG=de_DE.UTF-8) the
// report and eval tables mixed "0,003054" (formatted in the locale) with "0.06757" (formatted invariantly).
System.Globalization.CultureInfo.DefaultThreadCurrentCulture = System.Globalization.CultureInfo.InvariantCulture;
System.Globalization.CultureInfo.CurrentCulture = System.Globalization.CultureInfo.InvariantCulture;
NativeHeap.KeepFreedMemory();
var root = new RootCommand("drift: train one-step generators with drifting fields.")
{
    TrainCommand.Create(),
    TrainImagesCommand.Create(),
    SampleCommand.Create(),
    ParticlesCommand.Create(),
    FieldCommand.Create(),
    EvalCommand.Create(),
    RunsCommand.Create(),
    ClassifierCommand.Create(),
    ClassifierCommand.CreateEncoder(),
    CompareCommand.Create(),
    CompareImagesCommand.Create(),
    BenchCommand.Create(),
    ExportCommand.Create(),
    CheckCommand.Create(),
};
StrictNumbers.Apply(root);
using var signals = StopSignal.Install();
var parse = root.Parse(args);
if (ParseErrors.Find(parse) is { } error)
    return Cli.Fail(error, Cli.UsageError);
// Signals are StopSignal's: the runtime's own handling would end the process under a running step.
return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
