using System.CommandLine;
using Drift.Train.Training;

namespace Drift.Train.Cli;

/// <summary><c>--noise-scale</c> of the commands that sample a saved generator (sample, eval).</summary>
public static class NoiseScaleOption
{
    public static Option<double> Create() => new("--noise-scale")
    {
        Description = "Scale of the generator's standard normal noise: below 1 more precise, above 1 more varied samples. "
            + $"Default 1 (the distribution it trained on); at most {SamplingNoise.MaxScale:g3}.",
        DefaultValueFactory = _ => 1.0,
    };

    /// <summary>The scale given, checked before any work.</summary>
    public static double Value(ParseResult parse, Option<double> option)
    {
        var scale = parse.GetValue(option);
        SamplingNoise.Check(scale);
        return scale;
    }
}
