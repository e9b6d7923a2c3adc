using System;
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
/// output y, the input's scaler if it has one, and per layer the nodes of its kind, each kind in a
/// file of its own (OnnxWriter.Dense.cs, .Convolution.cs, .Pooling.cs, .Normalization.cs).
/// </summary>
internal static partial class OnnxWriter
{
    /// <summary>Protobuf's limit for one message; a larger model needs ONNX's external data, which is not written.</summary>
    private const long LargestModel = int.MaxValue - (1L << 20);

    /// <summary>Writes the model of the network, and of the scaler its inputs go through first (null for none), to the stream.</summary>
    public static void Write<T>(Core.Network<T> network, Core.Scaler? scaler, Stream stream, OnnxExportOptions options)
        where T : IFloatingPointIeee754<T>
    {
        var bytes = Bytes(network, scaler);
        if (bytes > LargestModel)
        {
            throw new NotSupportedException($"The network's {network.ParameterCount:N0} parameters{(scaler is null ? string.Empty : " and its scaler's")} take {bytes:N0} bytes, more than the 2 GB a protobuf message can hold; ONNX's external data files are not written.");
        }

        Model(network, scaler, options).WriteTo(stream);
    }

    /// <summary>The model for a network whose inputs go through the scaler first (null for none).</summary>
    /// <exception cref="ArgumentException">The scaler maps another number of features than the network takes.</exception>
    /// <exception cref="NotSupportedException">A layer has no ONNX form at the options' opset (a softmax over a whole image at opset 13 or later).</exception>
    public static Proto.ModelProto Model<T>(Core.Network<T> network, Core.Scaler? scaler, OnnxExportOptions options)
        where T : IFloatingPointIeee754<T>
    {
        options.Check();
        if (scaler is not null && scaler.Width != network.InputWidth)
        {
            throw new ArgumentException($"The {scaler} maps {scaler.Width} features, but the network takes {network.InputWidth} inputs.", nameof(scaler));
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
            var output = index == network.Depth ? OnnxFormat.OutputName : $"layer{index}.a";
            input = AddLayer(graph, layer, new Place(index, shape, next, options.Opset), input, output);
        }

        var model = new Proto.ModelProto
        {
            IrVersion = options.IrVersion,
            ProducerName = OnnxFormat.ProducerName,
            ProducerVersion = OnnxFormat.ProducerVersion,
            DocString = scaler is null ? network.ToString() : $"{network} after a {scaler}",
            Graph = graph,
        };
        model.OpsetImport.Add(new Proto.OperatorSetIdProto { Domain = string.Empty, Version = options.Opset });
        if (scaler is not null)
        {
            model.MetadataProps.Add(new Proto.StringStringEntryProto { Key = OnnxFormat.ScalerProperty, Value = OnnxFormat.ScalerKindName(scaler.Kind) });
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
        var dims = Dims(example);
        graph.Initializer.Add(Initializer("scaler.offset", dims, scaler.Offsets.ToArray()));
        graph.Initializer.Add(Initializer("scaler.scale", dims, scaler.Scales.ToArray()));
        var single = typeof(T) == typeof(float);
        var x = input;
        if (single)
        {
            graph.Node.Add(Node("Cast", "scaler.widen", new[] { input }, "scaler.x", $"{scaler}: x in float64, exactly", Int("to", (int)Proto.TensorProto.Types.DataType.Double)));
            x = "scaler.x";
        }

        var scaled = single ? "scaler.scaled" : "scaler.a";
        graph.Node.Add(Node("Sub", "scaler.sub", new[] { x, "scaler.offset" }, "scaler.centred", $"{scaler}: x − offset"));
        graph.Node.Add(Node("Div", "scaler.div", new[] { "scaler.centred", "scaler.scale" }, scaled, $"{scaler}: x′ = (x − offset)/scale"));
        if (single)
        {
            graph.Node.Add(Node("Cast", "scaler.narrow", new[] { scaled }, "scaler.a", $"{scaler}: x′ rounded once to float32", Int("to", (int)Proto.TensorProto.Types.DataType.Float)));
        }

        return "scaler.a";
    }

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
