using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Numerics;
using Google.Protobuf;
using static FunctionalBackprop.Onnx.Export.Protos;
using Core = FunctionalBackprop.Core;
using Proto = global::Onnx;

namespace FunctionalBackprop.Onnx.Export;

/// <summary>
/// A network as an ONNX model: input x [batch, n₀] (or [batch, C, H, W] for a network on images),
/// output y, the input's scaler if it has one, per layer the nodes of its kind, each kind in a
/// file of its own (OnnxWriter.Dense.cs, .Convolution.cs, .Pooling.cs, .Normalization.cs), and the
/// target scaler's inverse after the last layer if it has one.
/// </summary>
internal static partial class OnnxWriter
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
    /// <exception cref="NotSupportedException">A layer has no ONNX form at the options' opset (a softmax over a whole image at opset 13 or later).</exception>
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
        graph.Input.Add(Tensor<T>(OnnxFormat.InputName, network.InputShape));
        graph.Output.Add(Tensor<T>(OnnxFormat.OutputName, network.OutputShape));
        var input = scaler is null ? OnnxFormat.InputName : AddScaler<T>(graph, scaler, network.InputShape, OnnxFormat.InputName);
        var index = 0;
        foreach (var (layer, (shape, next)) in network.Layers.Zip(network.Shapes.Zip(network.Shapes.Skip(1))))
        {
            index++;
            var output = index == network.Depth && targetScaler is null ? OnnxFormat.OutputName : $"layer{index}.a";
            input = AddLayer(graph, layer, new Place(index, shape, next, options.Opset), input, output);
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

    /// <summary>Where a layer is written: its number l (from 1), the shapes of one example of its input and output, and the opset.</summary>
    private readonly record struct Place(int Layer, Core.Shape Input, Core.Shape Output, int Opset)
    {
        /// <summary>"layer{l}.{suffix}", the names of the layer's nodes and values.</summary>
        public string Name(string suffix) => $"layer{Layer}.{suffix}";
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
                "target", $"target {scaler}", input, "a", new long[] { scaler.Width },
                new("Mul", "scale", scaler.Scales, "stretched", "a·scale"),
                new("Add", "offset", scaler.Offsets, "y", "y = a·scale + offset"),
                OnnxFormat.OutputName));

    /// <summary>
    /// Adds the scaler's nodes, reading <paramref name="input"/>; returns the name of the scaled
    /// input. The library computes x′ = (x − offset)/scale in float64 and rounds once to T
    /// (Scaler.apply), so the file does too: Sub and Div of DOUBLE constants shaped as one example,
    /// and in a float32 graph a Cast of x to DOUBLE before them (exact) and a Cast back to FLOAT
    /// after (the one rounding). The model's metadata names the kind, which the reader needs to
    /// rebuild the scaler.
    /// </summary>
    private static string AddScaler<T>(Proto.GraphProto graph, Core.Scaler scaler, Core.Shape example, string input)
        where T : IFloatingPointIeee754<T>
    {
        AddInFloat64<T>(
            graph,
            new Float64Steps(
                "scaler", scaler.ToString(), input, "x", Dims(example),
                new("Sub", "offset", scaler.Offsets, "centred", "x − offset"),
                new("Div", "scale", scaler.Scales, "scaled", "x′ = (x − offset)/scale"),
                "scaler.a"));
        return "scaler.a";
    }

    /// <summary>
    /// Adds two element-wise steps with per-feature DOUBLE constants (shaped as one example, so
    /// that they broadcast over the batch), computed in float64 and rounded once to T, as a scaler
    /// computes them: in a DOUBLE graph the two nodes alone, in a FLOAT graph between a Cast of the
    /// input to DOUBLE (exact) and a Cast of the result back to FLOAT (the one rounding). Names are
    /// <c>prefix.name</c>: the nodes after their operators (lower case), the constants and the
    /// values after the steps' names.
    /// </summary>
    private static void AddInFloat64<T>(Proto.GraphProto graph, Float64Steps steps)
        where T : IFloatingPointIeee754<T>
    {
        string Named(string name) => $"{steps.Prefix}.{name}";
        graph.Initializer.Add(Initializer(Named(steps.First.Constant), steps.Dims, steps.First.Values.ToArray()));
        graph.Initializer.Add(Initializer(Named(steps.Second.Constant), steps.Dims, steps.Second.Values.ToArray()));
        var single = typeof(T) == typeof(float);
        var input = steps.Input;
        if (single)
        {
            graph.Node.Add(Node("Cast", Named("widen"), new[] { input }, Named(steps.Symbol), $"{steps.Description}: {steps.Symbol} in float64, exactly", Int("to", (int)Proto.TensorProto.Types.DataType.Double)));
            input = Named(steps.Symbol);
        }

        var result = single ? Named(steps.Second.Result) : steps.Output;
        graph.Node.Add(Node(steps.First.Op, Named(steps.First.Op.ToLowerInvariant()), new[] { input, Named(steps.First.Constant) }, Named(steps.First.Result), $"{steps.Description}: {steps.First.Doc}"));
        graph.Node.Add(Node(steps.Second.Op, Named(steps.Second.Op.ToLowerInvariant()), new[] { Named(steps.First.Result), Named(steps.Second.Constant) }, result, $"{steps.Description}: {steps.Second.Doc}"));
        if (single)
        {
            graph.Node.Add(Node("Cast", Named("narrow"), new[] { result }, steps.Output, $"{steps.Description}: {steps.Second.Doc}, rounded once to float32", Int("to", (int)Proto.TensorProto.Types.DataType.Float)));
        }
    }

    /// <summary>One step of a scaler in float64: the operator, its constant's name and values, the name of its result, and what it computes.</summary>
    private sealed record Float64Step(string Op, string Constant, IReadOnlyList<double> Values, string Result, string Doc);

    /// <summary>A scaler's two steps in float64, from <paramref name="Input"/> (called <paramref name="Symbol"/>) to <paramref name="Output"/>, its constants shaped <paramref name="Dims"/>, its nodes named <c>Prefix.…</c>.</summary>
    private sealed record Float64Steps(string Prefix, string Description, string Input, string Symbol, long[] Dims, Float64Step First, Float64Step Second, string Output);

    /// <summary>
    /// Adds layer l's initializers and nodes, reading <paramref name="input"/>; returns the name of
    /// its output, <paramref name="output"/> unless the layer adds no node (dropout, which is the
    /// identity in inference, inside the graph).
    /// </summary>
    private static string AddLayer<T>(Proto.GraphProto graph, Core.Layer<T> layer, Place at, string input, string output)
        where T : IFloatingPointIeee754<T> => layer switch
        {
            Core.Layer<T>.Dense dense => AddDense(graph, dense.Item, at, input, output),
            Core.Layer<T>.Activation activation => AddActivation<T>(graph, activation.Item, at, input, output),
            Core.Layer<T>.Dropout dropout => PassThrough(graph, at, input, output, $"layer {at.Layer}: {dropout.Item}, the identity in inference"),
            Core.Layer<T>.Conv2D conv => AddConv(graph, conv.Item, at, input, output),
            Core.Layer<T>.MaxPool2D pool => AddMaxPool(graph, pool.Item, at, input, output),
            Core.Layer<T>.AvgPool2D pool => AddAveragePool(graph, pool.Item, at, input, output),
            { IsFlatten: true } => AddFlatten(graph, at, input, output),
            Core.Layer<T>.BatchNorm norm => AddBatchNorm(graph, norm.Item, at, input, output),
            _ => throw new NotSupportedException($"Layer {at.Layer} ({layer}) has no ONNX form in this exporter."),
        };

    /// <summary>
    /// A layer that is the identity here: no node, its output is its input, unless it ends the
    /// graph, whose output must be named: then an Identity node.
    /// </summary>
    private static string PassThrough(Proto.GraphProto graph, Place at, string input, string output, string doc)
    {
        if (output != OnnxFormat.OutputName)
        {
            return input;
        }

        graph.Node.Add(Node("Identity", at.Name("identity"), new[] { input }, output, doc));
        return output;
    }

    /// <summary>Flatten at axis 1: each example's values as one row, in C-H-W order, as the flatten layer keeps them.</summary>
    private static string AddFlatten(Proto.GraphProto graph, Place at, string input, string output)
    {
        graph.Node.Add(Node("Flatten", at.Name("flatten"), new[] { input }, output, $"layer {at.Layer}: flatten {at.Input} to {at.Input.Size} values", Int("axis", 1)));
        return output;
    }

    /// <summary>The bytes the parameters take: the network's (and its state's) in T, the scaler's in float64.</summary>
    private static long Bytes<T>(Core.Network<T> network, Core.Scaler? scaler)
        where T : IFloatingPointIeee754<T> =>
        (((long)network.ParameterCount + network.State.Sum(m => (long)m.Rows * m.Cols)) * Size<T>()) + (scaler is null ? 0 : 16L * scaler.Width);
}
