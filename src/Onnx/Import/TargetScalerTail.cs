using System;
using System.IO;
using System.Linq;
using Core = FunctionalBackprop.Core;
using DataType = global::Onnx.TensorProto.Types.DataType;
using Proto = global::Onnx;

namespace FunctionalBackprop.Onnx.Import;

/// <summary>
/// A regression network's target scaler after the last layer, y = a·scale + offset, in the one
/// form that computes what the library's Scaler.inverse computes: in float64, rounded once to the
/// graph's type. In a DOUBLE graph that is Mul(a, scale) then Add(·, offset) writing the graph's
/// output; in a FLOAT graph Cast(a, DOUBLE), the same Mul and Add, then Cast(·, FLOAT). The model's
/// metadata names the kind. The tail is taken off the graph before the layers are read, so the
/// reader of the layers sees a network that ends in a; only a model whose metadata names a target
/// scaler is read so.
/// </summary>
internal static class TargetScalerTail
{
    /// <summary>How a target scaler is read, for the messages that refuse other forms.</summary>
    private static string Form =>
        $"a target scaler is read as Mul(a, scale) then Add(·, offset) with DOUBLE initializers of one value per output, computed in float64 " +
        $"(in a FLOAT graph between Cast(a, DOUBLE) and Cast(·, FLOAT)), writing the graph's output, with its kind in the model's metadata property '{OnnxFormat.TargetScalerProperty}'";

    /// <summary>
    /// The graph without its target scaler's nodes (its output then the last layer's output a,
    /// declared [batch, n] of the graph's type) and the scaler; the graph itself and null when the
    /// model names no target scaler.
    /// </summary>
    /// <exception cref="NotSupportedException">The metadata names a target scaler, but the graph does not end in one in the form written.</exception>
    /// <exception cref="InvalidDataException">The scaler's constants are not valid (a scale that is not positive, a value that is not finite, a shape that does not broadcast).</exception>
    public static (Proto.GraphProto Graph, Core.Scaler? Scaler) Split(Proto.GraphProto graph, int elementType, Core.ScalerKind? kind)
    {
        if (kind is null)
        {
            return (graph, null);
        }

        if (graph.Output.Count != 1)
        {
            throw Refused($"the graph has {graph.Output.Count} outputs");
        }

        var single = elementType == (int)DataType.Float;
        var y = graph.Output[0].Name;
        var narrow = single ? Producer(graph, y, graph.Node.Count, "Cast", (int)DataType.Float) : null;
        var add = Producer(graph, narrow?.Input[0] ?? y, Index(graph, narrow), "Add", null);
        var mul = Producer(graph, add.Input[0], Index(graph, add), "Mul", null);
        var widen = single ? Producer(graph, mul.Input[0], Index(graph, mul), "Cast", (int)DataType.Double) : null;
        var first = widen ?? mul;
        var a = first.Input[0];
        var tail = new[] { narrow, add, mul, widen }.OfType<Proto.NodeProto>().ToList();
        var writerOfA = Enumerable.Range(0, graph.Node.Count).FirstOrDefault(i => graph.Node[i].Output.Contains(a), -1);
        if (writerOfA >= Index(graph, first))
        {
            throw OutOfOrder(graph, Index(graph, first), a, writerOfA);
        }

        CheckReadAlone(graph, tail);
        var others = graph.Node.Where(n => !tail.Any(t => ReferenceEquals(t, n))).ToList();
        var scaler = ScalerOf(graph, mul, add, kind);
        var trimmed = graph.Clone();
        trimmed.Node.Clear();
        trimmed.Node.AddRange(others.Select(n => n.Clone()));
        trimmed.Output.Clear();
        trimmed.Output.Add(Output(a, elementType, scaler.Width));
        return (trimmed, scaler);
    }

    /// <summary>
    /// Checks that the values the tail writes feed its next node (or are the output) alone: a node
    /// that reads one before it is written is out of order (or a cycle), one that reads it after is
    /// a branch.
    /// </summary>
    private static void CheckReadAlone(Proto.GraphProto graph, System.Collections.Generic.List<Proto.NodeProto> tail)
    {
        foreach (var node in tail)
        {
            var written = Index(graph, node);
            for (var i = 0; i < graph.Node.Count; i++)
            {
                if (!tail.Any(t => ReferenceEquals(t, graph.Node[i])) && graph.Node[i].Input.Contains(node.Output[0]))
                {
                    throw i <= written
                        ? OutOfOrder(graph, i, node.Output[0], written)
                        : Refused($"{OnnxFormat.Quote(node.Output[0])}, inside the target scaler, is read by another node too");
                }
            }
        }
    }

