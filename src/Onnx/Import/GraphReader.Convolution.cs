using Microsoft.FSharp.Core;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop.Onnx.Import;

// Convolutions: Conv(a, W, B) on images [batch, C, H, W] with W [filters, C, kₕ, k_w], one group,
// no dilation, explicit pads (the same on both sides of an axis, or a second side that adds no
// window), and the zeros of a Pad before it taken as its padding. z waits for its activation.
internal sealed partial class GraphReader<T>
{
    /// <summary>Conv(a, W, B): a convolution layer's weighted input z = W ⋆ a + b.</summary>
    private Value Conv(NodeReader r)
    {
        r.Arity(2, 3, 1, 1);
        var group = r.Int("group", 1);
        if (group != 1)
        {
            throw r.Unsupported($"convolves in {group} groups; only group 1 (every filter over every input channel) is read");
        }

        var (data, padded) = Windowed(r, "convolves");
        var (channels, height, width) = data.Image!.Value;
        var weights = Constant(r, 1, "weights W");
        var what = $"{r.Description}'s weights {weights.Origin}";
        var dims = Tensors.Shape(weights.Tensor, what);
        if (dims.Length != 4 || dims[1] != channels)
        {
            throw r.Invalid($"convolves {channels} channels with the weights {weights.Origin} of shape [{string.Join(", ", dims)}]; W of a 2-D convolution of one group is [filters, {channels}, kₕ, k_w].");
        }

        if (dims[0] == 0 || dims[2] == 0 || dims[3] == 0)
        {
            throw r.Unsupported($"takes the empty weights {weights.Origin} of shape [{string.Join(", ", dims)}]; a convolution has at least one filter of at least 1×1");
        }

        // W holds at most 2³¹ values (else Count refuses it), so every dim and their products fit an int.
        var (filters, perFilter) = ((int)dims[0], Tensors.Count(weights.Tensor, what) / (int)dims[0]);
        var window = Geometry.Read(r, height, width, new[] { dims[2], dims[3] }, padded);
        var input = ShapeOf(data.ExampleShape!);
        Check(r, Core.LayerSpec.NewConv2D(filters, window.Kernel, window.Stride, window.Padding, Core.Activation.Identity, FSharpOption<Core.Initializer>.None), input);
        var output = new long[] { filters, window.Height, window.Width };
        ShapeOf(r, output, "gives an image that");
        var kernels = RowMajorMatrix(weights, filters, perFilter, what);
        var biases = Optional(r, 2) is null ? new T[filters] : FilterBiases(r, Constant(r, 2, "bias B"), filters);
        var z = new Convolved<T>(kernels, Core.Matrix.ofColumnMajor(filters, 1, biases), window.Kernel, window.Stride, window.Padding, r.Description);
        return data.Starting() with { Stage = z, ExampleShape = output };
    }

    /// <summary>A convolution's B: one value per filter, [filters].</summary>
    private T[] FilterBiases(NodeReader r, ConstantValue b, int filters)
    {
        var what = $"{r.Description}'s bias {b.Origin}";
        var dims = Tensors.Shape(b.Tensor, what);
        if (dims.Length != 1 || dims[0] != filters)
        {
            throw r.Invalid($"takes the bias {b.Origin} of shape [{string.Join(", ", dims)}] for {filters} filters; Conv's B is [filters].");
        }

        return Reals(b, what);
    }
}
