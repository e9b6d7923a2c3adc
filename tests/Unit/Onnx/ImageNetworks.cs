using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using Microsoft.FSharp.Collections;
using Microsoft.FSharp.Core;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop.Tests.Onnx;

/// <summary>
/// Networks of the layer kinds that take images (convolution, max and average pooling, flatten,
/// batch normalisation), one per kind, on 2 × 7 × 6 images with kernels, strides and padding that
/// differ across the axes; and a LeNet-style network of all of them. Built with the core's API.
/// </summary>
internal static class ImageNetworks
{
    private static readonly Core.Shape Image = Core.Shape.NewImage(2, 7, 6);

    private static Core.Window Window(int height, int width) => new(height, width);

    private static readonly FSharpOption<Core.Initializer> Xavier = FSharpOption<Core.Initializer>.Some(Core.Initializer.XavierNormal);

    private static Core.LayerSpec Conv(int filters, Core.Window kernel, Core.Window stride, Core.Window padding, Core.Activation activation) =>
        Core.LayerSpec.NewConv2D(filters, kernel, stride, padding, activation, Xavier);

    private static Core.LayerSpec Dense(int units, Core.Activation activation) => Core.LayerSpec.NewDense(units, activation, Xavier);

    /// <summary>The layers of each kind's network, by the kind's name, each ending in a dense softmax layer of 3 units.</summary>
    private static readonly IReadOnlyDictionary<string, (Core.Shape Input, Core.LayerSpec[] Specs)> Kinds = new Dictionary<string, (Core.Shape, Core.LayerSpec[])>
    {
        ["conv2d"] = (Image, new[]
        {
            Conv(3, Window(3, 2), Window(2, 1), Window(1, 0), Core.Activation.Tanh), Conv(2, Window(1, 1), Window(1, 1), Window(0, 0), Core.Activation.ReLU),
            Core.LayerSpec.Flatten, Dense(3, Core.Activation.Softmax),
        }),
        ["maxpool2d"] = (Image, new[] { Core.LayerSpec.NewMaxPool2D(Window(3, 2), Window(2, 1), Window(1, 0)), Core.LayerSpec.Flatten, Dense(3, Core.Activation.Softmax) }),
        ["avgpool2d"] = (Image, new[] { Core.LayerSpec.NewAvgPool2D(Window(3, 2), Window(2, 1), Window(1, 1)), Core.LayerSpec.Flatten, Dense(3, Core.Activation.Softmax) }),
        ["flatten"] = (Image, new[] { Core.LayerSpec.Flatten, Dense(4, Core.Activation.Sigmoid), Core.LayerSpec.Flatten, Dense(3, Core.Activation.Softmax) }),
        ["batchnorm"] = (Image, new[]
        {
            Core.LayerSpec.NewBatchNorm(0.1, 1e-5), Core.LayerSpec.Flatten, Dense(5, Core.Activation.Identity), Core.LayerSpec.NewBatchNorm(0.01, 1e-3),
            Core.LayerSpec.NewActivation(Core.Activation.Tanh), Dense(3, Core.Activation.Softmax),
        }),
        ["lenet"] = (Core.Shape.NewImage(1, 12, 10), new[]
        {
            Conv(4, Window(5, 5), Window(1, 1), Window(2, 2), Core.Activation.ReLU), Core.LayerSpec.NewMaxPool2D(Window(2, 2), Window(2, 2), Window(0, 0)),
            Conv(6, Window(3, 3), Window(1, 1), Window(1, 1), Core.Activation.Identity), Core.LayerSpec.NewBatchNorm(0.1, 1e-5), Core.LayerSpec.NewActivation(Core.Activation.Tanh),
            Core.LayerSpec.NewAvgPool2D(Window(2, 2), Window(2, 2), Window(1, 1)), Core.LayerSpec.Flatten, Dense(10, Core.Activation.Identity),
            Core.LayerSpec.NewBatchNorm(0.1, 1e-5), Core.LayerSpec.NewActivation(Core.Activation.Sigmoid), Core.LayerSpec.NewDropout(0.5), Dense(3, Core.Activation.Softmax),
        }),
    };

