using System;
using System.Numerics;
using static FunctionalBackprop.Onnx.Export.Protos;
using Core = FunctionalBackprop.Core;
using Proto = global::Onnx;

namespace FunctionalBackprop.Onnx.Export;

// Dense layers, z = a·Wᵀ + b (W stored [units, inputs], as Nielsen's wⱼₖ and PyTorch's Linear), and
// the activations a = σ(z) every kind ends with. Identity adds no node; leaky ReLU in float64
// (which ONNX Runtime has no kernel for) and the step (which ONNX has no operator for) are written
// as the exact equivalents Max(z, Mul(z, α)) and Cast(Greater(z, 0)).
internal static partial class OnnxWriter
{
    /// <summary>
    /// Adds dense layer l's initializers, its Gemm and its activation, reading <paramref name="input"/>
    /// and writing <paramref name="output"/>; an image input is flattened first (Gemm takes [batch, n]).
    /// </summary>
    private static string AddDense<T>(Proto.GraphProto graph, Core.Dense<T> layer, Place at, string input, string output)
        where T : IFloatingPointIeee754<T>
    {
        if (at.Input is Core.Shape.Image)
        {
            input = AddFlatten(graph, at, input, at.Name("flat"));
        }

        // z = a·Wᵀ + b, for the batch a [batch, inputs] and W [units, inputs].
        var weights = (new long[] { layer.OutputWidth, layer.InputWidth }, RowMajor(layer.Weights));
        return AddAffine(graph, at, "Gemm", input, output, weights, layer.Biases.ToArray(), layer.Activation, $"layer {at.Layer}: {layer}; z = a·Wᵀ + b", Float("alpha", 1f), Float("beta", 1f), Int("transB", 1));
    }

    /// <summary>
    /// Adds layer l's initializers weight and bias (its biases, one per unit or filter), the node
    /// <paramref name="op"/> that computes z from <paramref name="input"/> and them (Gemm or Conv),
    /// and its activation, which writes <paramref name="output"/>.
    /// </summary>
    private static string AddAffine<T>(
        Proto.GraphProto graph, Place at, string op, string input, string output, (long[] Dims, T[] Values) weights, T[] biases, Core.Activation activation, string doc,
        params Proto.AttributeProto[] attributes)
        where T : IFloatingPointIeee754<T>
    {
        var (w, b) = (at.Name("weight"), at.Name("bias"));
        graph.Initializer.Add(Initializer(w, weights.Dims, weights.Values));
        graph.Initializer.Add(Initializer(b, new long[] { biases.Length }, biases));
        var z = activation.IsIdentity ? output : at.Name("z");
        graph.Node.Add(Node(op, at.Name(op.ToLowerInvariant()), new[] { input, w, b }, z, doc, attributes));
        return AddActivation<T>(graph, activation, at with { Input = at.Output }, z, output);
    }

    /// <summary>
    /// Adds layer l's activation σ, reading <paramref name="z"/> (of one example's shape at.Input) and
    /// writing <paramref name="output"/> (the identity adds no node unless it must name the graph's output).
    /// </summary>
    /// <exception cref="NotSupportedException">A softmax over a whole image at opset 13 or later, where Softmax takes one axis.</exception>
    private static string AddActivation<T>(Proto.GraphProto graph, Core.Activation activation, Place at, string z, string output)
        where T : IFloatingPointIeee754<T>
    {
        var name = at.Name(Core.ActivationModule.name(activation));
        var doc = $"layer {at.Layer}: σ = {Core.ActivationModule.name(activation)}";
        switch (activation)
        {
            case { IsIdentity: true }:
                return z == output ? output : PassThrough(graph, at, z, output, doc);
            case { IsSigmoid: true }:
                graph.Node.Add(Node("Sigmoid", name, new[] { z }, output, doc));
                break;
            case { IsTanh: true }:
                graph.Node.Add(Node("Tanh", name, new[] { z }, output, doc));
                break;
            case { IsReLU: true }:
                graph.Node.Add(Node("Relu", name, new[] { z }, output, doc));
                break;
            case { IsSoftmax: true } when at.Input is Core.Shape.Image && at.Opset >= 13:
                throw new NotSupportedException(
                    $"Layer {at.Layer}'s softmax is over each example's {at.Input} values, which ONNX writes only before opset 13 (Softmax at axis 1 of a coerced 2-D input): " +
                    $"from opset 13 Softmax takes one axis. Export with OnnxExportOptions {{ Opset = 12 }} or lower, or flatten the image before the softmax.");
            case { IsSoftmax: true }:
                // Opsets before 13 coerce the input to 2-D at the axis: axis 1 of [batch, units] (or of
                // [batch, C, H, W], coerced to [batch, C·H·W]) is the same softmax over each example.
                graph.Node.Add(Node("Softmax", name, new[] { z }, output, doc + " over each example's units", Int("axis", at.Opset >= 13 ? -1 : 1)));
                break;
            case Core.Activation.LeakyReLU leaky when typeof(T) == typeof(float):
                // The float32 network computes with (float)slope, which is what the attribute holds.
                graph.Node.Add(Node("LeakyRelu", name, new[] { z }, output, doc, Float("alpha", (float)leaky.slope)));
                break;
            case Core.Activation.LeakyReLU leaky:
                // ONNX Runtime has no float64 LeakyRelu. For 0 < α < 1, max(z, αz) is z when z > 0 and αz
                // otherwise, with the same roundings as the library's z > 0 ? z : αz.
                var slope = at.Name("slope");
                graph.Initializer.Add(Initializer(slope, Array.Empty<long>(), new[] { T.CreateTruncating(leaky.slope) }));
                graph.Node.Add(Node("Mul", at.Name("scale"), new[] { z, slope }, at.Name("scaled"), doc + ": α·z"));
                graph.Node.Add(Node("Max", name, new[] { z, at.Name("scaled") }, output, doc + ": max(z, α·z)"));
                break;
            case { IsStep: true }:
                // σ(z) = 1 if z > 0 else 0; NaN > 0 is false in both, so NaN gives 0 here as in the library.
                var zero = at.Name("zero");
                graph.Initializer.Add(Initializer(zero, Array.Empty<long>(), new[] { T.Zero }));
                graph.Node.Add(Node("Greater", at.Name("greater"), new[] { z, zero }, at.Name("positive"), doc + ": z > 0"));
                graph.Node.Add(Node("Cast", name, new[] { at.Name("positive") }, output, doc + ": 1 where z > 0, else 0", Int("to", OnnxFormat.ElementType<T>())));
                break;
            default:
                throw new NotSupportedException($"Layer {at.Layer}'s activation {Core.ActivationModule.name(activation)} has no ONNX form in this exporter.");
        }

        return output;
    }

    /// <summary>W [rows, columns] in row-major order, from the library's column-major matrix.</summary>
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
}
