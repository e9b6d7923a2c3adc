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
        var narrow = single ? Producer(graph, y, "Cast", (int)DataType.Float) : null;
        var add = Producer(graph, narrow?.Input[0] ?? y, "Add", null);
        var mul = Producer(graph, add.Input[0], "Mul", null);
        var widen = single ? Producer(graph, mul.Input[0], "Cast", (int)DataType.Double) : null;
        var a = (widen ?? mul).Input[0];
        var tail = new[] { narrow, add, mul, widen }.OfType<Proto.NodeProto>().ToList();

        // The values between the tail's nodes feed the next one alone.
        var others = graph.Node.Where(n => !tail.Any(t => ReferenceEquals(t, n))).ToList();
        foreach (var inner in tail.Skip(1).Select(n => n.Output[0]))
        {
            if (others.Any(n => n.Input.Contains(inner)))
            {
                throw Refused($"{OnnxFormat.Quote(inner)}, inside the target scaler, is read by another node too");
            }
        }

        var scales = PerOutput(graph, mul, "scale");
        var offsets = PerOutput(graph, add, "offset");
        if (scales.Length != offsets.Length)
        {
            throw new InvalidDataException($"The model is not valid ONNX: its target scaler has {scales.Length} scales but {offsets.Length} offsets; each output has one of each.");
        }

        Core.Scaler scaler;
        try
        {
            scaler = Core.ScalerModule.create(kind, offsets, scales);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"The model's target scaler is not valid: {CallerTerms.Explanation(e)}");
        }

        var trimmed = graph.Clone();
        trimmed.Node.Clear();
        trimmed.Node.AddRange(others.Select(n => n.Clone()));
        trimmed.Output.Clear();
        trimmed.Output.Add(Output(a, elementType, scaler.Width));
        return (trimmed, scaler);
    }

    /// <summary>The node that writes <paramref name="value"/>, which must be <paramref name="op"/> (a Cast to <paramref name="castTo"/>), with one output.</summary>
    private static Proto.NodeProto Producer(Proto.GraphProto graph, string value, string op, int? castTo)
    {
        var writers = graph.Node.Where(n => n.Output.Contains(value)).ToList();
        if (writers.Count != 1 || writers[0].OpType != op || writers[0].Domain is not ("" or "ai.onnx") || writers[0].Output.Count != 1 || writers[0].Input.Count != (op == "Cast" ? 1 : 2))
        {
            var found = writers.Count == 1 ? $"{OnnxFormat.Quote(writers[0].OpType)} node {OnnxFormat.Quote(writers[0].Name)}" : $"{writers.Count} nodes";
            throw Refused($"{OnnxFormat.Quote(value)} is written by {found}, where the target scaler's {op} belongs");
        }

        if (castTo is { } to && writers[0].Attribute.SingleOrDefault(attribute => attribute.Name == "to")?.I != to)
        {
            throw Refused($"the Cast node {OnnxFormat.Quote(writers[0].Name)} does not cast to {OnnxFormat.TypeName(to)}");
        }

        return writers[0];
    }

    /// <summary>The node's second operand, an initializer of one DOUBLE value per output ([n] or [1, n]).</summary>
    private static double[] PerOutput(Proto.GraphProto graph, Proto.NodeProto node, string role)
    {
        var tensor = graph.Initializer.SingleOrDefault(i => i.Name == node.Input[1])
            ?? throw Refused($"the {role} of node {OnnxFormat.Quote(node.Name)}, {OnnxFormat.Quote(node.Input[1])}, is not an initializer");
        var what = $"The target scaler's {role} {OnnxFormat.Quote(tensor.Name)}";
        if (tensor.DataType != (int)DataType.Double)
        {
            throw Refused($"{what} holds {OnnxFormat.TypeName(tensor.DataType)} values, where the target scaler computes in DOUBLE");
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
