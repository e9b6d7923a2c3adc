using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Proto = global::Onnx;
using AttributeType = global::Onnx.AttributeProto.Types.AttributeType;

namespace FunctionalBackprop.Onnx.Import;

/// <summary>
/// One node as the reader sees it: its inputs and outputs counted, its attributes checked against
/// those its operator defines, and errors that name it ("node 3 '/1/Gemm' (Gemm)").
/// </summary>
internal sealed class NodeReader
{
    private readonly Dictionary<string, Proto.AttributeProto> attributes = new(StringComparer.Ordinal);

    /// <summary>Reads the node's attributes, refusing duplicates, function references and names its operator does not define.</summary>
    /// <param name="node">The node.</param>
    /// <param name="index">Its index in the graph, from 0.</param>
    /// <param name="known">The attribute names its operator defines at the model's opset.</param>
    public NodeReader(Proto.NodeProto node, int index, IReadOnlyCollection<string> known)
    {
        Node = node;
        Description = node.Name.Length > 0 ? $"node {index + 1} {OnnxFormat.Quote(node.Name)} ({node.OpType})" : $"node {index + 1} ({node.OpType})";
        foreach (var attribute in node.Attribute)
        {
            if (!known.Contains(attribute.Name))
            {
                throw Invalid($"has an attribute {OnnxFormat.Quote(attribute.Name)}, which {node.OpType} does not define" +
                    (known.Count == 0 ? "." : $" (it defines {string.Join(", ", known)})."));
            }

            if (attribute.RefAttrName.Length > 0)
            {
                throw Invalid($"refers its attribute {OnnxFormat.Quote(attribute.Name)} to a function's attribute, which only nodes inside functions may do.");
            }

            if (!attributes.TryAdd(attribute.Name, attribute))
            {
                throw Invalid($"sets its attribute {OnnxFormat.Quote(attribute.Name)} twice.");
            }
        }
    }

    /// <summary>The node.</summary>
    public Proto.NodeProto Node { get; }

    /// <summary>"node 3 '/1/Gemm' (Gemm)".</summary>
    public string Description { get; }

    /// <summary>An InvalidDataException: "{node} {what}".</summary>
    public InvalidDataException Invalid(string what) => new($"The model is not valid ONNX: {Description} {what}");

    /// <summary>A NotSupportedException: "{node} {what}. FunctionalBackprop reads …" (no full stop after what).</summary>
    public NotSupportedException Unsupported(string what) => new($"{Description} {what}. {OnnxFormat.Accepted}.");

    /// <summary>Checks how many inputs and outputs the node has, counting trailing optional ones that are absent ("").</summary>
    public void Arity(int leastInputs, int mostInputs, int leastOutputs, int mostOutputs)
    {
        var inputs = Node.Input.Count;
        var outputs = Node.Output.Count;
        if (inputs < leastInputs || inputs > mostInputs)
        {
            throw Invalid($"has {inputs} inputs; {Node.OpType} takes {Range(leastInputs, mostInputs)}.");
        }

        if (outputs < leastOutputs || outputs > mostOutputs)
        {
            throw Invalid($"has {outputs} outputs; {Node.OpType} gives {Range(leastOutputs, mostOutputs)}.");
        }

        for (var k = 0; k < leastInputs; k++)
        {
            if (Node.Input[k].Length == 0)
            {
                throw Invalid($"leaves its input {k + 1} empty, which {Node.OpType} requires.");
            }
        }
    }

    private static string Range(int least, int most) => least == most ? $"{least}" : $"{least} to {most}";

    /// <summary>An INT attribute, or the default when absent.</summary>
    public long Int(string name, long fallback) =>
        attributes.TryGetValue(name, out var a) ? Typed(a, AttributeType.Int).I : fallback;

    /// <summary>A FLOAT attribute, or the default when absent.</summary>
    public float Float(string name, float fallback) =>
        attributes.TryGetValue(name, out var a) ? Typed(a, AttributeType.Float).F : fallback;

    /// <summary>An INTS attribute, or null when absent.</summary>
    public long[]? Ints(string name) =>
        attributes.TryGetValue(name, out var a) ? Typed(a, AttributeType.Ints).Ints.ToArray() : null;

    /// <summary>A STRING attribute (as UTF-8), or the default when absent.</summary>
    public string String(string name, string fallback) =>
        attributes.TryGetValue(name, out var a) ? Typed(a, AttributeType.String).S.ToStringUtf8() : fallback;

    /// <summary>True when the attribute is present.</summary>
    public bool Has(string name) => attributes.ContainsKey(name);

    /// <summary>The one attribute set, for Constant (which takes exactly one).</summary>
    public Proto.AttributeProto Single()
    {
        if (attributes.Count != 1)
        {
            throw Invalid($"sets {attributes.Count} attributes; a Constant sets exactly one of value, value_float, value_floats, value_int, value_ints, … .");
        }

        return attributes.Values.Single();
    }

    /// <summary>The attribute, checked to have the expected type.</summary>
    public Proto.AttributeProto Typed(Proto.AttributeProto attribute, AttributeType type)
    {
        if (attribute.Type != type)
        {
            throw Invalid($"gives its attribute {OnnxFormat.Quote(attribute.Name)} as {attribute.Type.ToString().ToUpperInvariant()}, but it is {type.ToString().ToUpperInvariant()}.");
        }

        return attribute;
    }

    /// <summary>
    /// A setting from the FLOAT that holds it (LeakyRelu's alpha, a float32 Max(z, αz),
    /// BatchNormalization's epsilon): the shortest decimal that rounds to that float32. Exporters
    /// are given a setting such as 0.01 and must round it to float32; this recovers it, computes the
    /// same float32 network bit for bit, and in float64 computes what the exporter computed rather
    /// than with the rounded 0.009999999776.
    /// </summary>
    public static double Shortest(float value) => double.Parse(value.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
}
