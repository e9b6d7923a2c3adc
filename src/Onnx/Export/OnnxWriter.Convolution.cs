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
        // z[o, y, x] = b[o] + Σ_{c, i, j} W[o, c, i, j]·a[c, y·sₕ − pₕ + i, x·s_w − p_w + j]
        var weights = (new long[] { layer.Filters, layer.InputChannels, layer.Kernel.Height, layer.Kernel.Width }, RowMajor(layer.Kernels));
        return AddAffine(
            graph, at, "Conv", input, output, weights, layer.Biases.ToArray(), layer.Activation, $"layer {at.Layer}: {layer}; z = W ⋆ a + b",
            WindowAttributes(layer.Kernel, layer.Stride, layer.Padding));
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
