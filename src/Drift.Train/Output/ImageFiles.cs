using NumSharp;
using StbImageWriteSharp;
using TorchSharp;
using Drift.Data.Images;
using Drift.Train.RunFolders;
using static TorchSharp.torch;

namespace Drift.Train.Output;

/// <summary>Image grids as PNG, and raw samples as NumPy .npy (uint8, N×H×W×C) for other tools' metrics.</summary>
public static class ImageFiles
{
    private const int Pad = 2;

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
        var tiles = ImageSet.ToBytes(images.detach().cpu()).permute(0, 2, 3, 1);
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

    /// <summary>Writes float images [N, C, H, W] in [−1, 1] as uint8 [N, H, W, C] (C dropped when 1), the layout
    /// <see cref="NpyImages"/> reads.</summary>
    public static void Npy(string path, Tensor images)
    {
        using var scope = torch.NewDisposeScope();
        var bytes = ImageSet.ToBytes(images.detach().cpu()).permute(0, 2, 3, 1).contiguous();
        var shape = (bytes.shape[3] == 1 ? bytes.shape[..3] : bytes.shape).Select(d => (int)d).ToArray();
        NpyWriter.Write(path, np.array(bytes.data<byte>().ToArray()).reshape(shape));
    }

    /// <summary>Writes int64 labels as a 1-D .npy.</summary>
    public static void NpyLabels(string path, long[] labels) => NpyWriter.Write(path, np.array(labels));
}
