using System;
using System.IO;
using System.Linq;
using Xunit;
using static FunctionalBackprop.Tests.Onnx.GraphBuilder;
using static FunctionalBackprop.Tests.Onnx.OnnxRefusalTests;

namespace FunctionalBackprop.Tests.Onnx;

/// <summary>
/// What the reader refuses in the layers that take images, and how: NotSupportedException for a
/// valid graph the library cannot compute exactly (groups, dilation, automatic or unequal padding
/// that changes the windows, rounding up, padding left out of a mean, a Pad of something else than
/// zeros, training-mode normalisation, operators not read), InvalidDataException for a file that is
/// not valid ONNX (weights or attributes that contradict the data, a negative variance); each
/// message names the node and its operator.
/// </summary>
public class OnnxImageRefusalTests
{
    /// <summary>x [batch, 2, 5, 4] → Conv (attributes given) → y.</summary>
    private static GraphBuilder Conv(params global::Onnx.AttributeProto[] attributes)
    {
        var g = Convolution(attributes: attributes).Output("y");
        g.Node("Relu", new[] { "z" }, new[] { "y" });
        return g;
    }

    /// <summary>x [batch, 2, 5, 4] → a node of the operator with the attributes → y.</summary>
    private static GraphBuilder Pooling(string op, int opset = 13, params global::Onnx.AttributeProto[] attributes) =>
        new GraphBuilder(opset).Input("x", null, 2, 5, 4).Output("y").Node(op, new[] { "x" }, new[] { "y" }, attributes);

    [Fact]
    public void AConvOfSeveralGroupsIsRefused() =>
        Refused<NotSupportedException>(Conv(Int("group", 2)), "node 1 'conv1' (Conv)", "2 groups");

    [Fact]
    public void ADilatedConvIsRefused() =>
        Refused<NotSupportedException>(Conv(Ints("dilations", 2, 1)), "node 1 'conv1' (Conv)", "dilations = [2, 1]");

    [Fact]
    public void AutomaticPaddingIsRefused() =>
        Refused<NotSupportedException>(Conv(String("auto_pad", "SAME_UPPER")), "node 1 'conv1' (Conv)", "auto_pad = 'SAME_UPPER'");

    [Fact]
    public void PaddingUnequalOnTwoSidesThatChangesTheWindowsIsRefused() =>
        Refused<NotSupportedException>(Conv(Ints("pads", 0, 0, 1, 0)), "node 1 'conv1' (Conv)", "[0, 0, 1, 0]", "unequally along its height");

    [Fact]
    public void AStrideOfZeroIsInvalid() =>
        Refused<InvalidDataException>(Conv(Ints("strides", 0, 1)), "node 1 'conv1' (Conv)", "strides [0, 1]");

    [Fact]
    public void AKernelShapeOtherThanTheWeightsIsInvalid() =>
        Refused<InvalidDataException>(Conv(Ints("kernel_shape", 3, 3)), "node 1 'conv1' (Conv)", "kernel_shape [3, 3]", "3×2");

    [Fact]
    public void WeightsForAnotherNumberOfChannelsAreInvalid()
    {
        var g = Conv();
        g.Graph.Initializer[0] = g.Reals("W", new long[] { 6, 1, 3, 2 }, Drawn(36, 5));
        Refused<InvalidDataException>(g, "node 1 'conv1' (Conv)", "convolves 2 channels", "[6, 1, 3, 2]");
    }

    [Fact]
    public void ABiasOfAnotherShapeIsInvalid()
    {
        var g = Conv();
        g.Graph.Initializer[1] = g.Reals("B", new long[] { 1, 3 }, Drawn(3, 6));
        Refused<InvalidDataException>(g, "node 1 'conv1' (Conv)", "Conv's B is [filters]");
    }

    [Fact]
    public void AWindowLargerThanThePaddedImageIsInvalid()
    {
        var g = Conv();
        g.Graph.Initializer[0] = g.Reals("W", new long[] { 1, 2, 6, 2 }, Drawn(24, 5));
        g.Graph.Initializer[1] = g.Reals("B", new long[] { 1 }, Drawn(1, 6));
        Refused<InvalidDataException>(g, "node 1 'conv1' (Conv)", "window of 6", "no window fits");
    }

    [Fact]
    public void AnOutputOfMoreThan2To30ValuesPerExampleIsRefused() =>
        Refused<NotSupportedException>(Conv(Ints("pads", 1 << 28, 1 << 28, 1 << 28, 1 << 28)), "node 1 'conv1' (Conv)", "more than 2³⁰ values");

