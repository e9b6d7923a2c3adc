using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Proto = global::Onnx;

namespace FunctionalBackprop.Onnx.Import;

/// <summary>The graph's one data input x: its name, element type and the shape of one example.</summary>
/// <param name="Name">Its name in the graph.</param>
/// <param name="ElementType">TensorProto.DataType of its elements.</param>
/// <param name="ExampleShape">Its dims without the batch axis; null when the file gives no shape, −1 for a symbolic dim.</param>
internal sealed record GraphInput(string Name, int ElementType, long[]? ExampleShape)
{
    /// <summary>
    /// Finds x: the one graph input that is not an initializer (files of IR version 3, and PyTorch's
    /// keep_initializers_as_inputs, list the initializers among the inputs too).
    /// </summary>
    public static GraphInput Find(Proto.GraphProto graph)
    {
        var initializers = new HashSet<string>(graph.Initializer.Select(i => i.Name), StringComparer.Ordinal);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var input in graph.Input)
        {
            if (input.Name.Length == 0)
            {
                throw new InvalidDataException("The model is not valid ONNX: a graph input has no name.");
            }

            if (!names.Add(input.Name))
            {
                throw new InvalidDataException($"The model is not valid ONNX: the graph input {OnnxFormat.Quote(input.Name)} is listed twice.");
            }
        }

        var data = graph.Input.Where(i => !initializers.Contains(i.Name)).ToList();
        if (data.Count == 0)
        {
            throw new InvalidDataException("The model is not valid ONNX: every graph input is an initializer, so the graph has no input x to compute from.");
        }

        if (data.Count > 1)
        {
            throw new NotSupportedException($"The graph has {data.Count} inputs ({string.Join(", ", data.Select(d => OnnxFormat.Quote(d.Name)))}); a network takes one, x [batch, n] or [batch, C, H, W]. {OnnxFormat.Accepted}.");
        }

        var x = data[0];
        var what = $"The graph input {OnnxFormat.Quote(x.Name)}";
        if (x.Type is null)
        {
            throw new InvalidDataException($"The model is not valid ONNX: {what} has no type.");
        }

        if (x.Type.TensorType is not { } tensor)
        {
            throw new NotSupportedException($"{what} is a {x.Type.ValueCase} rather than a tensor; a network takes a tensor [batch, n] or [batch, C, H, W]. {OnnxFormat.Accepted}.");
        }

        return new GraphInput(x.Name, tensor.ElemType, ExampleShapeOf(tensor.Shape, what));
    }

    /// <summary>The dims after the batch axis: −1 where symbolic or unset; null when there is no shape.</summary>
    private static long[]? ExampleShapeOf(Proto.TensorShapeProto? shape, string what)
    {
        if (shape is null)
        {
            return null;
        }

        if (shape.Dim.Count < 2)
        {
            throw new NotSupportedException($"{what} has rank {shape.Dim.Count}; a network takes a batch of examples, [batch, n], images [batch, C, H, W], or [batch, d₁, …] with a Flatten. {OnnxFormat.Accepted}.");
        }

        var dims = shape.Dim.Skip(1).Select(d => d.ValueCase == Proto.TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? d.DimValue : -1).ToArray();
        foreach (var d in shape.Dim)
        {
            if (d.ValueCase == Proto.TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue && d.DimValue < 0)
            {
                throw new InvalidDataException($"The model is not valid ONNX: {what} has a negative dimension ({d.DimValue}).");
            }
        }

        if (dims.Any(d => d == 0))
        {
            throw new NotSupportedException($"{what} has an empty dimension (0) in each example; a network needs at least one input value. {OnnxFormat.Accepted}.");
        }

        return dims;
    }
}