    /// <summary>
    /// Every kind in a network small enough to mutate bit by bit (for 1 × 6 × 5 images): conv 3 × 3
    /// with padding, batch normalisation, max pooling, conv 2 × 2, average pooling with padding,
    /// flatten, dense softmax.
    /// </summary>
    public static Core.LayerSpec[] Small { get; } =
    {
        Conv(2, Window(3, 3), Window(1, 1), Window(1, 1), Core.Activation.Identity), Core.LayerSpec.NewBatchNorm(0.1, 1e-5),
        Core.LayerSpec.NewActivation(Core.Activation.ReLU), Core.LayerSpec.NewMaxPool2D(Window(2, 2), Window(2, 1), Window(0, 0)),
        Conv(2, Window(2, 2), Window(1, 1), Window(0, 0), Core.Activation.Tanh), Core.LayerSpec.NewAvgPool2D(Window(2, 2), Window(1, 1), Window(1, 1)),
        Core.LayerSpec.Flatten, Dense(2, Core.Activation.Softmax),
    };

    /// <summary>The names of <see cref="Kinds"/>.</summary>
    public static IEnumerable<string> Names => Kinds.Keys;

    /// <summary>
    /// The kind's network with weights drawn from the seed and, for batch normalisation, γ, β and
    /// running statistics drawn too (a fresh layer's 1, 0, 0 and 1 would make it the identity).
    /// </summary>
    public static Core.Network<T> Network<T>(string kind, ulong seed)
        where T : IFloatingPointIeee754<T>
    {
        var (input, specs) = Kinds[kind];
        return WithStatistics(Core.Network.init<T>(seed, input, specs), seed);
    }

    /// <summary>A network of the given layers on the given input with weights drawn from the seed (batch normalisation's statistics drawn too).</summary>
    public static Core.Network<T> Network<T>(Core.Shape input, ulong seed, params Core.LayerSpec[] specs)
        where T : IFloatingPointIeee754<T> =>
        WithStatistics(Core.Network.init<T>(seed, input, specs), seed);

    /// <summary>Every batch normalisation's γ ∈ [0.5, 1.5], β ∈ [−0.3, 0.3], running mean ∈ [−0.5, 0.5] and variance ∈ [0.25, 2], from the seed.</summary>
    private static Core.Network<T> WithStatistics<T>(Core.Network<T> network, ulong seed)
        where T : IFloatingPointIeee754<T>
    {
        var random = new Random((int)seed);
        Core.Matrix<T> Drawn(int rows, double low, double high) =>
            Core.Matrix.ofColumnMajor(rows, 1, Enumerable.Range(0, rows).Select(_ => T.CreateTruncating(low + ((high - low) * random.NextDouble()))).ToArray());
        var layers = network.Layers.Zip(network.Shapes, (layer, shape) =>
        {
            if (layer is not Core.Layer<T>.BatchNorm norm)
            {
                return layer;
            }

            var c = norm.Item.Scale.Rows;
            return Core.Layer.ofTensors(
                Core.Layer.spec(layer), shape,
                ListModule.OfSeq(new[] { Drawn(c, 0.5, 1.5), Drawn(c, -0.3, 0.3) }),
                ListModule.OfSeq(new[] { Drawn(c, -0.5, 0.5), Drawn(c, 0.25, 2) }));
        });
        return Core.Network.create(network.InputShape, layers);
    }

    /// <summary>One example's dims as ONNX Runtime takes them: [C, H, W] or [n].</summary>
    public static long[] Dims(Core.Shape shape) =>
        shape is Core.Shape.Image image ? new long[] { image.channels, image.height, image.width } : new long[] { shape.Size };

    /// <summary>Whether ONNX Runtime (1.31, CPU) has a float64 kernel for every node of the network: it has none for Conv and AveragePool.</summary>
    public static bool RunsInFloat64(Core.Network<double> network) =>
        !network.Layers.Any(l => l.IsConv2D || l.IsAvgPool2D);
}