    [Fact]
    public void AConvOnVectorsIsRefused()
    {
        var g = new GraphBuilder().Input("x", null, 40).Output("y").Initializer("W", new long[] { 3, 2, 3, 2 }, Drawn(36, 5));
        g.Node("Conv", new[] { "x", "W" }, new[] { "y" });
        Refused<NotSupportedException>(g, "node 1 'conv1' (Conv)", "of shape [batch, 40]", "images [batch, C, H, W]");
    }

    [Fact]
    public void AConvOnImagesOfASizeTheFileDoesNotGiveIsRefused()
    {
        var g = new GraphBuilder().Input("x", null, 2, null, 4).Output("y").Initializer("W", new long[] { 3, 2, 3, 2 }, Drawn(36, 5));
        g.Node("Conv", new[] { "x", "W" }, new[] { "y" });
        Refused<NotSupportedException>(g, "node 1 'conv1' (Conv)", "[batch, 2, ?, 4]", "whose C, H and W the file gives");
    }

    [Fact]
    public void AnAddAfterAConvIsRefused()
    {
        var g = Convolution().Output("y").Initializer("C", new long[] { 3, 1, 1 }, Drawn(3, 8));
        g.Node("Add", new[] { "z", "C" }, new[] { "y" });
        Refused<NotSupportedException>(g, "node 2 'add2' (Add)", "output of node 1 'conv1' (Conv)", "Conv's input B");
    }

    [Theory]
    [InlineData("MaxPool")]
    [InlineData("AveragePool")]
    public void RoundingTheOutputSizeUpIsRefused(string op) =>
        Refused<NotSupportedException>(Pooling(op, 13, Ints("kernel_shape", 2, 2), Int("ceil_mode", 1)), $"node 1 '{op.ToLowerInvariant()}1' ({op})", "ceil_mode = 1");

    [Theory]
    [InlineData("MaxPool", 13)]
    [InlineData("AveragePool", 19)]
    public void ADilatedPoolingIsRefused(string op, int opset) =>
        Refused<NotSupportedException>(Pooling(op, opset, Ints("kernel_shape", 2, 2), Ints("dilations", 1, 2)), $"({op})", "dilations = [1, 2]");

    [Fact]
    public void MaxPoolIndicesNumberedColumnByColumnAreRefused() =>
        Refused<NotSupportedException>(Pooling("MaxPool", 13, Ints("kernel_shape", 2, 2), Int("storage_order", 1)), "node 1 'maxpool1' (MaxPool)", "storage_order = 1");

    [Fact]
    public void APoolingWithoutKernelShapeIsInvalid() =>
        Refused<InvalidDataException>(Pooling("MaxPool"), "node 1 'maxpool1' (MaxPool)", "no attribute 'kernel_shape'");

    [Fact]
    public void PoolingPaddedByMoreThanHalfItsWindowIsRefusedByTheLibrarysRule() =>
        Refused<NotSupportedException>(Pooling("MaxPool", 13, Ints("kernel_shape", 2, 2), Ints("pads", 2, 0, 2, 0)), "node 1 'maxpool1' (MaxPool)", "at most half its kernel");

    [Fact]
    public void AnAveragePoolThatLeavesItsPaddingOutOfTheMeanIsRefused() =>
        Refused<NotSupportedException>(
            Pooling("AveragePool", 13, Ints("kernel_shape", 2, 2), Ints("pads", 1, 1, 1, 1)), "node 1 'averagepool1' (AveragePool)", "count_include_pad = 0", "kₕ·k_w");

    /// <summary>x → Pad (opset 13, pads as an input) → the node (a 2 × 2 window for a pooling) → y.</summary>
    private static GraphBuilder Padded(long[] pads, string next = "AveragePool", params global::Onnx.AttributeProto[] attributes)
    {
        var g = new GraphBuilder(13).Input("x", null, 2, 5, 4).Output("y");
        g.Graph.Initializer.Add(Int64s("pads", pads));
        return g.Node("Pad", new[] { "x", "pads" }, new[] { "padded" }, attributes)
            .Node(next, new[] { "padded" }, new[] { "y" }, next.EndsWith("Pool", StringComparison.Ordinal) ? new[] { Ints("kernel_shape", 2, 2) } : Array.Empty<global::Onnx.AttributeProto>());
    }

    [Fact]
    public void ZerosBeforeAMaxPoolAreRefused() =>
        Refused<NotSupportedException>(Padded(new long[] { 0, 0, 1, 1, 0, 0, 1, 1 }, "MaxPool"), "node 2 'maxpool2' (MaxPool)", "pads with −∞");