    /// <summary>The scaler of the Mul's scales and the Add's offsets, one of each per output; <see cref="InvalidDataException"/> when they are not valid.</summary>
    private static Core.Scaler ScalerOf(Proto.GraphProto graph, Proto.NodeProto mul, Proto.NodeProto add, Core.ScalerKind kind)
    {
        var scales = PerOutput(graph, mul, "scale");
        var offsets = PerOutput(graph, add, "offset");
        if (scales.Length != offsets.Length)
        {
            throw new InvalidDataException($"The model is not valid ONNX: its target scaler has {scales.Length} scales but {offsets.Length} offsets; each output has one of each.");
        }

        try
        {
            return Core.ScalerModule.create(kind, offsets, scales);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"The model's target scaler is not valid: {CallerTerms.Explanation(e)}");
        }
    }

    /// <summary>
    /// The node that writes <paramref name="value"/>, read by node <paramref name="reader"/> (the
    /// node count for the graph's output), which must be <paramref name="op"/> (a Cast to
    /// <paramref name="castTo"/>) with one output; a value no node or several nodes write, or one
    /// written at or after its reader, is not valid ONNX.
    /// </summary>
    private static Proto.NodeProto Producer(Proto.GraphProto graph, string value, int reader, string op, int? castTo)
    {
        var writers = Enumerable.Range(0, graph.Node.Count).Where(i => graph.Node[i].Output.Contains(value)).ToList();
        if (writers.Count > 1)
        {
            throw new InvalidDataException($"The model is not valid ONNX: {OnnxFormat.Quote(value)} is written by {writers.Count} nodes; every value has one definition.");
        }

        if (writers.Count == 0)
        {
            throw graph.Initializer.Any(i => i.Name == value) || graph.Input.Any(i => i.Name == value)
                ? Refused($"{OnnxFormat.Quote(value)} is an initializer or input, where the target scaler's {op} belongs")
                : new InvalidDataException($"The model is not valid ONNX: {OnnxFormat.Quote(value)}, which the target scaler reads, is defined by no node, initializer or input.");
        }

        if (writers[0] >= reader)
        {
            throw OutOfOrder(graph, reader, value, writers[0]);
        }

        var writer = graph.Node[writers[0]];
        if (writer.OpType != op || writer.Domain is not ("" or "ai.onnx") || writer.Output.Count != 1 || writer.Input.Count != (op == "Cast" ? 1 : 2))
        {
            throw Refused($"{OnnxFormat.Quote(value)} is written by the {OnnxFormat.Quote(writer.OpType)} node {OnnxFormat.Quote(writer.Name)}, where the target scaler's {op} belongs");
        }

        if (castTo is { } to && writer.Attribute.SingleOrDefault(attribute => attribute.Name == "to")?.I != to)
        {
            throw Refused($"the Cast node {OnnxFormat.Quote(writer.Name)} does not cast to {OnnxFormat.TypeName(to)}");
        }

        return writer;
    }

    /// <summary>The node's index in the graph (the node count for none: the graph's output).</summary>
    private static int Index(Proto.GraphProto graph, Proto.NodeProto? node) =>
        node is null ? graph.Node.Count : Enumerable.Range(0, graph.Node.Count).First(i => ReferenceEquals(graph.Node[i], node));

    /// <summary>Node <paramref name="reader"/> reads <paramref name="value"/> before node <paramref name="writer"/> writes it.</summary>
    private static InvalidDataException OutOfOrder(Proto.GraphProto graph, int reader, string value, int writer) =>
        new($"The model is not valid ONNX: node {reader + 1} ({graph.Node[Math.Min(reader, graph.Node.Count - 1)].OpType}) reads {OnnxFormat.Quote(value)} before node {writer + 1} produces it: the nodes are not in topological order, or they form a cycle.");


    /// <summary>The node's second operand, an initializer of one DOUBLE value per output ([n] or [1, n]).</summary>
    private static double[] PerOutput(Proto.GraphProto graph, Proto.NodeProto node, string role)
    {
        var name = node.Input[1];
        var tensors = graph.Initializer.Where(i => i.Name == name).ToList();
        if (tensors.Count != 1)
        {
            throw tensors.Count > 1
                ? new InvalidDataException($"The model is not valid ONNX: two initializers are named {OnnxFormat.Quote(name)}.")
                : graph.Node.Any(n => n.Output.Contains(name)) || graph.Input.Any(i => i.Name == name)
                    ? Refused($"the {role} of node {OnnxFormat.Quote(node.Name)}, {OnnxFormat.Quote(name)}, is not an initializer")
                    : new InvalidDataException($"The model is not valid ONNX: node {OnnxFormat.Quote(node.Name)} reads {OnnxFormat.Quote(name)}, which no graph input, initializer or node defines (a missing initializer?).");
        }

        var tensor = tensors[0];
        var what = $"The target scaler's {role} {OnnxFormat.Quote(name)}";
        if (tensor.DataType != (int)DataType.Double)
        {
            throw new InvalidDataException($"The model is not valid ONNX: {what} holds {OnnxFormat.TypeName(tensor.DataType)} values, but the target scaler's {node.OpType} computes in DOUBLE; both operands have one type.");
        }

        var dims = Tensors.Shape(tensor, what);
        if (!(dims.Length == 1 || (dims.Length == 2 && dims[0] == 1)) || dims[^1] < 1)
        {
            throw Refused($"{what} has the shape [{string.Join(", ", dims)}], where one value per output ([n] or [1, n]) belongs");
        }

        return Tensors.Reals<double>(tensor, what);
    }

    /// <summary>The graph's output after the tail is taken off: the last layer's output a, [batch, n] of the graph's type.</summary>
    private static Proto.ValueInfoProto Output(string name, int elementType, int width)
    {
        var shape = new Proto.TensorShapeProto();
        shape.Dim.Add(new Proto.TensorShapeProto.Types.Dimension { DimParam = "batch" });
        shape.Dim.Add(new Proto.TensorShapeProto.Types.Dimension { DimValue = width });
        return new Proto.ValueInfoProto { Name = name, Type = new Proto.TypeProto { TensorType = new Proto.TypeProto.Types.Tensor { ElemType = elementType, Shape = shape } } };
    }

    private static NotSupportedException Refused(string why) =>
        new($"The model's metadata names a target scaler, but {why}; {Form}.");
}
