using System.Linq;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop.Onnx.Import;

// Pooling: MaxPool (its padding never chosen, as the library's −∞) and AveragePool (the padding
// counted in each mean, count_include_pad = 1, as the library and PyTorch's AvgPool2d compute it)
// on images [batch, C, H, W], floor rounding (ceil_mode 0), no dilation; and the Pad of zeros that
// older opsets write before an AveragePool (or a Conv) for PyTorch's padding, read as that padding.
internal sealed partial class GraphReader<T>
{
    /// <summary>MaxPool(a): the largest value of each window; its optional second output, the indices, is not modelled.</summary>
    private Value[] MaxPool(NodeReader r)
    {
        r.Arity(1, 1, 1, 2);
        var (data, padded) = Pooled(r, "max-pools");
        if (padded is not null)
        {
            throw r.Unsupported("pools an image padded with zeros by a Pad; max pooling pads with −∞, so zeros cannot be read as its padding");
        }

        if (r.Int("storage_order", 0) != 0)
        {
            throw r.Unsupported("numbers its indices column by column (storage_order = 1); only the default row-major order is read");
        }

        var window = Geometry.Read(r, data.Image!.Value.Height, data.Image!.Value.Width, null, null);
        var layer = Made(r, Core.LayerSpec.NewMaxPool2D(window.Kernel, window.Stride, window.Padding), ShapeOf(data.ExampleShape!));
        return new Value[] { data.Then(layer, new[] { data.Image!.Value.Channels, window.Height, window.Width }), new UnmodelledValue($"the indices of {r.Description}") };
    }

    /// <summary>AveragePool(a): the mean of each window, the padding (the node's own and a Pad's zeros before it) counted.</summary>
    private Value AveragePool(NodeReader r)
    {
        r.Arity(1, 1, 1, 1);
        var (data, padded) = Pooled(r, "average-pools");
        if (r.Int("count_include_pad", 0) == 0 && r.Ints("pads") is { } pads && pads.Any(p => p != 0))
        {
            throw r.Unsupported(
                $"leaves its padding [{string.Join(", ", pads)}] out of each mean (count_include_pad = 0); the library divides by kₕ·k_w always, " +
                "as PyTorch's AvgPool2d does by default (count_include_pad = 1)");
        }

        var window = Geometry.Read(r, data.Image!.Value.Height, data.Image!.Value.Width, null, padded);
        var layer = Made(r, Core.LayerSpec.NewAvgPool2D(window.Kernel, window.Stride, window.Padding), ShapeOf(data.ExampleShape!));
        return data.Then(layer, new[] { data.Image!.Value.Channels, window.Height, window.Width });
    }

    /// <summary>A pooling node's input image (and a Pad's zeros before it), after the attributes every pooling shares are checked.</summary>
    private (DataValue<T> Data, long[]? Padded) Pooled(NodeReader r, string does)
    {
        if (r.Int("ceil_mode", 0) != 0)
        {
            throw r.Unsupported("rounds its output size up (ceil_mode = 1); only the default floor rounding (ceil_mode 0), which PyTorch writes, is read");
        }

        return Windowed(r, does);
    }

    /// <summary>
    /// Pad(a, pads, 0) on an image: zeros before and after its rows and columns, kept for the Conv
    /// or AveragePool that reads it (a Pad that adds nothing passes its input on).
    /// </summary>
    private Value Pad(NodeReader r)
    {
        r.Arity(1, opset >= 18 ? 4 : opset >= 11 ? 3 : 1, 1, 1);
        var mode = r.String("mode", "constant");
        if (mode != "constant")
        {
            throw r.Unsupported($"pads in mode {OnnxFormat.Quote(mode)}; only zeros (mode 'constant'), which the Conv or AveragePool after it takes as its padding, are read");
        }

        var (pads, zero) = opset >= 11 ? PadInputs(r) : (r.Ints("pads") ?? throw r.Invalid("has no attribute 'pads', which Pad requires before opset 11."), r.Float("value", 0f) is var v && v == 0 && !float.IsNegative(v));
        if (!zero)
        {
            throw r.Unsupported("pads with a value other than 0; only zeros, which the Conv or AveragePool after it takes as its padding, are read");
        }

        var data = Closed(r, Data(r, 0));
        if (data.Image is null)
        {
            throw r.Unsupported($"pads {Describe(data)}, of shape [batch, {Dims(data.ExampleShape)}]; a Pad is read on images [batch, C, H, W] whose C, H and W the file gives, before a Conv or AveragePool");
        }

        if (pads.Length != 8)
        {
            throw r.Invalid($"has {pads.Length} pads for a 4-D input, which takes 8 (where each axis starts, then where each ends).");
        }

        if (pads[0] != 0 || pads[1] != 0 || pads[4] != 0 || pads[5] != 0 || pads.Any(p => p < 0))
        {
            throw r.Unsupported($"pads by [{string.Join(", ", pads)}]; only zeros added around an image's rows and columns are read (no padding of the batch or the channels, no cropping)");
        }

        return pads.All(p => p == 0) ? data : data with { Stage = new Padded<T>(new[] { pads[2], pads[3], pads[6], pads[7] }) };
    }

    /// <summary>Pad's pads (a constant INT64 list) and whether its constant_value (absent: 0) is +0, from opset 11.</summary>
    private (long[] Pads, bool Zero) PadInputs(NodeReader r)
    {
        if (Optional(r, 3) is not null)
        {
            throw r.Unsupported("pads only the axes its input 4 lists; only pads given for every axis are read");
        }

        var c = Constant(r, 1, "pads");
        var what = $"{r.Description}'s pads {c.Origin}";
        if (Tensors.Shape(c.Tensor, what).Length != 1)
        {
            throw r.Invalid($"takes the pads {c.Origin}, which are not a list (rank 1).");
        }

        var pads = Tensors.Int64s(c.Tensor, what);
        if (Optional(r, 2) is null)
        {
            return (pads, true);
        }

        var value = Scalar(r, Constant(r, 2, "constant value"), "constant value");
        return (pads, T.IsZero(value) && !T.IsNegative(value));
    }
}
