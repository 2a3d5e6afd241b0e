using System.IO.Compression;

namespace Drift.Data.Images;

/// <summary>
/// The MNIST file format: a big-endian magic (two zero bytes, a type code, the number of dimensions), the
/// dimensions, then the values. Only unsigned bytes (type 0x08) occur in image sets. Gzipped files are
/// read as they are.
/// </summary>
public static class IdxFile
{
    private const byte UnsignedByte = 0x08;

    public static (int[] Shape, byte[] Values) Read(string path)
    {
        byte[] bytes;
        try
        {
            bytes = InputFile.ReadAllBytes(path, "IDX file", InputFile.Largest);
            if (bytes.Length >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b)
                bytes = Gunzip(bytes, path);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            throw new DataError($"{path}: cannot read ({e.Message})");
        }
        if (bytes.Length < 4 || bytes[0] != 0 || bytes[1] != 0)
            throw new DataError($"{path}: not an IDX file (bad magic number)");
        if (bytes[2] != UnsignedByte)
            throw new DataError($"{path}: IDX value type 0x{bytes[2]:x2}, only unsigned bytes (0x08) are image data");
        var rank = bytes[3];
        if (rank is < 1 or > 4) throw new DataError($"{path}: IDX file with {rank} dimensions");
        var header = 4 + 4 * rank;
        if (bytes.Length < header) throw new DataError($"{path}: truncated IDX header");
        var shape = new int[rank];
        long count = 1;
        for (var i = 0; i < rank; i++)
        {
            shape[i] = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4 + 4 * i));
            if (shape[i] <= 0) throw new DataError($"{path}: an IDX dimension of {shape[i]}; a dataset needs at least one image of at least one pixel");
            count *= shape[i];
        }
        if (bytes.Length - header < count)
            throw new DataError($"{path}: truncated: header says {count} values, file holds {bytes.Length - header}");
        if (bytes.Length - header > count)
            throw new DataError($"{path}: {bytes.Length - header - count} bytes after the {count} values the header announces");
        return (shape, bytes[header..]);
    }

    /// <summary>The gzipped file's contents, refused once past what one read may hold (a file that inflates without end).</summary>
    private static byte[] Gunzip(byte[] bytes, string path)
    {
        using var gz = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
        using var plain = new MemoryStream();
        var chunk = new byte[1 << 20];
        for (int read; (read = gz.Read(chunk)) > 0;)
        {
            if (plain.Length + read > InputFile.Largest)
                throw new DataError($"{path}: inflates to more than {InputFile.Size(InputFile.Largest)}");
            plain.Write(chunk, 0, read);
        }
        return plain.ToArray();
    }

    /// <summary>Writes uint8 values in IDX format (uncompressed, or gzipped when the name ends in .gz).</summary>
    public static void Write(string path, int[] shape, byte[] values)
    {
        using var file = File.Create(path);
        using Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionLevel.Fastest) : file;
        stream.Write([0, 0, UnsignedByte, (byte)shape.Length]);
        Span<byte> dim = stackalloc byte[4];
        foreach (var d in shape)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(dim, d);
            stream.Write(dim);
        }
        stream.Write(values);
    }
}
