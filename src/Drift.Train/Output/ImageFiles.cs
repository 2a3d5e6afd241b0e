using NumSharp;
using StbImageWriteSharp;
using TorchSharp;
using Drift.Data.Images;
using Drift.Train.RunFolders;
using static TorchSharp.torch;

namespace Drift.Train.Output;

/// <summary>Image grids as PNG, and raw samples for other tools' metrics: NumPy .npy (uint8, N×H×W×C) or a folder of PNGs.</summary>
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

    /// <summary>Writes float images [N, C, H, W] in [−1, 1] as one PNG each, <c>NNNNNN.png</c> by its place among them, the
    /// layout FID tools and torchvision's ImageFolder read: in a folder per class (<see cref="ImageData.ClassFolder"/> of
    /// <paramref name="classNames"/>[label]) or, where <paramref name="classNames"/> is null, all in
    /// <paramref name="dir"/>. The folder appears whole or not at all (<see cref="AtomicFile.WriteFolder"/>);
    /// <paramref name="written"/> is told the images written so far after each.</summary>
    public static void Folder(string dir, Tensor images, long[] labels, IReadOnlyList<string>? classNames, Action<long>? written = null)
    {
        using var scope = torch.NewDisposeScope();
        var (n, c, h, w) = ((int)images.shape[0], (int)images.shape[1], (int)images.shape[2], (int)images.shape[3]);
        var bytes = ImageSet.ToBytes(images.detach().cpu()).permute(0, 2, 3, 1).contiguous().data<byte>().ToArray();
        var size = h * w * c;
        var digits = Math.Max(6, (n - 1).ToString().Length);
        var writer = new ImageWriter();
        AtomicFile.WriteFolder(dir, tmp =>
        {
            var folders = labels.Select(l => classNames is null ? tmp : Path.Combine(tmp, ImageData.ClassFolder(classNames[(int)l]))).ToArray();
            // Every folder before any file: a folder abandoned on a signal is moved away and must not be made again here.
            foreach (var folder in folders.Distinct()) Directory.CreateDirectory(folder);
            for (var i = 0; i < n; i++)
            {
                using var stream = File.Create(Path.Combine(folders[i], $"{i.ToString().PadLeft(digits, '0')}.png"));
                writer.WritePng(bytes[(i * size)..((i + 1) * size)], w, h, c == 1 ? ColorComponents.Grey : ColorComponents.RedGreenBlue, stream);
                written?.Invoke(i + 1);
            }
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
