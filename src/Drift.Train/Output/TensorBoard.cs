using StbImageSharp;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Drift.Train.Output;

/// <summary>TensorBoard event files of a run (TorchSharp's SummaryWriter), in <c>&lt;run&gt;/tensorboard</c>;
/// <c>tensorboard --logdir</c> on a compare folder shows its runs side by side.</summary>
public static class TensorBoard
{
    public const string Folder = "tensorboard";

    public static SummaryWriter Open(string runDir) => torch.utils.tensorboard.SummaryWriter(Path.Combine(runDir, Folder));

    /// <summary>Adds a PNG the run already wrote (a plot) as an image.</summary>
    public static void AddPng(SummaryWriter writer, string tag, string path, long step)
    {
        var image = ImageResult.FromMemory(File.ReadAllBytes(path), ColorComponents.RedGreenBlue);
        using var hwc = torch.tensor(image.Data, [image.Height, image.Width, 3], ScalarType.Byte);
        writer.add_img(tag, hwc, (int)step, dataformats: "HWC");
    }
}
