using StbImageSharp;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Drift.Train.Output;

/// <summary>TensorBoard event files of a run (TorchSharp's SummaryWriter), in <c>&lt;run&gt;/tensorboard</c>;
/// <c>tensorboard --logdir</c> on a compare folder shows its runs side by side.</summary>
public static class TensorBoard
{
    public static SummaryWriter Open(string runDir) => torch.utils.tensorboard.SummaryWriter(Path.Combine(runDir, RunFiles.TensorBoard));

    /// <summary>A metrics.csv row as scalars: loss, velocity_rms, field_rms/&lt;scale&gt; and the evaluated metric.</summary>
    public static void AddRow(SummaryWriter writer, LoggedStep row, IReadOnlyList<string> scaleNames, string metric)
    {
        var step = (int)row.Step;
        writer.add_scalar("loss", (float)row.Loss, step);
        writer.add_scalar("velocity_rms", (float)row.VelocityRms, step);
        for (var i = 0; i < row.ScaleRms.Length; i++)
            writer.add_scalar($"field_rms/{scaleNames[i]}", (float)row.ScaleRms[i], step);
        if (row.Metric is { } m)
            writer.add_scalar(metric, (float)m, step);
    }

    /// <summary>Adds a PNG the run already wrote (a plot) as an image.</summary>
    public static void AddPng(SummaryWriter writer, string tag, string path, long step)
    {
        var image = ImageResult.FromMemory(File.ReadAllBytes(path), ColorComponents.RedGreenBlue);
        using var hwc = torch.tensor(image.Data, [image.Height, image.Width, 3], ScalarType.Byte);
        writer.add_img(tag, hwc, (int)step, dataformats: "HWC");
    }
}
