using System.Numerics;
using static FunctionalBackprop.Onnx.Export.Protos;
using Core = FunctionalBackprop.Core;
using Proto = global::Onnx;

namespace FunctionalBackprop.Onnx.Export;

// Pooling layers: MaxPool (its padding never chosen, as the library's −∞) and AveragePool with
// count_include_pad = 1 (the library always divides by kₕ·k_w); floor rounding (ceil_mode 0, the
// default) and no dilation.
internal static partial class OnnxWriter
{
    /// <summary>Adds max-pooling layer l's MaxPool, reading <paramref name="input"/> and writing <paramref name="output"/>.</summary>
    private static string AddMaxPool(Proto.GraphProto graph, Core.MaxPool2D layer, Place at, string input, string output)
    {
        graph.Node.Add(Node("MaxPool", at.Name("maxpool"), new[] { input }, output, $"layer {at.Layer}: {layer}", WindowAttributes(layer.Kernel, layer.Stride, layer.Padding)));
        return output;
    }

    /// <summary>Adds average-pooling layer l's AveragePool, reading <paramref name="input"/> and writing <paramref name="output"/>.</summary>
    private static string AddAveragePool(Proto.GraphProto graph, Core.AvgPool2D layer, Place at, string input, string output)
    {
        var pool = Node("AveragePool", at.Name("averagepool"), new[] { input }, output, $"layer {at.Layer}: {layer}, the padding counted in each mean", WindowAttributes(layer.Kernel, layer.Stride, layer.Padding));
        pool.Attribute.Add(Int("count_include_pad", 1));
        graph.Node.Add(pool);
        return output;
    }
}
