using System.Globalization;
using System.Linq;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop.Onnx.Import;

// Batch normalisation in inference: BatchNormalization(a, γ, β, running mean, running variance)
// over the channels of [batch, C, H, W] or the units of [batch, n], read as a batch-normalisation
// layer with those running statistics (PyTorch keeps one after a Linear; one after a Conv it
// folds into the Conv's weights). ε and the momentum are FLOAT attributes; ONNX's momentum is the
// running statistics' weight, 1 − the library's (and PyTorch's) m.
internal sealed partial class GraphReader<T>
{
    /// <summary>BatchNormalization in inference (one output): z = γ·(a − μ)/√(σ² + ε) + β with the running μ and σ².</summary>
    private Value[] BatchNormalization(NodeReader r)
    {
        r.Arity(5, 5, 1, opset >= 14 ? 3 : 5);
        if (r.Int("training_mode", 0) != 0)
        {
            throw r.Unsupported("normalises by each batch's own statistics (training_mode = 1); only inference, with the running statistics, is read");
        }

        // Before opset 14 the outputs decide the mode: Y alone is inference, Y with the batch's statistics is training.
        if (r.Node.Output.Skip(1).Any(o => o.Length > 0))
        {
            throw r.Unsupported(
                $"gives {r.Node.Output.Count} outputs, the batch's statistics after Y, which ONNX computes in training only (normalising by each batch's own statistics); " +
                "only inference, with one output Y and the running statistics, is read");
        }

        var epsilon = NodeReader.Shortest(r.Float("epsilon", 1e-5f));
        var momentum = Momentum(r);
        var data = Closed(r, Data(r, 0));
        var channels = data.ExampleShape switch
        {
            [var units] => units,
            [var c, _, _] when data.Image is not null => c,
            _ => throw r.Unsupported($"normalises {Describe(data)}, of shape [batch, {Dims(data.ExampleShape)}]; batch normalisation is read over the units of [batch, n] or the channels of [batch, C, H, W] whose C, H and W the file gives"),
        };

        // γ first: when the data's width is unknown, its length gives the channels.
        var gamma = PerChannel(r, 1, "scale γ", channels);
        channels = gamma.Rows;
        var (beta, mean, variance) = (PerChannel(r, 2, "bias β", channels), PerChannel(r, 3, "running mean", channels), PerChannel(r, 4, "running variance", channels));
        foreach (var v in variance.AsSpan())
        {
            if (T.IsNegative(v))
            {
                throw r.Invalid($"takes a running variance of {v}; a variance is 0 or more.");
            }
        }

        var shape = data.ExampleShape is [_] ? new long[] { channels } : data.ExampleShape!;
        var layer = Made(r, Core.LayerSpec.NewBatchNorm(momentum, epsilon), ShapeOf(r, shape, "normalises data that"), new[] { gamma, beta }, new[] { mean, variance });
        // Outputs 2 and after, if listed at all, are empty names (checked above): no value.
        return r.Node.Output.Select((_, k) => k == 0 ? data.Then(layer, shape) : (Value)new UnmodelledValue($"output {k + 1} of {r.Description}")).ToArray();
    }

    /// <summary>
    /// The library's momentum m from ONNX's, 1 − m as a FLOAT (default 0.9): 1 minus the shortest
    /// decimal that rounds to it, in decimal arithmetic, so that PyTorch's 0.9 (0.899999976 as a
    /// float32) gives m = 0.1 exactly as a float64 holds it.
    /// </summary>
    private static double Momentum(NodeReader r)
    {
        var onnx = r.Float("momentum", 0.9f);
        if (!(onnx >= 0 && onnx <= 1))
        {
            throw r.Unsupported($"has momentum = {onnx.ToString(CultureInfo.InvariantCulture)}; ONNX's momentum is 1 − the library's, which lies in [0, 1]");
        }

        return (double)(1 - decimal.Parse(onnx.ToString(CultureInfo.InvariantCulture), NumberStyles.Float, CultureInfo.InvariantCulture));
    }

    /// <summary>Input k: one value per channel, [channels] (when the data's width is unknown, any [n] sets it).</summary>
    private Core.Matrix<T> PerChannel(NodeReader r, int k, string role, long channels)
    {
        var c = Constant(r, k, role);
        var what = $"{r.Description}'s {role} {c.Origin}";
        var dims = Tensors.Shape(c.Tensor, what);
        if (dims.Length != 1 || (channels >= 0 && dims[0] != channels))
        {
            throw r.Invalid($"takes the {role} {c.Origin} of shape [{string.Join(", ", dims)}] for {(channels >= 0 ? channels.ToString(CultureInfo.InvariantCulture) : "the")} channels; each of BatchNormalization's inputs 2 to 5 is [C].");
        }

        if (dims[0] == 0)
        {
            throw r.Unsupported($"takes the {role} {c.Origin} of shape [0]: it normalises no channel, and a layer has at least one");
        }

        var values = Reals(c, what);
        return Core.Matrix.ofColumnMajor(values.Length, 1, values);
    }
}
