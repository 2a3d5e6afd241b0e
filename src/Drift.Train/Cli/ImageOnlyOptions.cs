using System.CommandLine;
using Drift.Train.RunFolders;
using Drift.Train.Training.Images;

namespace Drift.Train.Cli;

/// <summary>Options of sample and eval that only an image run reads (--class, --guidance, --ema, ...): given for a run of
/// points they would be dropped without a word, so they are refused.</summary>
public static class ImageOnlyOptions
{
    public static void Check(ParseResult parse, Checkpoint checkpoint, params Option[] options)
    {
        if (!checkpoint.Holds<ImageConfig>() && options.FirstOrDefault(o => parse.GetResult(o) is { Implicit: false }) is { } given)
            throw new UserError($"{given.Name} is for image runs; this checkpoint holds a run of points");
    }
}
