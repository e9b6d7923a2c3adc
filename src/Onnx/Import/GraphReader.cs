using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Numerics;
using Core = FunctionalBackprop.Core;
using Proto = global::Onnx;

namespace FunctionalBackprop.Onnx.Import;

/// <summary>
/// Reads a graph as a network by walking its nodes in order and tracking, for every value, what it
/// is: a constant, or x after its scaler (if any) and so many completed layers, plus the current
/// layer's progress (z = W a or W ⋆ a, then + b, then σ; a Pad's zeros before the layer that takes
/// them as its padding). Every node must be one of the forms a layer or an input scaler takes;
/// anything else is refused, naming the node, so a graph is either read exactly or not at all. The
/// operators are read in files by family: GraphReader.Linear.cs (Gemm, MatMul, Add),
/// .Activations.cs, .Convolution.cs (Conv), .Pooling.cs (MaxPool, AveragePool, Pad),
/// .Normalization.cs (BatchNormalization), .Values.cs (Flatten, Reshape, Identity, Dropout,
/// Constant) and .Scaler.cs (Sub, Div, Cast around them).
/// </summary>
/// <typeparam name="T">The graph's element type: float for FLOAT, double for DOUBLE.</typeparam>
internal sealed partial class GraphReader<T>
    where T : IFloatingPointIeee754<T>
{
    private readonly Proto.GraphProto graph;
    private readonly int opset;
    private readonly Core.ScalerKind? scalerKind;
    private readonly Dictionary<string, Value> values = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> producers = new(StringComparer.Ordinal);
    private long[]? inputShape;

    // Decoded once per tensor, however many nodes read it, so allocation stays bounded by the file.
    private readonly Dictionary<Proto.TensorProto, T[]> reals = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Proto.TensorProto, Core.Matrix<T>> weights = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Proto.TensorProto, Core.Matrix<T>> rowMajorWeights = new(ReferenceEqualityComparer.Instance);

    private GraphReader(Proto.GraphProto graph, int opset, Core.ScalerKind? scalerKind)
    {
        this.graph = graph;
        this.opset = opset;
        this.scalerKind = scalerKind;
    }

    /// <summary>
    /// The network the graph computes, from its input x (of element type T) to its one output, and
    /// the scaler x goes through first (null when none). <paramref name="scalerKind"/> is the kind
    /// the model's metadata names; a graph that scales its input is read only when it names one.
    /// </summary>
    public static (Core.Network<T> Network, Core.Scaler? Scaler) Read(Proto.GraphProto graph, GraphInput input, int opset, Core.ScalerKind? scalerKind) =>
        new GraphReader<T>(graph, opset, scalerKind).Run(input);

    private (Core.Network<T> Network, Core.Scaler? Scaler) Run(GraphInput input)
    {
        if (graph.SparseInitializer.Count > 0)
        {
            throw new NotSupportedException($"The graph has {graph.SparseInitializer.Count} sparse initializers; only dense tensors are read. {OnnxFormat.Accepted}.");
        }

        foreach (var initializer in graph.Initializer)
        {
            if (initializer.Name.Length == 0)
            {
                throw new InvalidDataException("The model is not valid ONNX: an initializer has no name.");
            }

            if (!values.TryAdd(initializer.Name, new ConstantValue(initializer, $"initializer {OnnxFormat.Quote(initializer.Name)}")))
            {
                throw new InvalidDataException($"The model is not valid ONNX: two initializers are named {OnnxFormat.Quote(initializer.Name)}.");
            }
        }

        inputShape = input.ExampleShape;
        values[input.Name] = new DataValue<T>(ImmutableList<Core.Layer<T>>.Empty, Features<T>.Instance, input.ExampleShape);
        for (var i = graph.Node.Count - 1; i >= 0; i--)
        {
            foreach (var output in graph.Node[i].Output)
            {
                producers[output] = i;
            }
        }

        for (var i = 0; i < graph.Node.Count; i++)
        {
            Apply(graph.Node[i], i);
        }

        return Finish();
    }

    // ----- the walk -----

    private void Apply(Proto.NodeProto node, int index)
    {
        if (node.Domain is not ("" or "ai.onnx"))
        {
            var where = node.Name.Length > 0 ? $"node {index + 1} {OnnxFormat.Quote(node.Name)}" : $"node {index + 1}";
            throw new NotSupportedException($"{where} ({OnnxFormat.Quote(node.Domain)}.{node.OpType}) is an operator of another domain than ai.onnx. {OnnxFormat.Accepted}.");
        }

        if (!KnownAttributes.TryGetValue(node.OpType, out var known))
        {
            var r = new NodeReader(node, index, AllAttributes(node));
            throw r.Unsupported("is not an operator a network is read from");
        }

        var reader = new NodeReader(node, index, known(opset));
        var results = node.OpType switch
        {
            "Gemm" => new[] { Gemm(reader) },
            "MatMul" => new[] { MatMul(reader) },
            "Add" => new[] { Add(reader) },
            "Relu" => new[] { Activate(reader, Core.Activation.ReLU) },
            "Sigmoid" => new[] { Activate(reader, Core.Activation.Sigmoid) },
            "Tanh" => new[] { Activate(reader, Core.Activation.Tanh) },
            "Softmax" => new[] { Softmax(reader) },
            "LeakyRelu" => new[] { LeakyRelu(reader) },
            "Mul" => new[] { Mul(reader) },
            "Max" => new[] { Max(reader) },
            "Greater" => new[] { Greater(reader) },
            "Cast" => new[] { Cast(reader) },
            "Sub" => new[] { Sub(reader) },
            "Div" => new[] { Div(reader) },
            "Flatten" => new[] { Flatten(reader) },
            "Reshape" => new[] { Reshape(reader) },
            "Identity" => new[] { Identity(reader) },
            "Dropout" => Dropout(reader),
            "Conv" => new[] { Conv(reader) },
            "MaxPool" => MaxPool(reader),
            "AveragePool" => new[] { AveragePool(reader) },
            "Pad" => new[] { Pad(reader) },
            "BatchNormalization" => BatchNormalization(reader),
            "Shape" => new[] { Shape(reader) },
            "Gather" => new[] { Gather(reader) },
            "Unsqueeze" => new[] { Unsqueeze(reader) },
            "Concat" => new[] { Concat(reader) },
            _ => new[] { Constant(reader) },
        };
        for (var k = 0; k < node.Output.Count; k++)
        {
            var name = node.Output[k];
            if (name.Length == 0)
            {
                continue;
            }

            if (!values.TryAdd(name, results[k]))
            {
                throw reader.Invalid($"defines {OnnxFormat.Quote(name)}, which is already defined (by an earlier node, an initializer or the graph input): every value has one definition.");
            }
        }
    }

    /// <summary>The attribute names each operator defines, by opset; an operator missing here is not read.</summary>
    private static readonly Dictionary<string, Func<int, string[]>> KnownAttributes = new(StringComparer.Ordinal)
    {
        ["Gemm"] = _ => new[] { "alpha", "beta", "transA", "transB" },
        ["MatMul"] = _ => Array.Empty<string>(),
        ["Add"] = _ => Array.Empty<string>(),
        ["Relu"] = _ => Array.Empty<string>(),
        ["Sigmoid"] = _ => Array.Empty<string>(),
        ["Tanh"] = _ => Array.Empty<string>(),
        ["Softmax"] = _ => new[] { "axis" },
        ["LeakyRelu"] = _ => new[] { "alpha" },
        ["Mul"] = _ => Array.Empty<string>(),
        ["Max"] = _ => Array.Empty<string>(),
        ["Greater"] = _ => Array.Empty<string>(),
        ["Cast"] = opset => opset >= 19 ? new[] { "to", "saturate" } : new[] { "to" },
        ["Sub"] = _ => Array.Empty<string>(),
        ["Div"] = _ => Array.Empty<string>(),
        ["Flatten"] = _ => new[] { "axis" },
        ["Reshape"] = opset => opset >= 14 ? new[] { "allowzero" } : Array.Empty<string>(),
        ["Identity"] = _ => Array.Empty<string>(),
        ["Dropout"] = opset => opset >= 12 ? new[] { "seed" } : new[] { "ratio" },
        ["Conv"] = _ => new[] { "auto_pad", "dilations", "group", "kernel_shape", "pads", "strides" },
        ["MaxPool"] = opset => opset >= 10
            ? new[] { "auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides" }
            : new[] { "auto_pad", "kernel_shape", "pads", "storage_order", "strides" },
        ["AveragePool"] = opset => opset >= 19
            ? new[] { "auto_pad", "ceil_mode", "count_include_pad", "dilations", "kernel_shape", "pads", "strides" }
            : opset >= 10 ? new[] { "auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides" }
            : new[] { "auto_pad", "count_include_pad", "kernel_shape", "pads", "strides" },
        ["Pad"] = opset => opset >= 11 ? new[] { "mode" } : new[] { "mode", "pads", "value" },
        ["BatchNormalization"] = opset => opset >= 14 ? new[] { "epsilon", "momentum", "training_mode" } : new[] { "epsilon", "momentum" },
        ["Shape"] = opset => opset >= 15 ? new[] { "end", "start" } : Array.Empty<string>(),
        ["Gather"] = _ => new[] { "axis" },
        ["Unsqueeze"] = opset => opset >= 13 ? Array.Empty<string>() : new[] { "axes" },
        ["Concat"] = _ => new[] { "axis" },
        ["Constant"] = opset => opset >= 12
            ? new[] { "value", "sparse_value", "value_float", "value_floats", "value_int", "value_ints", "value_string", "value_strings" }
            : opset >= 11 ? new[] { "value", "sparse_value" } : new[] { "value" },
    };

    private static string[] AllAttributes(Proto.NodeProto node) => node.Attribute.Select(a => a.Name).Distinct(StringComparer.Ordinal).ToArray();

    // ----- reading a node's inputs -----

    /// <summary>Input k, or null when it is absent (an optional input left empty or not given).</summary>
    private Value? Optional(NodeReader r, int k)
    {
        if (k >= r.Node.Input.Count || r.Node.Input[k].Length == 0)
        {
            return null;
        }

        var name = r.Node.Input[k];
        if (values.TryGetValue(name, out var value))
        {
            return value;
        }

        if (producers.TryGetValue(name, out var producer))
        {
            throw r.Invalid($"reads {OnnxFormat.Quote(name)} before node {producer + 1} produces it: the nodes are not in topological order, or they form a cycle.");
        }

        throw r.Invalid($"reads {OnnxFormat.Quote(name)}, which no graph input, initializer or node defines (a missing initializer?).");
    }

    private Value Required(NodeReader r, int k) =>
        Optional(r, k) ?? throw r.Invalid($"leaves its input {k + 1} empty, which {r.Node.OpType} requires.");

    /// <summary>Input k as the data flowing from x.</summary>
    private DataValue<T> Data(NodeReader r, int k) => Required(r, k) switch
    {
        DataValue<T> data => data,
        ConstantValue c => throw r.Unsupported($"takes the constant {c.Origin} as its input {k + 1}, where the data computed from x must flow"),
        UnmodelledValue u => throw r.Unsupported($"reads {u.What}"),
        var other => throw new InvalidOperationException($"Unexpected value {other}."),
    };

    /// <summary>Input k as a constant tensor.</summary>
    private ConstantValue Constant(NodeReader r, int k, string role) => Required(r, k) switch
    {
        ConstantValue c => c,
        DataValue<T> => throw r.Unsupported($"takes data computed from x as its {role}, which must be a constant (an initializer or a Constant)"),
        UnmodelledValue u => throw r.Unsupported($"reads {u.What}"),
        var other => throw new InvalidOperationException($"Unexpected value {other}."),
    };

    /// <summary>The data with its open layer (if any) completed with the identity activation.</summary>
    private static DataValue<T> Closed(NodeReader r, DataValue<T> data) => data.Stage switch
    {
        Features<T> => data,
        Open<T> => Completed(data, Core.Activation.Identity),
        _ => throw Misplaced(r, data.Stage),
    };

    /// <summary>
    /// The refusal for a node that reads part of a form of several nodes: half of a two-node
    /// activation (z > 0 without its Cast, α·z without its Max) or an input scaler not yet complete.
    /// </summary>
    private static NotSupportedException Misplaced(NodeReader r, Stage<T> stage) => stage switch
    {
        Compared<T> => r.Unsupported("reads the comparison z > 0 without the Cast to a real type that makes it the step activation"),
        Scaled<T> => r.Unsupported("reads α·z outside max(z, α·z), the leaky ReLU"),
        Widened<T> => r.Unsupported($"reads the input x cast to DOUBLE outside an input scaler; {ScalerForm}"),
        Centred<T> => r.Unsupported($"reads x − offset without the Div by the scale that completes an input scaler; {ScalerForm}"),
        Rescaled<T> => r.Unsupported($"reads the scaled input in DOUBLE without the Cast to FLOAT that completes an input scaler; {ScalerForm}"),
        Padded<T> => r.Unsupported("reads an image padded with zeros (a Pad) other than as a Conv or AveragePool, into which the zeros are folded as their padding"),
        _ => throw new InvalidOperationException($"No refusal for the stage {stage}."),
    };

    /// <summary>True for the stages at which a value is complete: x (scaled or not) or a layer's output, and a weighted input z.</summary>
    private static bool Complete(Stage<T> stage) => stage is Features<T> or Open<T>;

    /// <summary>
    /// The open layer completed with σ: a dense or convolution layer a = σ(z) when the data is its
    /// weighted input z, or an activation layer a = σ(a_in) when it is a completed output (the input
    /// x, or a layer's output after its activation).
    /// </summary>
    private static DataValue<T> Completed(DataValue<T> data, Core.Activation activation) =>
        data.Stage is Open<T> z
            ? data.Then(z.Close(activation), data.ExampleShape)
            : data.Then(Core.Layer<T>.NewActivation(activation), data.ExampleShape);

    /// <summary>What an activation reads: a layer's weighted input z, or a completed output that an activation layer takes.</summary>
    private static Stage<T> OpenLayer(NodeReader r, DataValue<T> data) => data.Stage switch
    {
        Open<T> z => z,
        Features<T> features => features,
        _ => throw Misplaced(r, data.Stage),
    };

    // ----- the end -----

    private (Core.Network<T> Network, Core.Scaler? Scaler) Finish()
    {
        if (graph.Output.Count == 0)
        {
            throw new InvalidDataException("The model is not valid ONNX: the graph has no output.");
        }

        if (graph.Output.Count > 1)
        {
            throw new NotSupportedException($"The graph has {graph.Output.Count} outputs ({string.Join(", ", graph.Output.Select(o => OnnxFormat.Quote(o.Name)))}); a network gives one, y. {OnnxFormat.Accepted}.");
        }

        var output = graph.Output[0];
        var what = $"The graph output {OnnxFormat.Quote(output.Name)}";
        if (!values.TryGetValue(output.Name, out var value))
        {
            throw new InvalidDataException($"The model is not valid ONNX: {what} is defined by no node, initializer or input.");
        }

        var data = value switch
        {
            DataValue<T> d => d.Stage switch
            {
                Compared<T> => throw new NotSupportedException($"{what} is the comparison z > 0 itself (a boolean tensor), not a network's output. {OnnxFormat.Accepted}."),
                Scaled<T> => throw new NotSupportedException($"{what} is α·z outside max(z, α·z). {OnnxFormat.Accepted}."),
                Padded<T> => throw new NotSupportedException($"{what} is an image padded with zeros by a Pad, which is read only as the padding of the Conv or AveragePool after it. {OnnxFormat.Accepted}."),
                Open<T> => Completed(d, Core.Activation.Identity),
                _ => d,
            },
            ConstantValue c => throw new NotSupportedException($"{what} is the constant {c.Origin}: it does not depend on the input. {OnnxFormat.Accepted}."),
            UnmodelledValue u => throw new NotSupportedException($"{what} is {u.What}, which is not modelled. {OnnxFormat.Accepted}."),
            _ => throw new InvalidOperationException($"Unexpected value {value}."),
        };
        if (data.Layers.IsEmpty)
        {
            throw new NotSupportedException($"{what} is the input x (reshaped or scaled), with no Gemm, MatMul or activation: there is no layer to read. {OnnxFormat.Accepted}.");
        }

        var network = Core.Network.create(InputShapeOf(data, what), data.Layers);
        CheckDeclared(output, what, network.OutputShape);
        return (network, data.Scaler);
    }

    /// <summary>Throws <see cref="InvalidDataException"/> unless the graph declares its output as what it computes: T, [batch, n] or [batch, C, H, W].</summary>
    private static void CheckDeclared(Proto.ValueInfoProto output, string what, Core.Shape computed)
    {
        if (output.Type?.TensorType is { } tensor)
        {
            if (tensor.ElemType != 0 && tensor.ElemType != OnnxFormat.ElementType<T>())
            {
                throw new InvalidDataException($"The model is not valid ONNX: {what} is declared {OnnxFormat.TypeName(tensor.ElemType)}, but the graph computes it in {OnnxFormat.TypeName(OnnxFormat.ElementType<T>())}.");
            }

            var example = Export.Protos.Dims(computed);
            if (tensor.Shape is { } shape &&
                (shape.Dim.Count != example.Length + 1 || example.Where((d, k) => shape.Dim[k + 1].ValueCase == Proto.TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue && shape.Dim[k + 1].DimValue != d).Any()))
            {
                var dims = string.Join(", ", shape.Dim.Select(d => d.ValueCase == Proto.TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? d.DimValue.ToString() : "?"));
                throw new InvalidDataException($"The model is not valid ONNX: {what} is declared [{dims}], but the graph computes [batch, {string.Join(", ", example)}].");
            }
        }
        else if (output.Type is { } other && other.ValueCase != Proto.TypeProto.ValueOneofCase.None)
        {
            throw new InvalidDataException($"The model is not valid ONNX: {what} is declared a {other.ValueCase}, but the graph computes a tensor.");
        }
    }

    /// <summary>
    /// The shape of an input example where the first layer starts: an image C × H × W when x is
    /// [batch, C, H, W] (and not flattened first), a vector when x is [batch, n] or flattened; when
    /// the file does not give the width, the first dense layer's fan-in or the first batch
    /// normalisation's units (the layers before either, if any, are activations, which keep the
    /// width), or for a network of activations alone, the width the graph declares for x.
    /// </summary>
    private Core.Shape InputShapeOf(DataValue<T> data, string what)
    {
        var start = data.InputShape ?? new long[] { -1 };
        if (start.All(d => d > 0))
        {
            return SizeProblem(start) is { } problem
                ? throw new NotSupportedException($"{what} is computed from the input x, which {problem}. {OnnxFormat.Accepted}.")
                : ShapeOf(start);
        }

        long width = data.Layers.Select(l => l switch
        {
            Core.Layer<T>.Dense dense => dense.Item.InputWidth,
            Core.Layer<T>.BatchNorm norm => norm.Item.Scale.Rows,
            _ => 0,
        }).FirstOrDefault(w => w > 0);
        return width > 0
            ? Core.Shape.NewVector((int)width)
            : inputShape is { Length: 1 } shape && shape[0] is > 0 and <= int.MaxValue
                ? Core.Shape.NewVector((int)shape[0])
                : throw new NotSupportedException($"{what} applies activations to the input x alone, whose width the graph does not declare. {OnnxFormat.Accepted}.");
    }

    /// <summary>Why one example of these known dims is too large for a network ("holds [..], more than 2³⁰ values"), or null.</summary>
    private static string? SizeProblem(long[] dims) =>
        dims.Aggregate(1L, (product, d) => product > (1L << 30) || d > (1L << 30) ? long.MaxValue : product * d) > (1L << 30)
            ? $"holds [{string.Join(", ", dims)}], more than 2³⁰ values per example, the most a layer takes"
            : null;

    /// <summary>The core's shape of one example of known dims within <see cref="SizeProblem"/>'s limit: an image for [C, H, W], a vector of their product otherwise.</summary>
    private static Core.Shape ShapeOf(long[] dims) =>
        dims.Length == 3 ? Core.Shape.NewImage((int)dims[0], (int)dims[1], (int)dims[2]) : Core.Shape.NewVector((int)dims.Aggregate(1L, (product, d) => product * d));
}
