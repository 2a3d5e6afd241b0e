using System.CommandLine;
using Drift.Train.Cli;

var root = new RootCommand("drift: train one-step generators with drifting fields.")
{
    TrainCommand.Create(),
    SampleCommand.Create(),
};
var parse = root.Parse(args);
if (parse.Errors.Count > 0)
    return Cli.Fail(parse.Errors[0].Message + " (see drift --help)", Cli.UsageError);
return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(60) });
