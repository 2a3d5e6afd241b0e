using MetadataExtractor;
using MetadataExtractor.Formats.Exif;
using static TorchSharp.torch;

namespace Drift.Data.Images;

/// <summary>
/// The EXIF orientation a camera writes instead of turning the pixels: a phone held upright stores its photo sideways
/// with orientation 6, and every viewer shows it turned. Left unapplied, a folder of photos trains on sideways and
/// mirrored images as well as upright ones.
/// </summary>
public static class ExifOrientation
{
    /// <summary>The file's orientation tag (1–8, EXIF 2.32 §4.6.4 A), or 1 (as stored) where it has none, names none of the
    /// eight, or its metadata cannot be read: viewers show such a file as stored, and stb_image has decoded its pixels, so
    /// no failure of the metadata reader's stops a run.</summary>
    public static int Read(byte[] file)
    {
        try
        {
            var tags = ImageMetadataReader.ReadMetadata(new MemoryStream(file)).OfType<ExifIfd0Directory>().FirstOrDefault();
            return tags is not null && tags.TryGetInt32(ExifDirectoryBase.TagOrientation, out var value) && value is >= 1 and <= 8 ? value : 1;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return 1;
        }
    }

    /// <summary>The [H, W, C] image as it is meant to be seen. The tag says where the stored first row and column belong:
    /// 2 mirrors left-right, 3 turns half round, 4 mirrors top-bottom; 5–8 show the stored rows as columns: 5 is the
    /// transpose, 6 the transpose mirrored left-right (a quarter turn clockwise), 7 mirrored both ways, 8 mirrored
    /// top-bottom (a quarter turn anticlockwise).</summary>
    public static Tensor Upright(Tensor hwc, int orientation) => orientation switch
    {
        1 => hwc,
        2 => hwc.flip(1),
        3 => hwc.flip(0, 1),
        4 => hwc.flip(0),
        5 => hwc.transpose(0, 1),
        6 => hwc.transpose(0, 1).flip(1),
        7 => hwc.transpose(0, 1).flip(0, 1),
        8 => hwc.transpose(0, 1).flip(0),
        _ => throw new ArgumentOutOfRangeException(nameof(orientation), orientation, "EXIF orientations are 1–8"),
    };
}
