using System;
using System.Buffers.Binary;
using System.IO;
using System.Linq;
using System.Numerics;
using Proto = global::Onnx;
using DataType = global::Onnx.TensorProto.Types.DataType;

namespace FunctionalBackprop.Onnx.Import;

/// <summary>
/// Decoding constant tensors (initializers and Constant nodes). Every size a tensor claims is
/// checked against the values it actually holds before anything is allocated for it, so dims
/// that claim 10⁹ elements over a few bytes of data cost nothing but the refusal.
/// </summary>
internal static class Tensors
{
    /// <summary>The tensor's dims, each checked to be 0 or more.</summary>
    public static long[] Shape(Proto.TensorProto tensor, string what)
    {
        var dims = tensor.Dims.ToArray();
        foreach (var d in dims)
        {
            if (d < 0)
            {
                throw new InvalidDataException($"{what} has a negative dimension ({d}) in its shape [{string.Join(", ", dims)}].");
            }
        }

        return dims;
    }

    /// <summary>The number of elements the dims claim, without overflow: at most int.MaxValue.</summary>
    public static int Count(Proto.TensorProto tensor, string what)
    {
        var dims = Shape(tensor, what);
        long count = 1;
        foreach (var d in dims)
        {
            // Every factor is at most 2³¹ here, so the product stays within a long before the check.
            count = d > int.MaxValue || count * d > int.MaxValue ? long.MaxValue : count * d;
            if (count == long.MaxValue)
            {
                throw new InvalidDataException($"{what} claims the shape [{string.Join(", ", dims)}], more than 2³¹ elements: no ONNX file of under 2 GB holds that.");
            }
        }

        return (int)count;
    }

    /// <summary>The values of a FLOAT tensor as float or of a DOUBLE tensor as double, each finite.</summary>
    public static T[] Reals<T>(Proto.TensorProto tensor, string what)
        where T : IFloatingPointIeee754<T>
    {
        var expected = OnnxFormat.ElementType<T>();
        if (tensor.DataType != expected)
        {
            throw new InvalidDataException($"{what} holds {OnnxFormat.TypeName(tensor.DataType)} values where the graph computes in {OnnxFormat.TypeName(expected)}.");
        }

        var values = typeof(T) == typeof(float)
            ? (T[])(object)Decode(tensor, what, 4, tensor.FloatData.Count, t => t.FloatData.ToArray(), BinaryPrimitives.ReadSingleLittleEndian)
            : (T[])(object)Decode(tensor, what, 8, tensor.DoubleData.Count, t => t.DoubleData.ToArray(), BinaryPrimitives.ReadDoubleLittleEndian);
        for (var i = 0; i < values.Length; i++)
        {
            if (!T.IsFinite(values[i]))
            {
                throw new InvalidDataException($"{what} holds {values[i]} at index {i}; a network's parameters must be finite.");
            }
        }

        return values;
    }

    /// <summary>The values of an INT64 tensor (shapes, as Reshape reads them).</summary>
    public static long[] Int64s(Proto.TensorProto tensor, string what)
    {
        if (tensor.DataType != (int)DataType.Int64)
        {
            throw new InvalidDataException($"{what} holds {OnnxFormat.TypeName(tensor.DataType)} values where INT64 is required.");
        }

        return Decode(tensor, what, 8, tensor.Int64Data.Count, t => t.Int64Data.ToArray(), BinaryPrimitives.ReadInt64LittleEndian);
    }

    /// <summary>The single value of a BOOL tensor of one element (Dropout's training_mode).</summary>
    public static bool Boolean(Proto.TensorProto tensor, string what)
    {
        if (tensor.DataType != (int)DataType.Bool)
        {
            throw new InvalidDataException($"{what} holds {OnnxFormat.TypeName(tensor.DataType)} values where BOOL is required.");
        }

        // BOOL values are stored one per int32_data entry, or one byte each in raw_data.
        var values = Decode(tensor, what, 1, tensor.Int32Data.Count, t => t.Int32Data.Select(v => (byte)(v != 0 ? 1 : 0)).ToArray(), span => span[0]);
        if (values.Length != 1)
        {
            throw new InvalidDataException($"{what} must hold one boolean, but holds {values.Length}.");
        }

        return values[0] != 0;
    }

    /// <summary>Decodes raw_data or the typed field after checking that exactly one holds the claimed count.</summary>
    private static TValue[] Decode<TValue>(
        Proto.TensorProto tensor, string what, int size, int typedCount, Func<Proto.TensorProto, TValue[]> typed, ReadValue<TValue> read)
    {
        if (tensor.DataLocation == Proto.TensorProto.Types.DataLocation.External || tensor.ExternalData.Count > 0)
        {
            throw new NotSupportedException($"{what} keeps its values in an external file; only tensors stored inside the model are read (save the model without external data).");
        }

        if (tensor.Segment is not null)
        {
            throw new NotSupportedException($"{what} is a segment of a larger tensor; only whole tensors are read.");
        }

        var count = Count(tensor, what);
        var raw = tensor.RawData;
        if (!raw.IsEmpty && typedCount > 0)
        {
            throw new InvalidDataException($"{what} holds its values twice, in raw_data ({raw.Length} bytes) and in a typed field ({typedCount} values).");
        }

        if (!raw.IsEmpty)
        {
            if ((long)raw.Length != (long)count * size)
            {
                throw new InvalidDataException($"{what} claims the shape [{string.Join(", ", tensor.Dims)}] ({count:N0} values, {(long)count * size:N0} bytes) but its raw_data holds {raw.Length:N0} bytes.");
            }

            var values = new TValue[count];
            var bytes = raw.Span;
            for (var i = 0; i < count; i++)
            {
                values[i] = read(bytes.Slice(i * size, size));
            }

            return values;
        }

        if (typedCount != count)
        {
            throw new InvalidDataException($"{what} claims the shape [{string.Join(", ", tensor.Dims)}] ({count:N0} values) but holds {typedCount:N0}.");
        }

        return typed(tensor);
    }

    private delegate TValue ReadValue<TValue>(ReadOnlySpan<byte> bytes);
}
