using System.CommandLine;
using Drift.Train.Training;
using Drift.Train.Training.Images;
using Microsoft.Extensions.Logging;
using Drift.Train.RunFolders;

namespace Drift.Train.Cli;

/// <summary><c>drift classifier</c>: trains the classifier whose features and predictions the image metrics
/// use. <c>drift encoder</c>: the same network from another seed, in its own folder, whose features a
/// generator can train in (<c>--features encoder --encoder DIR</c>); a separate network, so the metric
/// does not judge in the very features the generator was fitted to.</summary>
public static class ClassifierCommand
{
    public static Command Create() => Build("classifier", "Train the classifier behind the image metrics (FD-<dataset>, precision/recall, class coverage).",
        "classifier", 0);

    public static Command CreateEncoder() => Build("encoder", "Train a frozen feature encoder for image training (--features encoder).", "encoder", 1);

    private static Command Build(string name, string description, string folder, long defaultSeed)
    {
        var data = new Option<string>("--data") { Description = "Image data, as for train-images. Default fashion-mnist.", DefaultValueFactory = _ => Drift.Data.Images.ImageData.FashionMnist };
        var imageSize = new Option<int>("--image-size")
        {
            Description = $"Side in pixels; must match the generators {(name == "encoder" ? "that train in its features" : "it will judge")}. Default: the dataset's own.",
        };
        var epochs = new Option<int>("--epochs") { Description = "Passes over the training set. Default 2.", DefaultValueFactory = _ => 2 };
        var batch = new Option<int>("--batch") { Description = "Mini-batch size. Default 128.", DefaultValueFactory = _ => 128 };
        var seed = new Option<long>("--seed") { Description = $"Seed. Default {defaultSeed}.", DefaultValueFactory = _ => defaultSeed };
        var device = DeviceOption.Create();
        var outDir = new Option<string>("--out") { Description = $"Folder for classifier.bin. Default checkpoints/{folder}-<data>." };
        var architecture = ChoiceOption.Create<Drift.Models.ClassifierArchitecture>("--architecture", "architecture",
            "conv (default: stages of 3x3 convolutions, flattened) or pooled (wider 5x5 convolutions with group norm, global average pooling): "
            + "a second metric network that shares no architecture with the first (drift eval --classifier A B).");
        var command = new Command(name, description) { data, imageSize, epochs, batch, seed, device, outDir, architecture };
        command.SetAction(parse => Cli.Run(() =>
        {
            var spec = parse.GetValue(data)!;
            ConfigJson.Within("--epochs", parse.GetValue(epochs), 1, 1000);
            ConfigJson.Within("--batch", parse.GetValue(batch), 1, 1 << 16);
            if (parse.GetResult(imageSize) is { Implicit: false })
                ConfigJson.Within("--image-size", parse.GetValue(imageSize), 8, 512);
            var dir = parse.GetValue(outDir) ?? ClassifierFile.DefaultDir(spec, folder);
            OwnedFolder.Check(dir, FolderKind.Classifier, "classifier folder");
            var dev = Components.Device(parse.GetValue(device)!);
            using var loggers = Cli.Loggers();
            var log = loggers.CreateLogger("drift");
            var info = ClassifierTrainer.Run(spec, parse.GetValue(imageSize), parse.GetValue(epochs), parse.GetValue(batch), parse.GetValue(seed), dir, dev, log,
                parse.GetValue(architecture));
            log.LogInformation("wrote {Path}: test accuracy {Accuracy:P2}", Path.Combine(dir, ClassifierFile.FileName), info.TestAccuracy);
            return 0;
        }));
        return command;
    }
}
