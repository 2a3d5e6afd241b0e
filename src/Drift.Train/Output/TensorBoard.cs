using Drift.Data;
using StbImageSharp;
using TorchSharp;
using TorchSharp.Modules;
using Drift.Train.RunFolders;
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
    /// <remarks>Two halves, so that a resume checks everything before it changes anything: <see cref="PlanDropAfter"/>
    /// reads and checks every event file (a damaged one is a <see cref="UserError"/>, the folder untouched), and the
    /// plan's <see cref="DropPlan.Apply"/> writes them.</remarks>
    public static DropPlan PlanDropAfter(string runDir, long step)
    {
        var dir = Path.Combine(runDir, RunFiles.TensorBoard);
        if (!Directory.Exists(dir)) return new DropPlan([]);
        var rewrites = new List<(string, byte[])>();
        foreach (var path in Directory.EnumerateFileSystemEntries(dir, "events.out.tfevents.*"))
        {
            var bytes = InputFile.ReadAllBytes(path, "TensorBoard event file", InputFile.Largest);
            var kept = new MemoryStream();
            var dropped = false;
            for (var at = 0; at + 12 <= bytes.Length;)
            {
                UserError Damaged() => new($"{path} is damaged (the record at byte {at} fails its checksum); move it out of {dir} to resume");
                if (MaskedCrc(bytes.AsSpan(at, 8)) != BitConverter.ToUInt32(bytes, at + 8)) throw Damaged();
                var length = (long)BitConverter.ToUInt64(bytes, at);
                var size = 12 + length + 4;
                if (length < 0 || at + size > bytes.Length) { dropped = true; break; } // a record a crash cut short
                if (MaskedCrc(bytes.AsSpan(at + 12, (int)length)) != BitConverter.ToUInt32(bytes, at + 12 + (int)length)) throw Damaged();
                Tensorboard.Event record;
                try { record = Tensorboard.Event.Parser.ParseFrom(bytes, at + 12, (int)length); }
                catch (Google.Protobuf.InvalidProtocolBufferException) { throw Damaged(); }
                if (record.Step <= step)
                    kept.Write(bytes, at, (int)size);
                else
                    dropped = true;
                at += (int)size;
            }
            if (dropped) rewrites.Add((path, kept.ToArray()));
        }
        return new DropPlan(rewrites);
    }

    /// <summary>TFRecord's checksum: CRC-32C, rotated right by 15 bits plus a constant.</summary>
    private static uint MaskedCrc(ReadOnlySpan<byte> data)
    {
        var crc = uint.MaxValue;
        // Eight bytes at a time (the instruction reads them in memory order), then the rest one by one.
        for (; data.Length >= 8; data = data[8..])
            crc = System.Numerics.BitOperations.Crc32C(crc, System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(data));
        foreach (var b in data) crc = System.Numerics.BitOperations.Crc32C(crc, b);
        crc = ~crc;
        return ((crc >> 15) | (crc << 17)) + 0xa282ead8;
    }

    /// <summary>The event files to rewrite, each with the records it keeps.</summary>
    public sealed class DropPlan(IReadOnlyList<(string Path, byte[] Kept)> rewrites)
    {
        public void Apply()
        {
            foreach (var (path, kept) in rewrites)
                AtomicFile.Write(path, tmp => File.WriteAllBytes(tmp, kept));
        }
    }

    /// <summary>A metrics.csv row as scalars: loss, velocity_rms, field_rms/&lt;scale&gt;, the evaluated metrics and the field's diagnostics.</summary>
    public static void AddRow(SummaryWriter writer, LoggedStep row, IReadOnlyList<string> scaleNames, IReadOnlyList<string> metrics,
        IReadOnlyList<string> diagnostics)
    {
        var step = (int)row.Step;
        writer.add_scalar("loss", (float)row.Loss, step);
        writer.add_scalar("velocity_rms", (float)row.VelocityRms, step);
        for (var i = 0; i < row.ScaleRms.Length; i++)
            writer.add_scalar($"field_rms/{scaleNames[i]}", (float)row.ScaleRms[i], step);
        for (var i = 0; i < (row.Evaluated?.Length ?? 0); i++)
            writer.add_scalar(metrics[i], (float)row.Evaluated![i], step);
        for (var i = 0; i < (row.Diagnostics?.Length ?? 0); i++)
            writer.add_scalar(diagnostics[i], (float)row.Diagnostics![i], step);
    }

    /// <summary>Adds a PNG the run already wrote (a plot) as an image.</summary>
    public static void AddPng(SummaryWriter writer, string tag, string path, long step)
    {
        var image = ImageResult.FromMemory(InputFile.ReadAllBytes(path, "plot", InputFile.GiB), ColorComponents.RedGreenBlue);
        using var hwc = torch.tensor(image.Data, [image.Height, image.Width, 3], ScalarType.Byte);
        writer.add_img(tag, hwc, (int)step, dataformats: "HWC");
    }
}
