using System.Globalization;
using System.Numerics;
using static FunctionalBackprop.Onnx.Export.Protos;
using Core = FunctionalBackprop.Core;
using Proto = global::Onnx;

namespace FunctionalBackprop.Onnx.Export;

// Batch normalisation in inference: BatchNormalization(a, γ, β, running mean, running variance),
// which normalises over axis 1, the channels of [batch, C, H, W] or the units of [batch, n].
internal static partial class OnnxWriter
{
    /// <summary>
    /// Adds batch-normalisation layer l's initializers (PyTorch's names: weight γ, bias β,
    /// running_mean, running_var) and its BatchNormalization node, reading <paramref name="input"/>
    /// and writing <paramref name="output"/>. ONNX holds ε and the momentum as FLOAT attributes, and
    /// its momentum is the running statistics' weight, 1 − the library's (and PyTorch's) m.
    /// </summary>
    private static string AddBatchNorm<T>(Proto.GraphProto graph, Core.BatchNorm<T> layer, Place at, string input, string output)
        where T : IFloatingPointIeee754<T>
    {
        var names = new[] { at.Name("weight"), at.Name("bias"), at.Name("running_mean"), at.Name("running_var") };
        var tensors = new[] { layer.Scale, layer.Shift, layer.RunningMean, layer.RunningVariance };
        for (var k = 0; k < names.Length; k++)
        {
            graph.Initializer.Add(Initializer(names[k], new long[] { tensors[k].Rows }, tensors[k].ToArray()));
        }

        var ε = layer.Epsilon.ToString(CultureInfo.InvariantCulture);
        graph.Node.Add(Node(
            "BatchNormalization", at.Name("batchnorm"), new[] { input, names[0], names[1], names[2], names[3] }, output,
            $"layer {at.Layer}: {layer}; z = γ·(a − μ)/√(σ² + {ε}) + β with the running μ and σ²",
            Float("epsilon", (float)layer.Epsilon), Float("momentum", (float)(1 - layer.Momentum))));
        return output;
    }
}
