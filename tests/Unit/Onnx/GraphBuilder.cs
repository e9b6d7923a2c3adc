using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Google.Protobuf;
using Proto = global::Onnx;
using DataType = global::Onnx.TensorProto.Types.DataType;

namespace FunctionalBackprop.Tests.Onnx;

/// <summary>Hand-made ONNX models for the reader's tests: the forms real exporters write, and broken ones.</summary>
internal sealed class GraphBuilder
{
    public GraphBuilder(int opset = 13, long irVersion = 7, DataType type = DataType.Float)
    {
        Type = type;
        Model = new Proto.ModelProto { IrVersion = irVersion, ProducerName = "tests", Graph = new Proto.GraphProto { Name = "test" } };
        Model.OpsetImport.Add(new Proto.OperatorSetIdProto { Domain = string.Empty, Version = opset });
    }

    public Proto.ModelProto Model { get; }

    public DataType Type { get; }

    public Proto.GraphProto Graph => Model.Graph;

    /// <summary>A graph input or output of the builder's type; null dims are symbolic ("batch").</summary>
    public static Proto.ValueInfoProto Value(string name, DataType type, params long?[] dims)
    {
        var shape = new Proto.TensorShapeProto();
        foreach (var d in dims)
        {
            shape.Dim.Add(d is { } v ? new Proto.TensorShapeProto.Types.Dimension { DimValue = v } : new Proto.TensorShapeProto.Types.Dimension { DimParam = "batch" });
        }

        return new Proto.ValueInfoProto { Name = name, Type = new Proto.TypeProto { TensorType = new Proto.TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } } };
    }

    public GraphBuilder Input(string name, params long?[] dims)
    {
        Graph.Input.Add(Value(name, Type, dims));
        return this;
    }

    public GraphBuilder Output(string name, params long?[] dims)
    {
        Graph.Output.Add(Value(name, Type, dims));
        return this;
    }

    /// <summary>A graph output of the builder's type whose shape the file does not give.</summary>
    public GraphBuilder Output(string name)
    {
        Graph.Output.Add(new Proto.ValueInfoProto { Name = name, Type = new Proto.TypeProto { TensorType = new Proto.TypeProto.Types.Tensor { ElemType = (int)Type } } });
        return this;
    }

    /// <summary>A real tensor of the builder's type, as raw_data or in the typed field.</summary>
    public Proto.TensorProto Reals(string name, long[] dims, double[] values, bool raw = true)
    {
        var tensor = new Proto.TensorProto { Name = name, DataType = (int)Type };
        tensor.Dims.AddRange(dims);
        if (Type == DataType.Float)
        {
            if (raw)
            {
                var bytes = new byte[values.Length * 4];
                for (var i = 0; i < values.Length; i++)
                {
                    BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), (float)values[i]);
                }

                tensor.RawData = ByteString.CopyFrom(bytes);
            }
            else
            {
                tensor.FloatData.AddRange(values.Select(v => (float)v));
            }
        }
        else
        {
            if (raw)
            {
                var bytes = new byte[values.Length * 8];
                for (var i = 0; i < values.Length; i++)
                {
                    BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(i * 8), values[i]);
                }

                tensor.RawData = ByteString.CopyFrom(bytes);
            }
            else
            {
                tensor.DoubleData.AddRange(values);
            }
        }

        return tensor;
    }

    public GraphBuilder Initializer(string name, long[] dims, double[] values, bool raw = true)
    {
        Graph.Initializer.Add(Reals(name, dims, values, raw));
        return this;
    }

    public static Proto.TensorProto Int64s(string name, params long[] values)
    {
        var tensor = new Proto.TensorProto { Name = name, DataType = (int)DataType.Int64 };
        tensor.Dims.Add(values.Length);
        tensor.Int64Data.AddRange(values);
        return tensor;
    }

    public GraphBuilder Node(string op, string[] inputs, string[] outputs, params Proto.AttributeProto[] attributes)
    {
        var node = new Proto.NodeProto { OpType = op, Name = $"{op.ToLowerInvariant()}{Graph.Node.Count + 1}" };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        Graph.Node.Add(node);
        return this;
    }

    public static Proto.AttributeProto Int(string name, long value) => new() { Name = name, Type = Proto.AttributeProto.Types.AttributeType.Int, I = value };

    public static Proto.AttributeProto Float(string name, float value) => new() { Name = name, Type = Proto.AttributeProto.Types.AttributeType.Float, F = value };

    public static Proto.AttributeProto Tensor(string name, Proto.TensorProto value) => new() { Name = name, Type = Proto.AttributeProto.Types.AttributeType.Tensor, T = value };

    public static Proto.AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new Proto.AttributeProto { Name = name, Type = Proto.AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    public static Proto.AttributeProto String(string name, string value) =>
        new() { Name = name, Type = Proto.AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    /// <summary>n values in [−1, 1) from the seed, for the weights of hand-made graphs.</summary>
    public static double[] Drawn(int n, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (2 * random.NextDouble()) - 1).ToArray();
    }

    /// <summary>
    /// x [batch, 2, 5, 4] → Conv with W [3, 2, 3, 2] drawn from the seed and B, and the attributes
    /// given → "z" (the caller adds the nodes after it and the output).
    /// </summary>
    public static GraphBuilder Convolution(DataType type = DataType.Float, int opset = 13, params Proto.AttributeProto[] attributes)
    {
        var g = new GraphBuilder(opset, type: type).Input("x", null, 2, 5, 4)
            .Initializer("W", new long[] { 3, 2, 3, 2 }, Drawn(36, 5)).Initializer("B", new long[] { 3 }, Drawn(3, 6));
        return g.Node("Conv", new[] { "x", "W", "B" }, new[] { "z" }, attributes);
    }

    public static Proto.AttributeProto Floats(string name, params float[] values)
    {
        var attribute = new Proto.AttributeProto { Name = name, Type = Proto.AttributeProto.Types.AttributeType.Floats };
        attribute.Floats.AddRange(values);
        return attribute;
    }

    public byte[] Bytes() => Model.ToByteArray();

    public MemoryStream Stream() => new(Bytes());

    /// <summary>W for a 3 → 2 layer as [units, inputs] rows, and its bias.</summary>
    public static readonly double[] W = { 0.5, -1.25, 2.0, 0.75, 0.25, -0.5 };

    public static readonly double[] B = { 0.125, -0.375 };

    /// <summary>Wᵀ, the same weights stored [inputs, units] (MatMul's and Gemm transB = 0's layout).</summary>
    public static readonly double[] WTransposed = { 0.5, 0.75, -1.25, 0.25, 2.0, -0.5 };

    /// <summary>x [batch, 3] → Gemm(transB = 1) with W, B → the activation node (if any) → y [batch, 2].</summary>
    public static GraphBuilder OneLayer(string? activation = "Sigmoid", DataType type = DataType.Float, int opset = 13)
    {
        var g = new GraphBuilder(opset, type: type).Input("x", null, 3).Output("y", null, 2)
            .Initializer("W", new long[] { 2, 3 }, W).Initializer("B", new long[] { 2 }, B);
        g.Node("Gemm", new[] { "x", "W", "B" }, new[] { activation is null ? "y" : "z" }, Int("transB", 1));
        if (activation is not null)
        {
            g.Node(activation, new[] { "z" }, new[] { "y" });
        }

        return g;
    }
}