    [Fact]
    public void APadOtherThanZerosIsRefused()
    {
        Refused<NotSupportedException>(Padded(new long[] { 0, 0, 1, 1, 0, 0, 1, 1 }, attributes: String("mode", "reflect")), "node 1 'pad1' (Pad)", "mode 'reflect'");
        var g = new GraphBuilder(9).Input("x", null, 2, 5, 4).Output("y")
            .Node("Pad", new[] { "x" }, new[] { "padded" }, Ints("pads", 0, 0, 1, 1, 0, 0, 1, 1), Float("value", 1))
            .Node("AveragePool", new[] { "padded" }, new[] { "y" }, Ints("kernel_shape", 2, 2));
        Refused<NotSupportedException>(g, "node 1 'pad1' (Pad)", "a value other than 0");
        var h = Padded(new long[] { 0, 0, 1, 1, 0, 0, 1, 1 }).Initializer("half", Array.Empty<long>(), new[] { 0.5 });
        h.Graph.Node[0].Input.Add("half");
        Refused<NotSupportedException>(h, "node 1 'pad1' (Pad)", "a value other than 0");
    }

    [Theory]
    [InlineData(new long[] { 0, 1, 0, 0, 0, 0, 0, 0 })]
    [InlineData(new long[] { 0, 0, -1, 0, 0, 0, 0, 0 })]
    public void APadOfTheChannelsOrACropIsRefused(long[] pads) =>
        Refused<NotSupportedException>(Padded(pads), "node 1 'pad1' (Pad)", "no padding of the batch or the channels, no cropping");

    [Fact]
    public void APadOfSomeAxesIsRefused()
    {
        var g = new GraphBuilder(18).Input("x", null, 2, 5, 4).Output("y");
        g.Graph.Initializer.Add(Int64s("pads", 1, 1, 1, 1));
        g.Graph.Initializer.Add(Int64s("axes", 2, 3));
        g.Node("Pad", new[] { "x", "pads", "", "axes" }, new[] { "padded" }).Node("AveragePool", new[] { "padded" }, new[] { "y" }, Ints("kernel_shape", 2, 2));
        Refused<NotSupportedException>(g, "node 1 'pad1' (Pad)", "axes its input 4 lists");
    }

    [Fact]
    public void ZerosReadOtherThanByAConvOrAnAveragePoolAreRefused() =>
        Refused<NotSupportedException>(Padded(new long[] { 0, 0, 1, 1, 0, 0, 1, 1 }, "Relu"), "node 2 'relu2' (Relu)", "padded with zeros");

    /// <summary>x [batch, 2, 5, 4] → BatchNormalization (opset, attributes, outputs) with per-channel inputs of 2 values → y.</summary>
    private static GraphBuilder Normalised(int opset, string[] outputs, double[]? variance = null, params global::Onnx.AttributeProto[] attributes) =>
        new GraphBuilder(opset).Input("x", null, 2, 5, 4).Output("y")
            .Initializer("scale", new long[] { 2 }, new[] { 1.5, 0.5 }).Initializer("bias", new long[] { 2 }, new[] { 0.25, -1 })
            .Initializer("mean", new long[] { 2 }, new[] { 0.125, -0.5 }).Initializer("var", new long[] { 2 }, variance ?? new[] { 2.0, 0.75 })
            .Node("BatchNormalization", new[] { "x", "scale", "bias", "mean", "var" }, outputs, attributes);

    [Fact]
    public void TrainingModeNormalisationIsRefused()
    {
        Refused<NotSupportedException>(Normalised(15, new[] { "y" }, null, Int("training_mode", 1)), "node 1 'batchnormalization1' (BatchNormalization)", "training_mode = 1");
        Refused<NotSupportedException>(Normalised(9, new[] { "y", "m", "v", "sm", "sv" }), "node 1 'batchnormalization1' (BatchNormalization)", "5 outputs", "training only");
    }

    [Fact]
    public void ANegativeRunningVarianceIsInvalid() =>
        Refused<InvalidDataException>(Normalised(13, new[] { "y" }, new[] { 1.0, -0.25 }), "node 1 'batchnormalization1' (BatchNormalization)", "running variance of -0.25");

    [Fact]
    public void ScalesForAnotherNumberOfChannelsAreInvalid()
    {
        var g = Normalised(13, new[] { "y" });
        g.Graph.Initializer[0] = g.Reals("scale", new long[] { 3 }, new[] { 1.0, 1.0, 1.0 });
        Refused<InvalidDataException>(g, "node 1 'batchnormalization1' (BatchNormalization)", "scale γ", "[3] for 2 channels");
    }

