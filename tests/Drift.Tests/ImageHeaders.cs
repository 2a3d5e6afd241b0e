namespace Drift.Tests;

/// <summary>Image files that are only a header, claiming what size they like: decompression bombs as a size check
/// sees them.</summary>
internal static class ImageHeaders
{
    /// <summary>A JPEG's start and frame header (8-bit, three components) and nothing after: all a size check reads.</summary>
    public static byte[] Jpeg(int width, int height) =>
        [0xFF, 0xD8, 0xFF, 0xC0, 0, 17, 8, (byte)(height >> 8), (byte)height, (byte)(width >> 8), (byte)width, 3, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0];

    /// <summary>A PNG signature and header chunk (8-bit RGB) and nothing after: all a size check reads (stb_image does not
    /// check the chunk's CRC, left zero).</summary>
    public static byte[] Png(int width, int height)
    {
        var bytes = new List<byte> { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, (byte)'I', (byte)'H', (byte)'D', (byte)'R' };
        bytes.AddRange(BitConverter.GetBytes(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(width)));
        bytes.AddRange(BitConverter.GetBytes(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(height)));
        bytes.AddRange([8, 2, 0, 0, 0, 0, 0, 0, 0]);
        return [.. bytes];
    }
}
