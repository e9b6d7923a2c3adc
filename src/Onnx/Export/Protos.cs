using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Numerics;
using Google.Protobuf;
using Core = FunctionalBackprop.Core;
using Proto = global::Onnx;

namespace FunctionalBackprop.Onnx.Export;

/// <summary>The protobuf messages the writer builds: tensors, value infos, nodes and attributes.</summary>
internal static class Protos
{
    /// <summary>The bytes of one element of T in a tensor: 4 for float, 8 for double.</summary>
    public static int Size<T>() => typeof(T) == typeof(float) ? 4 : 8;

    /// <summary>A tensor initializer with its values as little-endian raw_data.</summary>
    public static Proto.TensorProto Initializer<T>(string name, IEnumerable<long> dims, T[] values)
        where T : IFloatingPointIeee754<T>
    {
        var size = Size<T>();
        var raw = new byte[values.Length * size];
        for (var i = 0; i < values.Length; i++)
        {
            if (size == 4)
            {
                BinaryPrimitives.WriteSingleLittleEndian(raw.AsSpan(i * 4), float.CreateTruncating(values[i]));
            }
            else
            {
                BinaryPrimitives.WriteDoubleLittleEndian(raw.AsSpan(i * 8), double.CreateTruncating(values[i]));
            }
        }

        var tensor = new Proto.TensorProto { Name = name, DataType = OnnxFormat.ElementType<T>(), RawData = UnsafeByteOperations.UnsafeWrap(raw) };
        tensor.Dims.AddRange(dims);
        return tensor;
    }

    /// <summary>One example's dims: [n] for a vector, [C, H, W] for an image.</summary>
    public static long[] Dims(Core.Shape shape) => shape switch
    {
        Core.Shape.Image image => new long[] { image.channels, image.height, image.width },
        _ => new long[] { shape.Size },
    };

    /// <summary>A graph input or output: a tensor of T shaped [batch, n] or [batch, C, H, W], batch symbolic.</summary>
    public static Proto.ValueInfoProto Tensor<T>(string name, Core.Shape example)
        where T : IFloatingPointIeee754<T>
    {
        var shape = new Proto.TensorShapeProto();
        shape.Dim.Add(new Proto.TensorShapeProto.Types.Dimension { DimParam = "batch" });
        foreach (var d in Dims(example))
        {
            shape.Dim.Add(new Proto.TensorShapeProto.Types.Dimension { DimValue = d });
        }

        return new Proto.ValueInfoProto
        {
            Name = name,
            Type = new Proto.TypeProto { TensorType = new Proto.TypeProto.Types.Tensor { ElemType = OnnxFormat.ElementType<T>(), Shape = shape } },
        };
    }

    /// <summary>A node of one output.</summary>
    public static Proto.NodeProto Node(string op, string name, string[] inputs, string output, string doc, params Proto.AttributeProto[] attributes)
    {
        var node = new Proto.NodeProto { OpType = op, Name = name, DocString = doc };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        return node;
    }

    public static Proto.AttributeProto Float(string name, float value) =>
        new() { Name = name, Type = Proto.AttributeProto.Types.AttributeType.Float, F = value };

    public static Proto.AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = Proto.AttributeProto.Types.AttributeType.Int, I = value };

    public static Proto.AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new Proto.AttributeProto { Name = name, Type = Proto.AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }
}
