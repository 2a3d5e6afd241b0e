using System.Text;
using StbImageWriteSharp;
using TorchSharp;
using Drift.Train.RunFolders;
using static TorchSharp.torch;

namespace Drift.Train.Output;

/// <summary>Image grids as PNG, and raw samples as NumPy .npy (uint8, N×H×W×C) for other tools' metrics.</summary>
public static class ImageFiles
{
    private const int Pad = 2;

    /// <summary>Float images in [−1, 1] to uint8, clamping what a generator puts outside.</summary>
    public static Tensor ToBytes(Tensor unit) =>
        unit.add(1).mul_(127.5).round_().clamp_(0, 255).to_type(ScalarType.Byte);

    /// <summary>Tiles float images [N, C, H, W] in [−1, 1] into rows of <paramref name="columns"/> on a grey background.</summary>
    public static void Grid(string path, Tensor images, int columns)
    {
        using var scope = torch.NewDisposeScope();
        var (n, c, h, w) = ((int)images.shape[0], (int)images.shape[1], (int)images.shape[2], (int)images.shape[3]);
        columns = Math.Max(1, Math.Min(columns, n));
        var rows = (n + columns - 1) / columns;
        var height = rows * (h + Pad) + Pad;
        var width = columns * (w + Pad) + Pad;
        var canvas = torch.full([height, width, c], 128, dtype: ScalarType.Byte);
        var tiles = ToBytes(images.detach().cpu()).permute(0, 2, 3, 1);
        for (var i = 0; i < n; i++)
        {
            var (r, col) = (i / columns, i % columns);
            canvas.narrow(0, Pad + r * (h + Pad), h).narrow(1, Pad + col * (w + Pad), w).copy_(tiles[i]);
        }
        var bytes = canvas.contiguous().data<byte>().ToArray();
        AtomicFile.Write(path, tmp =>
        {
            using var stream = File.Create(tmp);
            new ImageWriter().WritePng(bytes, width, height, c == 1 ? ColorComponents.Grey : ColorComponents.RedGreenBlue, stream);
        });
    }

    /// <summary>Writes float images [N, C, H, W] in [−1, 1] as uint8 [N, H, W, C] (C dropped when 1).</summary>
    public static void Npy(string path, Tensor images)
    {
        using var scope = torch.NewDisposeScope();
        var bytes = ToBytes(images.detach().cpu()).permute(0, 2, 3, 1).contiguous();
        var shape = bytes.shape[3] == 1 ? bytes.shape[..3] : bytes.shape;
        WriteNpy(path, "|u1", shape, bytes.data<byte>().ToArray());
    }

    /// <summary>Where the labels of the images in <paramref name="npyPath"/> go: &lt;name&gt;.labels.npy beside it.</summary>
    public static string LabelsPath(string npyPath) => Path.ChangeExtension(npyPath, ".labels.npy");

    /// <summary>Writes int64 labels as a 1-D .npy.</summary>
    public static void NpyLabels(string path, long[] labels)
    {
        var bytes = new byte[labels.Length * sizeof(long)];
        Buffer.BlockCopy(labels, 0, bytes, 0, bytes.Length);
        WriteNpy(path, "<i8", [labels.Length], bytes);
    }

    /// <summary>NPY format 1.0: magic, header length, a Python dict literal padded to a multiple of 64, data.</summary>
    private static void WriteNpy(string path, string dtype, long[] shape, byte[] data)
    {
        var dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape);
        var header = $"{{'descr': '{dtype}', 'fortran_order': False, 'shape': ({dims}), }}";
        var total = 10 + header.Length + 1;
        header = header.PadRight(header.Length + (64 - total % 64) % 64) + "\n";
        AtomicFile.Write(path, tmp =>
        {
            using var stream = File.Create(tmp);
            using var w = new BinaryWriter(stream);
            w.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
            w.Write((ushort)header.Length);
            w.Write(Encoding.ASCII.GetBytes(header));
            w.Write(data);
        });
    }
}
