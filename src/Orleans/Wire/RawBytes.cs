using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using System.Runtime.InteropServices;

namespace FunctionalBackprop.Orleans.Wire;

/// <summary>
/// Arrays of reals seen as their bytes, and a list of arrays seen as one byte vector (the
/// parameters or a share, in the order of Parameters.arrays): the bits as they are in memory,
/// which both ends read the same way because both are little-endian (checked at start-up).
/// </summary>
internal static class RawBytes
{
    /// <summary>Throws unless this machine stores numbers little-endian, as every sender and receiver must.</summary>
    public static void CheckLittleEndian()
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("FunctionalBackprop.Orleans sends reals as little-endian bytes; this machine is big-endian.");
        }
    }

    /// <summary>Bytes per real: 8 for double, 4 for float.</summary>
    public static int SizeOf<T>()
        where T : IFloatingPointIeee754<T> =>
        typeof(T) == typeof(double) ? sizeof(double)
        : typeof(T) == typeof(float) ? sizeof(float)
        : throw new NotSupportedException($"Distributed training supports double and float networks, not {typeof(T).Name}.");

    /// <summary>The array's memory as bytes (no copy).</summary>
    public static Span<byte> Of<T>(T[] values)
        where T : IFloatingPointIeee754<T> => values switch
        {
            double[] d => MemoryMarshal.AsBytes(d.AsSpan()),
            float[] f => MemoryMarshal.AsBytes(f.AsSpan()),
            _ => throw new NotSupportedException($"Distributed training supports double and float networks, not {typeof(T).Name}."),
        };

    /// <summary>A new array of reals holding these bytes.</summary>
    public static T[] ToArray<T>(ReadOnlySpan<byte> bytes)
        where T : IFloatingPointIeee754<T>
    {
        var values = new T[bytes.Length / SizeOf<T>()];
        bytes.CopyTo(Of(values));
        return values;
    }

    /// <summary>The total length in bytes of the arrays laid end to end.</summary>
    public static long Length<T>(IEnumerable<T[]> arrays)
        where T : IFloatingPointIeee754<T>
    {
        long length = 0;
        foreach (var a in arrays)
        {
            length += (long)a.Length * SizeOf<T>();
        }

        return length;
    }

    /// <summary>Copies <paramref name="source"/> into the arrays laid end to end, from byte <paramref name="offset"/> on.</summary>
    public static void Write<T>(IEnumerable<T[]> arrays, long offset, ReadOnlySpan<byte> source)
        where T : IFloatingPointIeee754<T>
    {
        var list = arrays as IReadOnlyList<T[]> ?? arrays.ToList();
        var lengths = list.Select(a => a.Length * SizeOf<T>()).ToArray();
        foreach (var (array, start, done, n) in Segments(lengths, offset, source.Length))
        {
            source.Slice(done, n).CopyTo(Of(list[array]).Slice(start, n));
        }
    }

    /// <summary>Copies the arrays' bytes from <paramref name="offset"/> on into <paramref name="target"/>, filling it.</summary>
    public static void Read<T>(IEnumerable<T[]> arrays, long offset, Span<byte> target)
        where T : IFloatingPointIeee754<T>
    {
        var list = arrays as IReadOnlyList<T[]> ?? arrays.ToList();
        var lengths = list.Select(a => a.Length * SizeOf<T>()).ToArray();
        foreach (var (array, start, done, n) in Segments(lengths, offset, target.Length))
        {
            Of(list[array]).Slice(start, n).CopyTo(target.Slice(done, n));
        }
    }

    /// <summary>Copies bytes of the byte arrays laid end to end, from <paramref name="offset"/> on, into <paramref name="target"/>, filling it.</summary>
    public static void Read(IReadOnlyList<byte[]> parts, long offset, Span<byte> target)
    {
        foreach (var (part, start, done, n) in Segments(parts.Select(p => p.Length).ToArray(), offset, target.Length))
        {
            parts[part].AsSpan(start, n).CopyTo(target.Slice(done, n));
        }
    }

    /// <summary>
    /// The pieces of bytes offset … offset + count − 1 of arrays of the given byte lengths laid
    /// end to end: (array, first byte in it, bytes before this piece, bytes in it).
    /// </summary>
    private static IEnumerable<(int Array, int Start, int Done, int Count)> Segments(int[] lengths, long offset, int count)
    {
        var done = 0;
        for (var a = 0; a < lengths.Length && done < count; a++)
        {
            if (offset >= lengths[a])
            {
                offset -= lengths[a];
                continue;
            }

            var n = (int)Math.Min(lengths[a] - offset, count - done);
            yield return (a, (int)offset, done, n);
            done += n;
            offset = 0;
        }

        if (done < count)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), "The range runs past the end of the arrays.");
        }
    }

    /// <summary>
    /// The chunks of a byte vector of <paramref name="length"/> bytes sent <paramref name="chunkBytes"/>
    /// at a time: each one's index, offset and length, in order (the last may be shorter). Every
    /// transfer of the wire — the upload, the parameters, the shares — walks its bytes this way.
    /// </summary>
    public static IEnumerable<(int Index, long Offset, int Length)> Chunks(long length, int chunkBytes)
    {
        var index = 0;
        for (long offset = 0; offset < length; offset += chunkBytes)
        {
            yield return (index++, offset, ChunkAt(length, offset, chunkBytes));
        }
    }

    /// <summary>The length of the chunk at <paramref name="offset"/> of a byte vector of <paramref name="length"/> bytes sent <paramref name="chunkBytes"/> at a time.</summary>
    public static int ChunkAt(long length, long offset, int chunkBytes) => (int)Math.Min(chunkBytes, length - offset);

    /// <summary>The arrays' bytes from <paramref name="offset"/>, <paramref name="count"/> of them, in a new array.</summary>
    public static byte[] Chunk<T>(IEnumerable<T[]> arrays, long offset, int count)
        where T : IFloatingPointIeee754<T>
    {
        var chunk = new byte[count];
        Read(arrays, offset, chunk);
        return chunk;
    }
}