    [Fact]
    public void NormalisingNoChannelIsRefused()
    {
        var g = new GraphBuilder(13).Input("x", null, null).Output("y").Initializer("none", new long[] { 0 }, Array.Empty<double>());
        g.Node("BatchNormalization", new[] { "x", "none", "none", "none", "none" }, new[] { "y" });
        Refused<NotSupportedException>(g, "node 1 'batchnormalization1' (BatchNormalization)", "of shape [0]", "no channel");
    }

    [Fact]
    public void PadsBeyondAnyImageAreRefusedWithoutOverflow() =>
        Refused<NotSupportedException>(Conv(Ints("pads", long.MaxValue, 0, long.MaxValue, 0)), "node 1 'conv1' (Conv)", "beyond the 2³⁰ values an image holds");

    [Fact]
    public void AMomentumOutside0To1IsRefused() =>
        Refused<NotSupportedException>(Normalised(13, new[] { "y" }, null, Float("momentum", 1.5f)), "(BatchNormalization)", "momentum = 1.5");

    [Fact]
    public void AnEpsilonOf0IsRefusedByTheLibrarysRule() =>
        Refused<NotSupportedException>(Normalised(13, new[] { "y" }, null, Float("epsilon", 0)), "(BatchNormalization)", "ε must be positive");

    [Fact]
    public void NormalisingDataOfRank3IsRefused()
    {
        var g = Normalised(13, new[] { "y" });
        g.Graph.Input[0] = Value("x", global::Onnx.TensorProto.Types.DataType.Float, null, 2, 5);
        Refused<NotSupportedException>(g, "(BatchNormalization)", "[batch, 2, 5]", "the channels of [batch, C, H, W]");
    }

    [Fact]
    public void ASoftmaxOverOneAxisOfAnImageIsRefusedFromOpset13()
    {
        var g = Convolution().Output("y");
        g.Node("Softmax", new[] { "z" }, new[] { "y" }, Int("axis", 1));
        Refused<NotSupportedException>(g, "node 2 'softmax2' (Softmax)", "axis 1 of [batch, 3, 3, 3]");
    }

    /// <summary>x → Conv → z, then PyTorch's x.view(x.size(0), −1) of z with the Gather's index and the Concat's dims given → Gemm → y.</summary>
    private static GraphBuilder BatchView(long index, long[] dims)
    {
        var g = Convolution(opset: 13).Output("y").Initializer("W2", new long[] { 2, 27 }, Drawn(54, 7));
        g.Graph.Initializer.Add(new global::Onnx.TensorProto { Name = "index", DataType = (int)global::Onnx.TensorProto.Types.DataType.Int64, Int64Data = { index } });
        g.Graph.Initializer.Add(Int64s("axes", 0));
        g.Graph.Initializer.Add(Int64s("rest", dims));
        return g.Node("Shape", new[] { "z" }, new[] { "shape" })
            .Node("Gather", new[] { "shape", "index" }, new[] { "size" }, Int("axis", 0))
            .Node("Unsqueeze", new[] { "size", "axes" }, new[] { "list" })
            .Node("Concat", new[] { "list", "rest" }, new[] { "target" }, Int("axis", 0))
            .Node("Reshape", new[] { "z", "target" }, new[] { "flat" })
            .Node("Gemm", new[] { "flat", "W2" }, new[] { "y" }, Int("transB", 1));
    }

    [Fact]
    public void TheBatchSizeFromTheDatasShapeIsReadOnlyAsPyTorchComputesIt()
    {
        Assert.Equal(new[] { "conv2d", "flatten", "dense" }, FunctionalBackprop.Onnx.OnnxNetwork.Load<float>(BatchView(0, new long[] { -1 }).Stream()).Layers.Select(FunctionalBackprop.Core.Layer.kind));
        Refused<NotSupportedException>(BatchView(1, new long[] { -1 }), "node 3 'gather3' (Gather)", "entry 0");
        Refused<NotSupportedException>(BatchView(0, new long[] { 3, -1 }), "node 6 'reshape6' (Reshape)", "of rank 3");
        var g = BatchView(0, new long[] { -1 });
        g.Graph.Node[5].Input[0] = "shape";
        Refused<NotSupportedException>(g, "node 6 'reshape6' (Reshape)", "reads the shape of");
    }

    [Theory]
    [InlineData("GlobalAveragePool")]
    [InlineData("LRN")]
    [InlineData("ConvTranspose")]
    [InlineData("InstanceNormalization")]
    [InlineData("Upsample")]
    public void AnOperatorOnImagesThatIsNotReadIsRefusedByNameAndOperator(string op)
    {
        var g = Convolution().Output("y");
        g.Node(op, new[] { "z" }, new[] { "y" });
        Refused<NotSupportedException>(g, $"node 2 '{op.ToLowerInvariant()}2' ({op})", "is not an operator a network is read from");
    }
}
