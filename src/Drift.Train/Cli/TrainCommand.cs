using System.CommandLine;
using Drift.Train.Training;
using Microsoft.Extensions.Logging;

namespace Drift.Train.Cli;

/// <summary><c>drift train</c>: options map one-to-one onto <see cref="TrainConfig"/>; those given on the
/// command line override a --config file, which overrides the defaults.</summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var command = new Command("train", "Train a one-step generator with a drifting field.");
        var binder = AddOptions(command);

        var (configFile, outDir, resumeDir) = RunFolder.AddOptions(command);

        command.SetAction((parse, cancel) => Task.FromResult(Cli.Run(() =>
        {
            TrainConfig Apply(TrainConfig c) => binder.Apply(parse, c);
            var fromFile = parse.GetValue(configFile) is { } path ? TrainConfig.Load(path) : null;
            var resume = parse.GetValue(resumeDir);
            string dir;
            TrainConfig config;
            Checkpoint? checkpoint = null;
            if (resume is not null)
            {
                checkpoint = Checkpoint.Load(resume);
                config = Apply(fromFile ?? checkpoint.Config);
                RunFolder.CheckResumable(checkpoint, config.ToJson(), config.Steps, resume, parse.GetValue(outDir));
                dir = resume;
            }
            else
            {
                config = Apply(fromFile ?? new TrainConfig()).Resolved();
                if (Data.Images.ImageData.IsImageData(config.Data))
                    throw new UserError($"--data {config.Data} is image data: train on it with drift train-images --data {config.Data}");
                config.Validate();
                dir = RunFolder.New(parse.GetValue(outDir), config.Data, config.Field);
            }
            config.Validate();

            using var loggers = Cli.Loggers();
            var log = loggers.CreateLogger("drift");
            var result = Cli.WithProgress(config.Steps, checkpoint?.Step ?? 0, log, onStep => Trainer.Run(config, dir, checkpoint, log, onStep, cancel));

            log.LogInformation("{Steps} steps in {Seconds:F1} s; energy distance to held-out {Energy:g3} (data vs held-out: {Floor:g3})",
                result.Step, result.WallSeconds, result.Energy, result.Floor);
            log.LogInformation("wrote {Dir}: {Checkpoint}, {Config}, {Metrics}, {Samples}, {Curves}", dir, Checkpoint.FileName,
                Trainer.ConfigFile, MetricsLog.FileName, Trainer.SamplesPlot, Trainer.CurvesPlot);
            return result.Interrupted ? 130 : 0;
        })));
        return command;
    }

    /// <summary>The options that map onto <see cref="TrainConfig"/>, shared by train and compare.</summary>
    public static ConfigBinder<TrainConfig> AddOptions(Command command)
    {
        var binder = new ConfigBinder<TrainConfig>(command);
        binder.Bind(new Option<string>("--data") { Description = "Toy set (checkerboard, swissroll, 8gaussians, 25gaussians, moons, rings) or a CSV file of points. Default checkerboard." },
            (c, v) => c with { Data = v });
        binder.Bind(new Option<string>("--field") { Description = "conservative (KDE-gradient) or laplace (displacement). Default conservative." },
            (c, v) => c with { Field = v });
        binder.Bind(new Option<double[]>("--bandwidth") { Description = "Conservative field bandwidths h at the start, in standardised units. Default 0.4 0.8 1.6 3.2 (annealed to 1/8 of that).", AllowMultipleArgumentsPerToken = true },
            (c, v) => c with { Bandwidths = v });
        binder.Bind(new Option<double[]>("--temperature") { Description = "Laplace field temperatures tau, in standardised units. Default 0.05 0.2 0.5.", AllowMultipleArgumentsPerToken = true },
            (c, v) => c with { Temperatures = v });
        binder.Bind(new Option<string>("--self-term") { Description = "Conservative field: exclude (default, keeps repulsion) or include (the theory's form) a sample's own kernel in the model KDE." },
            (c, v) => c with { SelfTerm = v });
        binder.Bind(new Option<bool>("--normalize-scales") { Description = "Scale each bandwidth's/temperature's field to unit RMS before summing. Default true." },
            (c, v) => c with { NormalizeScales = v });
        binder.Bind(new Option<bool>("--standardize") { Description = "Train in per-dimension standardised coordinates (default true); samples are always in data units." },
            (c, v) => c with { Standardize = v });
        binder.Bind(new Option<double>("--anneal") { Description = "Bandwidths/temperatures shrink as exp(-r*step/steps) over the run. Default: ln 8 = 2.079 for conservative, 0 (fixed) for laplace." },
            (c, v) => c with { Anneal = v });
        binder.Bind(new Option<double>("--eta") { Description = "Drift size: the loss regresses x onto x + eta*V. Default 1." }, (c, v) => c with { Eta = v });
        binder.Bind(new Option<int>("--steps") { Description = "Training steps. Default 2000." }, (c, v) => c with { Steps = v });
        binder.Bind(new Option<int>("--batch") { Description = "Generated samples per step. Default 1024." }, (c, v) => c with { Batch = v });
        binder.Bind(new Option<int>("--positives") { Description = "Data samples per step. Default: as many as --batch." }, (c, v) => c with { Positives = v });
        binder.Bind(new Option<double>("--lr") { Description = "Adam learning rate (peak). Default 2e-3." }, (c, v) => c with { Lr = v });
        binder.Bind(new Option<string>("--lr-schedule") { Description = "cosine (default: decays to zero at the last step) or constant." },
            (c, v) => c with { LrSchedule = v });
        binder.Bind(new Option<long>("--seed") { Description = "Seed of the weights, noise and data draws. Default 0." }, (c, v) => c with { Seed = v });
        binder.Bind(new Option<string>("--device") { Description = "cpu (default) or cuda." }, (c, v) => c with { Device = v });
        binder.Bind(new Option<int>("--noise-dim") { Description = "Noise dimension. Default 8." }, (c, v) => c with { NoiseDim = v });
        binder.Bind(new Option<int>("--width") { Description = "Generator MLP width. Default 256." }, (c, v) => c with { Width = v });
        binder.Bind(new Option<int>("--depth") { Description = "Generator MLP hidden layers. Default 3." }, (c, v) => c with { Depth = v });
        binder.Bind(new Option<int>("--log-every") { Description = "Steps between metric rows. Default 10." }, (c, v) => c with { LogEvery = v });
        binder.Bind(new Option<int>("--eval-every") { Description = "Steps between energy-distance evaluations. Default 200." }, (c, v) => c with { EvalEvery = v });
        binder.Bind(new Option<int>("--eval-samples") { Description = "Generated and held-out points per evaluation. Default 2000." }, (c, v) => c with { EvalSamples = v });
        binder.Bind(new Option<int>("--checkpoint-every") { Description = "Steps between checkpoints (one is always written at the end). Default 500." }, (c, v) => c with { CheckpointEvery = v });
        return binder;
    }
}
