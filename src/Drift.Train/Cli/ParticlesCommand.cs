using System.CommandLine;
using System.Globalization;
using Drift.Loss;
using Drift.Particles;
using Drift.Train.Particles;
using Microsoft.Extensions.Logging;
using Drift.Train.RunFolders;

namespace Drift.Train.Cli;

/// <summary><c>drift particles</c>: one finite-particle run, or with --sweep-n a rate study over N and d.</summary>
public static class ParticlesCommand
{
    public static Command Create()
    {
        var command = new Command("particles", "Move N particles by a drifting field (no network) and measure how close they get.");
        var binder = new ConfigBinder<ParticleConfig>(command);
        binder.Bind(FieldOptions.Field(), (c, v) => c with { Field = v });
        binder.Bind(ChoiceOption.Create<SelfTerm>("--self-term", "self term", $"{FieldKind.Names(f => f.Takes(FieldKnob.SelfTerm), "and")}: include (default, the theory's form) or exclude each particle's own kernel in the particle KDE."),
            (c, v) => c with { SelfTerm = v }, c => c.Field.Takes(FieldKnob.SelfTerm), $"by the {FieldKind.Names(f => f.Takes(FieldKnob.SelfTerm), "and")} fields");
        binder.Bind(new Option<string>("--target") { Description = "gaussian (N(0,I), default), mixture (modes at ±2 on the first two axes, std 0.5), line (--modes modes of std 0.5 along the first axis, --spacing apart) or uniform (the cube [-√3, √3]^d)." }, (c, v) => c with { Target = v });
        binder.Bind(new Option<int>("--modes") { Description = "Line target: number of modes. Default 4." }, (c, v) => c with { Modes = v }, c => c.Target == "line", "with --target line");
        binder.Bind(new Option<double>("--spacing") { Description = "Line target: distance between neighbouring modes. Default 2." }, (c, v) => c with { Spacing = v }, c => c.Target == "line", "with --target line");
        binder.Bind(new Option<int>("--target-samples") { Description = $"M fixed target samples for the field; 0 (default): the exact smoothed target score ({FieldKind.Names(f => f.ExactVelocity is not null)}), M = N ({FieldKind.Names(f => f.ExactVelocity is null)})." }, (c, v) => c with { TargetSamples = v });
        binder.Bind(new Option<string>("--start") { Description = "shifted (default: the target moved by 2 along the first axis), target, or normal." }, (c, v) => c with { Start = v });
        binder.Bind(new Option<int>("--n") { Description = "Particles. Default 512." }, (c, v) => c with { N = v });
        binder.Bind(new Option<int>("--dim") { Description = "Dimension. Default 2." }, (c, v) => c with { Dim = v });
        binder.Bind(new Option<double>("--bandwidth") { Description = "Fixed bandwidth h; default 0: h = c·N^(-1/(d+4-β)) with c = --bandwidth-scale, β = --beta." }, (c, v) => c with { Bandwidth = v });
        binder.Bind(new Option<double>("--bandwidth-scale") { Description = "c in h = c·N^(-1/(d+4-β)). Default 1." }, (c, v) => c with { BandwidthScale = v }, c => c.Bandwidth == 0, "by the automatic bandwidth (no --bandwidth)");
        binder.Bind(new Option<double>("--beta") { Description = "β in [0, 2) of the bandwidth rule h = c·N^(-1/(d+4-β)), whose bound is N^(-(2-β)/(2(d+4-β))). Default 0." }, (c, v) => c with { Beta = v });
        binder.Bind(new Option<double>("--temperature") { Description = $"Temperature of the {FieldKind.Names(f => f.Scale == FieldScale.Temperature)} field. Default 0.5." }, (c, v) => c with { Temperature = v },
            c => c.Field.Scale == FieldScale.Temperature, $"by the {FieldKind.Names(f => f.Scale == FieldScale.Temperature)} field");
        binder.Bind(new Option<double>("--anneal") { Description = "Scales shrink as exp(-r·t/T) over the run. Default 0 (fixed)." }, (c, v) => c with { Anneal = v });
        binder.Bind(new Option<bool>("--displacement") { Description = $"Move by the mean shift h^2*V (the drifting paper's Gaussian-kernel field) instead of the score difference V. {FieldKind.Names(f => !f.IsDisplacement, "and")}; default false." },
            (c, v) => c with { Displacement = v });
        binder.Bind(new Option<double>("--anneal-time") { Description = "Shrink the scales over this time only (exp(-r·t/T') up to T', then hold). Default 0: the whole run." }, (c, v) => c with { AnnealTime = v }, c => c.Anneal > 0, "with --anneal");
        binder.Bind(new Option<double>("--time") { Description = "Total time T. Default 2." }, (c, v) => c with { Time = v });
        binder.Bind(new Option<double>("--eta") { Description = $"Euler step; default 0: 0.25·h² at the final bandwidth ({FieldKind.Names(f => !f.IsDisplacement, "and")}), 0.1 ({FieldKind.Names(f => f.IsDisplacement, "and")})." }, (c, v) => c with { Eta = v });
        binder.Bind(new Option<int>("--record-every") { Description = "Steps between measurements. Default 10." }, (c, v) => c with { RecordEvery = v });
        binder.Bind(new Option<int>("--fisher-points") { Description = "Fresh target points per Fisher estimate. Default 1024." }, (c, v) => c with { FisherPoints = v });
        binder.Bind(new Option<long>("--seed") { Description = "Seed (a sweep uses seed, seed+1, ...). Default 0." }, (c, v) => c with { Seed = v });
        binder.Bind(new Option<double>("--blowup") { Description = "Distance from the origin past which a particle counts as diverged. Default 1e4." }, (c, v) => c with { Blowup = v });
        var sweepN = ListOption.Create("--sweep-n", "Rate study: particle counts, separated by commas or spaces, e.g. 64,256,1024.");
        var dims = ListOption.Create("--dims", "Rate study: dimensions, separated by commas or spaces. Default 1,2,4.", "1,2,4");
        var seeds = new Option<int>("--seeds") { Description = "Rate study: seeds per (N, d). Default 3.", DefaultValueFactory = _ => 3 };
        var outDir = new Option<string>("--out") { Description = "Output folder. Default checkpoints/particles-<field>." };
        command.Options.Add(sweepN);
        command.Options.Add(dims);
        command.Options.Add(seeds);
        command.Options.Add(outDir);

        command.SetAction(parse => Cli.Run(() =>
        {
            var config = binder.Apply(parse, new ParticleConfig());
            try { config.Validate(); }
            catch (ArgumentException e) { throw new UserError(e.Message); }
            binder.CheckRead(parse, [config]);
            // A list option not given reads as an empty list: only a given --sweep-n makes a rate study.
            var sweep = parse.GetResult(sweepN) is null ? null : parse.GetValue(sweepN);
            // A rate study sets N and d by its lists; a single run has none.
            var unread = sweep is null ? new Option[] { dims, seeds }.FirstOrDefault(o => parse.GetResult(o) is { Implicit: false })
                : command.Options.FirstOrDefault(o => o.Name is "--n" or "--dim" && parse.GetResult(o) is { Implicit: false });
            if (unread is not null)
                throw new UserError(sweep is null ? $"{unread.Name} is read only by a rate study (--sweep-n)" : $"{unread.Name} is not read by a rate study: --sweep-n and --dims set its runs' sizes");
            var dir = parse.GetValue(outDir) ?? Path.Combine("checkpoints", $"particles-{config.Field.Name}");
            OwnedFolder.Check(dir, FolderKind.Particles, "output folder");
            // One writer at a time: a second study into the folder meanwhile would mix its files with this one's.
            using var held = RunLock.Acquire(dir, RunLock.NoCheckpoint);
            if (OwnedFolder.Present(dir, sweep is null ? FolderKind.RateStudyFiles : FolderKind.ParticleRunFiles) is { Count: > 0 } other)
                throw new UserError($"{dir} holds {(sweep is null ? "a rate study" : "a particle run")} ({string.Join(", ", other)}); "
                    + $"write {(sweep is null ? "this run" : "the rate study")} to another --out");
            using var loggers = Cli.Loggers();
            var log = loggers.CreateLogger("drift");
            if (sweep is { } text)
            {
                var seedCount = parse.GetValue(seeds);
                if (seedCount < 1) throw new UserError($"--seeds must be at least 1, got {seedCount}");
                var ns = Ints("--sweep-n", text, 2, ParticleConfig.MaxParticles);
                var study = RateStudy.Run(config, ns, Ints("--dims", parse.GetValue(dims)!, 1, 1024), seedCount, line => log.LogInformation("{Run}", line));
                ParticleReport.WriteRates(dir, config, ns, seedCount, study);
                foreach (var r in study.Rates)
                    if (r.Fit is { } fit)
                        log.LogInformation("d={Dim} {Quantity}: slope {Slope:F3} [{Low:F3}, {High:F3}] ({Method}), predicted {Predicted:F3}",
                            r.Dim, r.Quantity, fit.Slope, (r.PerSeed ?? fit).Lower, (r.PerSeed ?? fit).Upper,
                            r.PerSeed is null ? "pooled runs" : $"{r.PerSeed.Points} seeds", r.Predicted);
                    else
                        log.LogWarning("d={Dim} {Quantity}: no fit ({Reason})", r.Dim, r.Quantity, r.NoFit);
                log.LogInformation("wrote {Dir}: rates.md, rates.csv, sweep.csv, rates.png", dir);
                return 0;
            }

            var run = Cli.WithCount("moving particles", config.Steps, "step", report => ParticleSystem.Run(config, report));
            ParticleReport.Write(dir, run);
            if (run.Diverged is { } d)
                log.LogWarning("diverged at step {Step} (t={Time:g3}): particle {Particle}, |x| = {Norm:g3}", d.Step, d.Time, d.Particle, d.Norm);
            log.LogInformation("h={H:g3}, eta={Eta:g3}, {Steps} steps in {Seconds:F1} s: root time-averaged velocity {V:g4}, late {Late:g4}, "
                + "root smoothed Fisher {F:g4}, energy distance {E:g4}", config.InitialBandwidth, run.Eta, run.Steps, run.Seconds,
                run.RootTimeAveragedVelocity, run.RootLateVelocity, run.RootFisher, run.Energy);
            log.LogInformation("wrote {Dir}: trace.csv, curves.png, particles.png", dir);
            return 0;
        }));
        return command;
    }

    private static int[] Ints(string name, string[] given, int min, int max)
    {
        var values = ListOption.Items(given)
            .Select(s => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : int.MinValue).ToArray();
        if (values.Length == 0 || values.Any(v => v < min || v > max))
            throw new UserError($"{name} takes integers from {min} to {max}, separated by commas or spaces, got '{string.Join(' ', given)}'");
        return values;
    }
}
