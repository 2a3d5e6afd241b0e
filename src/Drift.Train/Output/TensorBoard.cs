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

    /// <summary>Drops the events past <paramref name="step"/> from the run's event files, as a resume drops the
    /// metrics.csv rows past its checkpoint: the resumed run logs those steps again, and TensorBoard would
    /// otherwise draw both. An event file is a sequence of records: length (8 bytes), its masked CRC (4), the
    /// serialized Event, its masked CRC (4); records are copied unchanged, so their CRCs stay valid.</summary>
    public static void DropAfter(string runDir, long step)
    {
        var dir = Path.Combine(runDir, RunFiles.TensorBoard);
        if (!Directory.Exists(dir)) return;
        foreach (var path in Directory.EnumerateFiles(dir, "events.out.tfevents.*"))
        {
            var bytes = File.ReadAllBytes(path);
            var kept = new MemoryStream();
            var dropped = false;
            for (var at = 0; at + 12 <= bytes.Length;)
            {
                var length = (int)BitConverter.ToUInt64(bytes, at);
                var size = 12 + length + 4;
                if (length < 0 || at + size > bytes.Length) { dropped = true; break; } // a record a crash cut short
                if (Tensorboard.Event.Parser.ParseFrom(bytes, at + 12, length).Step <= step)
                    kept.Write(bytes, at, size);
                else
                    dropped = true;
                at += size;
            }
            if (dropped)
                AtomicFile.Write(path, tmp => File.WriteAllBytes(tmp, kept.ToArray()));
        }
    }

    /// <summary>A metrics.csv row as scalars: loss, velocity_rms, field_rms/&lt;scale&gt; and the evaluated metrics.</summary>
    public static void AddRow(SummaryWriter writer, LoggedStep row, IReadOnlyList<string> scaleNames, IReadOnlyList<string> metrics)
    {
        var step = (int)row.Step;
        writer.add_scalar("loss", (float)row.Loss, step);
        writer.add_scalar("velocity_rms", (float)row.VelocityRms, step);
        for (var i = 0; i < row.ScaleRms.Length; i++)
            writer.add_scalar($"field_rms/{scaleNames[i]}", (float)row.ScaleRms[i], step);
        for (var i = 0; i < (row.Evaluated?.Length ?? 0); i++)
            writer.add_scalar(metrics[i], (float)row.Evaluated![i], step);
    }

    /// <summary>Adds a PNG the run already wrote (a plot) as an image.</summary>
    public static void AddPng(SummaryWriter writer, string tag, string path, long step)
    {
        var image = ImageResult.FromMemory(File.ReadAllBytes(path), ColorComponents.RedGreenBlue);
        using var hwc = torch.tensor(image.Data, [image.Height, image.Width, 3], ScalarType.Byte);
        writer.add_img(tag, hwc, (int)step, dataformats: "HWC");
    }
}
