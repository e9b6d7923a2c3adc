using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Numerics;
using Google.Protobuf;
using Core = FunctionalBackprop.Core;
using Proto = global::Onnx;

namespace FunctionalBackprop.Onnx.Export;

/// <summary>
/// A network as an ONNX model: input x [batch, n₀], output y [batch, n_L], the input's scaler if it
/// has one, per layer l one Gemm z = a·Wᵀ + b (W stored [units, inputs], as Nielsen's wⱼₖ and
/// PyTorch's Linear) followed by its activation, and the target scaler's inverse after the last
/// layer if it has one. Identity adds no node; leaky ReLU in float64
/// (which ONNX Runtime has no kernel for) and the step (which ONNX has no operator for) are written
/// as the exact equivalents Max(z, Mul(z, α)) and Cast(Greater(z, 0)).
/// </summary>
internal static class OnnxWriter
{
    /// <summary>Protobuf's limit for one message; a larger model needs ONNX's external data, which is not written.</summary>
    private const long LargestModel = int.MaxValue - (1L << 20);

    /// <summary>
    /// Writes the model of the network, of the scaler its inputs go through first and of the
    /// target scaler its outputs go back through (null for none), to the stream.
    /// </summary>
    public static void Write<T>(Core.Network<T> network, Core.Scaler? scaler, Core.Scaler? targetScaler, Stream stream, OnnxExportOptions options)
        where T : IFloatingPointIeee754<T>
    {
        var bytes = Bytes(network, scaler) + (targetScaler is null ? 0 : 16L * targetScaler.Width);
        if (bytes > LargestModel)
        {
            throw new NotSupportedException($"The network's {network.ParameterCount:N0} parameters{(scaler is null ? string.Empty : " and its scaler's")} take {bytes:N0} bytes, more than the 2 GB a protobuf message can hold; ONNX's external data files are not written.");
        }

        Model(network, scaler, targetScaler, options).WriteTo(stream);
    }

    /// <summary>The model for a network whose inputs go through the scaler first and whose outputs go back through the target scaler (null for none).</summary>
    /// <exception cref="ArgumentException">The scaler maps another number of features than the network takes, or the target scaler another number than it gives.</exception>
    public static Proto.ModelProto Model<T>(Core.Network<T> network, Core.Scaler? scaler, Core.Scaler? targetScaler, OnnxExportOptions options)
        where T : IFloatingPointIeee754<T>
    {
        options.Check();
        if (scaler is not null && scaler.Width != network.InputWidth)
        {
            throw new ArgumentException($"The {scaler} does not fit the network's input, of width {network.InputWidth}: it must map as many features as the network takes inputs.", nameof(scaler));
        }

        if (targetScaler is not null && targetScaler.Width != network.OutputWidth)
        {
            throw new ArgumentException($"The target {targetScaler} does not fit the network's output, of width {network.OutputWidth}: it must map as many values as the network gives outputs.", nameof(targetScaler));
        }

        var layers = "Layers, input side first: " + string.Join("; ", network.Layers.Select((l, i) => $"layer {i + 1}: {l}"));
        var graph = new Proto.GraphProto
        {
            Name = "network",
            DocString = scaler is null ? layers : $"Raw inputs x go through a {scaler} first, x′ = (x − offset)/scale in float64. {layers}",
        };
        graph.Input.Add(Tensor<T>(OnnxFormat.InputName, network.InputWidth));
        graph.Output.Add(Tensor<T>(OnnxFormat.OutputName, network.OutputWidth));
        var input = scaler is null ? OnnxFormat.InputName : AddScaler<T>(graph, scaler, OnnxFormat.InputName);
        var index = 0;
        foreach (var layer in network.Layers)
        {
            index++;
            var output = index == network.Depth && targetScaler is null ? OnnxFormat.OutputName : $"layer{index}.a";
            input = AddLayer(graph, layer, index, input, output, options.Opset);
        }

        if (targetScaler is not null)
        {
            graph.DocString += $" The outputs go back through the target scaler, a {targetScaler}: y = a·scale + offset in float64.";
            AddTargetScaler<T>(graph, targetScaler, input);
        }

        var model = new Proto.ModelProto
        {
            IrVersion = options.IrVersion,
            ProducerName = OnnxFormat.ProducerName,
            ProducerVersion = OnnxFormat.ProducerVersion,
            DocString = network + (scaler is null ? string.Empty : $" after a {scaler}") + (targetScaler is null ? string.Empty : $", its outputs through a target {targetScaler}"),
            Graph = graph,
        };
        model.OpsetImport.Add(new Proto.OperatorSetIdProto { Domain = string.Empty, Version = options.Opset });
        if (scaler is not null)
        {
            model.MetadataProps.Add(new Proto.StringStringEntryProto { Key = OnnxFormat.ScalerProperty, Value = OnnxFormat.ScalerKindName(scaler.Kind) });
        }

        if (targetScaler is not null)
        {
            model.MetadataProps.Add(new Proto.StringStringEntryProto { Key = OnnxFormat.TargetScalerProperty, Value = OnnxFormat.ScalerKindName(targetScaler.Kind) });
        }

        return model;
    }

    /// <summary>
    /// Adds the target scaler's inverse after the last layer, reading <paramref name="input"/> (the
    /// last layer's output a) and writing the graph's output y. The library computes
    /// y = a·scale + offset in float64 and rounds once to T (Scaler.inverse), so the file does too:
    /// Mul and Add of DOUBLE constants, in a float32 graph between a Cast of a to DOUBLE (exact)
    /// and one back to FLOAT (the one rounding). The model's metadata names the kind.
    /// </summary>
    private static void AddTargetScaler<T>(Proto.GraphProto graph, Core.Scaler scaler, string input)
        where T : IFloatingPointIeee754<T> =>
        AddInFloat64<T>(
            graph,
            new Float64Steps(
                "target", $"target {scaler}", input, "a",
                new("Mul", "scale", scaler.Scales, "stretched", "a·scale"),
                new("Add", "offset", scaler.Offsets, "y", "y = a·scale + offset"),
                OnnxFormat.OutputName));

    /// <summary>
    /// Adds the scaler's nodes, reading <paramref name="input"/>; returns the name of the scaled
    /// input. The library computes x′ = (x − offset)/scale in float64 and rounds once to T
    /// (Scaler.apply), so the file does too: Sub and Div of DOUBLE constants, and in a float32 graph
    /// a Cast of x to DOUBLE before them (exact) and a Cast back to FLOAT after (the one rounding).
    /// The model's metadata names the kind, which the reader needs to rebuild the scaler.
    /// </summary>
    private static string AddScaler<T>(Proto.GraphProto graph, Core.Scaler scaler, string input)
        where T : IFloatingPointIeee754<T>
    {
        AddInFloat64<T>(
            graph,
            new Float64Steps(
                "scaler", scaler.ToString(), input, "x",
                new("Sub", "offset", scaler.Offsets, "centred", "x − offset"),
                new("Div", "scale", scaler.Scales, "scaled", "x′ = (x − offset)/scale"),
                "scaler.a"));
        return "scaler.a";
    }

    /// <summary>
    /// Adds two element-wise steps with per-feature DOUBLE constants, computed in float64 and
    /// rounded once to T, as a scaler computes them: in a DOUBLE graph the two nodes alone, in a
    /// FLOAT graph between a Cast of the input to DOUBLE (exact) and a Cast of the result back to
    /// FLOAT (the one rounding). Names are <c>prefix.name</c>: the nodes after their operators
    /// (lower case), the constants and the values after the steps' names.
    /// </summary>
    private static void AddInFloat64<T>(Proto.GraphProto graph, Float64Steps steps)
        where T : IFloatingPointIeee754<T>
    {
        string Named(string name) => $"{steps.Prefix}.{name}";
        var width = new long[] { steps.First.Values.Count };
        graph.Initializer.Add(Initializer(Named(steps.First.Constant), width, steps.First.Values.ToArray()));
        graph.Initializer.Add(Initializer(Named(steps.Second.Constant), width, steps.Second.Values.ToArray()));
        var single = typeof(T) == typeof(float);
        var input = steps.Input;
        if (single)
        {
            var widen = Node("Cast", Named("widen"), new[] { input }, Named(steps.Symbol), $"{steps.Description}: {steps.Symbol} in float64, exactly");
            widen.Attribute.Add(Int("to", (int)Proto.TensorProto.Types.DataType.Double));
            graph.Node.Add(widen);
            input = Named(steps.Symbol);
        }

        var result = single ? Named(steps.Second.Result) : steps.Output;
        graph.Node.Add(Node(steps.First.Op, Named(steps.First.Op.ToLowerInvariant()), new[] { input, Named(steps.First.Constant) }, Named(steps.First.Result), $"{steps.Description}: {steps.First.Doc}"));
        graph.Node.Add(Node(steps.Second.Op, Named(steps.Second.Op.ToLowerInvariant()), new[] { Named(steps.First.Result), Named(steps.Second.Constant) }, result, $"{steps.Description}: {steps.Second.Doc}"));
        if (single)
        {
            var narrow = Node("Cast", Named("narrow"), new[] { result }, steps.Output, $"{steps.Description}: {steps.Second.Doc}, rounded once to float32");
            narrow.Attribute.Add(Int("to", (int)Proto.TensorProto.Types.DataType.Float));
            graph.Node.Add(narrow);
        }
    }

    /// <summary>One step of a scaler in float64: the operator, its constant's name and values, the name of its result, and what it computes.</summary>
    private sealed record Float64Step(string Op, string Constant, IReadOnlyList<double> Values, string Result, string Doc);

    /// <summary>A scaler's two steps in float64, from <paramref name="Input"/> (called <paramref name="Symbol"/>) to <paramref name="Output"/>, its nodes named <c>Prefix.…</c>.</summary>
    private sealed record Float64Steps(string Prefix, string Description, string Input, string Symbol, Float64Step First, Float64Step Second, string Output);

    /// <summary>
    /// Adds layer l's initializers and nodes, reading <paramref name="input"/>; returns the name of
    /// its output, <paramref name="output"/> unless the layer adds no node (dropout, which is the
    /// identity in inference, inside the graph).
    /// </summary>
    private static string AddLayer<T>(Proto.GraphProto graph, Core.Layer<T> layer, int l, string input, string output, int opset)
        where T : IFloatingPointIeee754<T> => layer switch
        {
            Core.Layer<T>.Dense dense => AddDense(graph, dense.Item, l, input, output, opset),
            Core.Layer<T>.Activation activation => AddActivation<T>(graph, activation.Item, l, input, output, opset),
            Core.Layer<T>.Dropout dropout => PassThrough(graph, l, input, output, $"layer {l}: {dropout.Item}, the identity in inference"),
            _ => throw new NotSupportedException($"Layer {l} ({layer}) has no ONNX form in this exporter."),
        };

    /// <summary>
    /// A layer that is the identity here: no node, its output is its input, unless it ends the
    /// graph, whose output must be named: then an Identity node.
    /// </summary>
    private static string PassThrough(Proto.GraphProto graph, int l, string input, string output, string doc)
    {
        if (output != OnnxFormat.OutputName)
        {
            return input;
        }

        graph.Node.Add(Node("Identity", $"layer{l}.identity", new[] { input }, output, doc));
        return output;
    }

    /// <summary>Adds dense layer l's initializers, its Gemm and its activation, reading <paramref name="input"/> and writing <paramref name="output"/>.</summary>
    private static string AddDense<T>(Proto.GraphProto graph, Core.Dense<T> layer, int l, string input, string output, int opset)
        where T : IFloatingPointIeee754<T>
    {
        var weights = $"layer{l}.weight";
        var biases = $"layer{l}.bias";
        graph.Initializer.Add(Initializer(weights, new long[] { layer.OutputWidth, layer.InputWidth }, RowMajor(layer.Weights)));
        graph.Initializer.Add(Initializer(biases, new long[] { layer.OutputWidth }, layer.Biases.ToArray()));
        var activation = layer.Activation;
        var z = activation.IsIdentity ? output : $"layer{l}.z";

        // z = a·Wᵀ + b, for the batch a [batch, inputs] and W [units, inputs].
        var gemm = Node("Gemm", $"layer{l}.gemm", new[] { input, weights, biases }, z, $"layer {l}: {layer}; z = a·Wᵀ + b");
        gemm.Attribute.Add(Float("alpha", 1f));
        gemm.Attribute.Add(Float("beta", 1f));
        gemm.Attribute.Add(Int("transB", 1));
        graph.Node.Add(gemm);
        return AddActivation<T>(graph, activation, l, z, output, opset);
    }

    /// <summary>Adds layer l's activation σ, reading <paramref name="z"/> and writing <paramref name="output"/> (the identity adds no node unless it must name the graph's output).</summary>
    private static string AddActivation<T>(Proto.GraphProto graph, Core.Activation activation, int l, string z, string output, int opset)
        where T : IFloatingPointIeee754<T>
    {
        var name = $"layer{l}.{Core.ActivationModule.name(activation)}";
        var doc = $"layer {l}: σ = {Core.ActivationModule.name(activation)}";
        switch (activation)
        {
            case { IsIdentity: true }:
                return z == output ? output : PassThrough(graph, l, z, output, doc);
            case { IsSigmoid: true }:
                graph.Node.Add(Node("Sigmoid", name, new[] { z }, output, doc));
                break;
            case { IsTanh: true }:
                graph.Node.Add(Node("Tanh", name, new[] { z }, output, doc));
                break;
            case { IsReLU: true }:
                graph.Node.Add(Node("Relu", name, new[] { z }, output, doc));
                break;
            case { IsSoftmax: true }:
                // Opsets before 13 coerce the input to 2-D at the axis: axis 1 of [batch, units] is the same softmax.
                var softmax = Node("Softmax", name, new[] { z }, output, doc + " over each example's units");
                softmax.Attribute.Add(Int("axis", opset >= 13 ? -1 : 1));
                graph.Node.Add(softmax);
                break;
            case Core.Activation.LeakyReLU leaky when typeof(T) == typeof(float):
                // The float32 network computes with (float)slope, which is what the attribute holds.
                var leakyRelu = Node("LeakyRelu", name, new[] { z }, output, doc);
                leakyRelu.Attribute.Add(Float("alpha", (float)leaky.slope));
                graph.Node.Add(leakyRelu);
                break;
            case Core.Activation.LeakyReLU leaky:
                // ONNX Runtime has no float64 LeakyRelu. For 0 < α < 1, max(z, αz) is z when z > 0 and αz
                // otherwise, with the same roundings as the library's z > 0 ? z : αz.
                var slope = $"layer{l}.slope";
                graph.Initializer.Add(Initializer(slope, Array.Empty<long>(), new[] { T.CreateTruncating(leaky.slope) }));
                graph.Node.Add(Node("Mul", $"layer{l}.scale", new[] { z, slope }, $"layer{l}.scaled", doc + ": α·z"));
                graph.Node.Add(Node("Max", name, new[] { z, $"layer{l}.scaled" }, output, doc + ": max(z, α·z)"));
                break;
            case { IsStep: true }:
                // σ(z) = 1 if z > 0 else 0; NaN > 0 is false in both, so NaN gives 0 here as in the library.
                var zero = $"layer{l}.zero";
                graph.Initializer.Add(Initializer(zero, Array.Empty<long>(), new[] { T.Zero }));
                graph.Node.Add(Node("Greater", $"layer{l}.greater", new[] { z, zero }, $"layer{l}.positive", doc + ": z > 0"));
                var cast = Node("Cast", name, new[] { $"layer{l}.positive" }, output, doc + ": 1 where z > 0, else 0");
                cast.Attribute.Add(Int("to", OnnxFormat.ElementType<T>()));
                graph.Node.Add(cast);
                break;
            default:
                throw new NotSupportedException($"Layer {l}'s activation {Core.ActivationModule.name(activation)} has no ONNX form in this exporter.");
        }

        return output;
    }

    /// <summary>W [units, inputs] in row-major order, from the library's column-major matrix.</summary>
    private static T[] RowMajor<T>(Core.Matrix<T> w)
        where T : IFloatingPointIeee754<T>
    {
        var values = w.AsSpan();
        var rowMajor = new T[values.Length];
        for (var j = 0; j < w.Rows; j++)
        {
            for (var k = 0; k < w.Cols; k++)
            {
                rowMajor[(j * w.Cols) + k] = values[j + (k * w.Rows)];
            }
        }

        return rowMajor;
    }

    private static int Size<T>() => typeof(T) == typeof(float) ? 4 : 8;

    /// <summary>The bytes the parameters take: the network's in T, the scaler's in float64.</summary>
    private static long Bytes<T>(Core.Network<T> network, Core.Scaler? scaler)
        where T : IFloatingPointIeee754<T> =>
        ((long)network.ParameterCount * Size<T>()) + (scaler is null ? 0 : 16L * scaler.Width);

    /// <summary>A tensor initializer with its values as little-endian raw_data.</summary>
    private static Proto.TensorProto Initializer<T>(string name, IEnumerable<long> dims, T[] values)
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

    /// <summary>A graph input or output: a tensor of T shaped [batch, width], batch symbolic.</summary>
    private static Proto.ValueInfoProto Tensor<T>(string name, int width)
        where T : IFloatingPointIeee754<T>
    {
        var shape = new Proto.TensorShapeProto();
        shape.Dim.Add(new Proto.TensorShapeProto.Types.Dimension { DimParam = "batch" });
        shape.Dim.Add(new Proto.TensorShapeProto.Types.Dimension { DimValue = width });
        return new Proto.ValueInfoProto
        {
            Name = name,
            Type = new Proto.TypeProto { TensorType = new Proto.TypeProto.Types.Tensor { ElemType = OnnxFormat.ElementType<T>(), Shape = shape } },
        };
    }

    private static Proto.NodeProto Node(string op, string name, string[] inputs, string output, string doc)
    {
        var node = new Proto.NodeProto { OpType = op, Name = name, DocString = doc };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        return node;
    }

    private static Proto.AttributeProto Float(string name, float value) =>
        new() { Name = name, Type = Proto.AttributeProto.Types.AttributeType.Float, F = value };

    private static Proto.AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = Proto.AttributeProto.Types.AttributeType.Int, I = value };
}
