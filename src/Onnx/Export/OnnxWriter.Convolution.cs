using System.Numerics;
using static FunctionalBackprop.Onnx.Export.Protos;
using Core = FunctionalBackprop.Core;
using Proto = global::Onnx;

namespace FunctionalBackprop.Onnx.Export;

// Convolution layers: Conv(a, W, B) with W [filters, C, kₕ, k_w] (PyTorch's Conv2d layout, which is
// the library's filters × C·kₕ·k_w matrix read row by row), one group, no dilation, the same zero
// padding on both sides of each axis; then the activation.
internal static partial class OnnxWriter
{
    /// <summary>Adds convolution layer l's initializers, its Conv and its activation, reading <paramref name="input"/> and writing <paramref name="output"/>.</summary>
    private static string AddConv<T>(Proto.GraphProto graph, Core.Conv2D<T> layer, Place at, string input, string output)
        where T : IFloatingPointIeee754<T>
    {
        var weights = at.Name("weight");
        var biases = at.Name("bias");
        var (kernel, stride) = (layer.Kernel, layer.Stride);
        graph.Initializer.Add(Initializer(weights, new long[] { layer.Filters, layer.InputChannels, kernel.Height, kernel.Width }, RowMajor(layer.Kernels)));
        graph.Initializer.Add(Initializer(biases, new long[] { layer.Filters }, layer.Biases.ToArray()));
        var activation = layer.Activation;
        var z = activation.IsIdentity ? output : at.Name("z");

        // z[o, y, x] = b[o] + Σ_{c, i, j} W[o, c, i, j]·a[c, y·sₕ − pₕ + i, x·s_w − p_w + j]
        graph.Node.Add(Node(
            "Conv", at.Name("conv"), new[] { input, weights, biases }, z, $"layer {at.Layer}: {layer}; z = W ⋆ a + b",
            WindowAttributes(kernel, stride, layer.Padding)));
        return AddActivation<T>(graph, activation, at with { Input = at.Output }, z, output);
    }

    /// <summary>kernel_shape, strides and pads ([top, left, bottom, right]: the same padding before and after each axis), as Conv, MaxPool and AveragePool take them.</summary>
    private static Proto.AttributeProto[] WindowAttributes(Core.Window kernel, Core.Window stride, Core.Window padding) =>
        new[]
        {
            Ints("kernel_shape", kernel.Height, kernel.Width),
            Ints("strides", stride.Height, stride.Width),
            Ints("pads", padding.Height, padding.Width, padding.Height, padding.Width),
        };
}
