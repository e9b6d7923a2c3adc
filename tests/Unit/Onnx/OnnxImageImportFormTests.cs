using System.IO;
using System.Linq;
using FunctionalBackprop.Onnx;
using Xunit;
using static FunctionalBackprop.Tests.Onnx.GraphBuilder;
using static FunctionalBackprop.Tests.Onnx.OnnxTesting;
using Core = FunctionalBackprop.Core;
using DataType = global::Onnx.TensorProto.Types.DataType;

namespace FunctionalBackprop.Tests.Onnx;

/// <summary>
/// The forms in which exporters write the layers that take images read as those layers: a Conv
/// without bias or kernel_shape, padding unequal on two sides where the second adds no window, a
/// Pad of zeros before an AveragePool or a Conv (attribute form before opset 11, inputs after),
/// MaxPool's unused indices, BatchNormalization at opsets 9 and 15, a Reshape after a
/// convolution, a softmax over each image before opset 13. ONNX Runtime, running each hand-made
/// file, is the oracle of what it computes: the network read gives its outputs to the tolerance
/// of <see cref="OnnxRuntimeAgreementTests"/>.
/// </summary>
public class OnnxImageImportFormTests
{
    private static readonly long[] Image = { 2, 5, 4 };

    /// <summary>The file read as a float32 network computes what ONNX Runtime computes from the same file, on 20 images.</summary>
    private static Core.Network<float> AgreesWithOnnxRuntime(GraphBuilder g)
    {
        var network = OnnxNetwork.Load<float>(g.Stream());
        var inputs = Inputs<float>(20, network.InputWidth, seed: 101);
        var runtime = RunInOnnxRuntime(g.Bytes(), inputs, example: Image);
        var difference = RelativeDifference(Predict(network, inputs), runtime, Scales(network, inputs));
        Assert.True(difference <= Tolerance<float>(), $"{network}: {difference:G3} relative from ONNX Runtime");
        return network;
    }

    private static Core.LayerSpec Spec(Core.Network<float> network, int layer) => Core.Layer.spec(network.Layers[layer]);

    private static Core.Window Window(int height, int width) => new(height, width);

    [Fact]
    public void AConvWithoutBiasOrKernelShapeHasZeroBiasesAndItsWeightsKernel()
    {
        var g = new GraphBuilder().Input("x", null, 2, 5, 4).Initializer("W", new long[] { 3, 2, 3, 2 }, Drawn(36, 5))
            .Node("Conv", new[] { "x", "W" }, new[] { "y" }).Output("y", null, 3, 3, 3);
        var network = AgreesWithOnnxRuntime(g);
        var conv = ((Core.Layer<float>.Conv2D)network.Layers.Single()).Item;
        Assert.Equal(Window(3, 2), conv.Kernel);
        Assert.All(conv.Biases.ToArray(), b => Assert.Equal(0f, b));
    }

    [Theory]
    [InlineData(1, 1, 2, 1)] // 5 rows padded by 1 and 2, window 3, stride 2: the second row of zeros starts no window
    [InlineData(1, 0, 1, 1)] // 4 columns padded by 0 and 1, window 2, stride 2: the column of zeros starts no window
    public void PaddingUnequalOnTwoSidesReadsAsItsFirstSideWhenTheSecondAddsNoWindow(long top, long left, long bottom, long right)
    {
        var g = Convolution(attributes: new[] { Ints("pads", top, left, bottom, right), Ints("strides", 2, 2) }).Output("y");
        g.Node("Relu", new[] { "z" }, new[] { "y" });
        var network = AgreesWithOnnxRuntime(g);
        Assert.Equal(Window((int)top, (int)left), ((Core.Layer<float>.Conv2D)network.Layers.Single()).Item.Padding);
    }

    [Theory]
    [InlineData(9)]
    [InlineData(11)]
    [InlineData(18)]
    public void APadOfZerosThenAnAveragePoolIsOnePaddedAveragePool(int opset)
    {
        var g = new GraphBuilder(opset).Input("x", null, 2, 5, 4).Output("y");
        var pads = new long[] { 0, 0, 1, 1, 0, 0, 1, 1 };
        if (opset < 11)
        {
            g.Node("Pad", new[] { "x" }, new[] { "padded" }, String("mode", "constant"), Ints("pads", pads), Float("value", 0));
        }
        else
        {
            g.Graph.Initializer.Add(Int64s("pads", pads));
            g.Initializer("zero", System.Array.Empty<long>(), new[] { 0.0 });
            g.Node("Pad", new[] { "x", "pads", "zero" }, new[] { "padded" });
        }

        g.Node("AveragePool", new[] { "padded" }, new[] { "y" }, Ints("kernel_shape", 2, 2), Ints("strides", 2, 2));
        var network = AgreesWithOnnxRuntime(g);
        Assert.Equal(Core.LayerSpec.NewAvgPool2D(Window(2, 2), Window(2, 2), Window(1, 1)), Spec(network, 0));
    }

    [Fact]
    public void APadOfZerosThenAConvIsOnePaddedConv()
    {
        var g = new GraphBuilder(opset: 13).Input("x", null, 2, 5, 4).Output("y")
            .Initializer("W", new long[] { 3, 2, 3, 2 }, Drawn(36, 5)).Initializer("B", new long[] { 3 }, Drawn(3, 6));
        g.Graph.Initializer.Add(Int64s("pads", 0, 0, 1, 0, 0, 0, 1, 0));
        g.Node("Pad", new[] { "x", "pads" }, new[] { "padded" })
            .Node("Conv", new[] { "padded", "W", "B" }, new[] { "y" }, Ints("pads", 0, 1, 0, 1));
        var network = AgreesWithOnnxRuntime(g);
        Assert.Equal(Window(1, 1), ((Core.Layer<float>.Conv2D)network.Layers.Single()).Item.Padding);
    }

    [Fact]
    public void APadThatAddsNothingPassesItsInputOnAndMaxPoolsUnusedIndicesAreNotRead()
    {
        var g = new GraphBuilder(opset: 13).Input("x", null, 2, 5, 4).Output("y");
        g.Graph.Initializer.Add(Int64s("pads", 0, 0, 0, 0, 0, 0, 0, 0));
        g.Node("Pad", new[] { "x", "pads" }, new[] { "same" })
            .Node("MaxPool", new[] { "same" }, new[] { "y", "indices" }, Ints("kernel_shape", 3, 2), Ints("pads", 1, 0, 1, 0), Ints("strides", 1, 2));
        var network = AgreesWithOnnxRuntime(g);
        Assert.Equal(Core.LayerSpec.NewMaxPool2D(Window(3, 2), Window(1, 2), Window(1, 0)), Spec(network, 0));
    }

    [Theory]
    [InlineData(9)]
    [InlineData(15)]
    public void ABatchNormalizationOfOneOutputIsInferenceWithTheRunningStatistics(int opset)
    {
        var g = new GraphBuilder(opset).Input("x", null, 2, 5, 4).Output("y", null, 2, 5, 4)
            .Initializer("scale", new long[] { 2 }, new[] { 1.5, 0.5 }).Initializer("bias", new long[] { 2 }, new[] { 0.25, -1 })
            .Initializer("mean", new long[] { 2 }, new[] { 0.125, -0.5 }).Initializer("var", new long[] { 2 }, new[] { 2.0, 0.75 })
            .Node("BatchNormalization", new[] { "x", "scale", "bias", "mean", "var" }, new[] { "y" }, Float("epsilon", 1e-3f), Float("momentum", 0.99f));
        var network = AgreesWithOnnxRuntime(g);
        Assert.Equal(Core.LayerSpec.NewBatchNorm(0.01, 1e-3), Spec(network, 0));
        Assert.Equal(new[] { 0.125f, -0.5f, 2f, 0.75f }, network.State.SelectMany(m => m.ToArray()));
    }

    [Fact]
    public void AReshapeAfterAConvolutionIsAFlattenLayer()
    {
        var g = Convolution(attributes: Ints("kernel_shape", 3, 2)).Output("y", null, 2)
            .Initializer("W2", new long[] { 2, 27 }, Drawn(54, 7));
        g.Graph.Initializer.Add(Int64s("shape", -1, 27));
        g.Node("Reshape", new[] { "z", "shape" }, new[] { "flat" }).Node("Gemm", new[] { "flat", "W2" }, new[] { "y" }, Int("transB", 1));
        var network = AgreesWithOnnxRuntime(g);
        Assert.Equal(new[] { "conv2d", "flatten", "dense" }, network.Layers.Select(Core.Layer.kind));
        Assert.True(Core.Layer.activation(network.Layers.Head).IsIdentity);
    }

    [Fact]
    public void ASoftmaxAtAxis1OfAnImageBeforeOpset13IsOverEachImage()
    {
        var g = Convolution(opset: 11).Output("y");
        g.Node("Softmax", new[] { "z" }, new[] { "y" }, Int("axis", 1));
        var network = AgreesWithOnnxRuntime(g);
        Assert.True(Core.Layer.activation(network.Layers.Single()).IsSoftmax);
    }

    [Fact]
    public void AConvsWeightsAreItsFiltersRowByRowInEitherType()
    {
        var w = Drawn(36, 5);
        var wide = ((Core.Layer<double>.Conv2D)OnnxNetwork.Load<double>(Convolution(DataType.Double).Output("z").Stream()).Layers.Single()).Item;
        var single = ((Core.Layer<float>.Conv2D)OnnxNetwork.Load<float>(Convolution(DataType.Float).Output("z").Stream()).Layers.Single()).Item;
        Assert.Equal((3, 12), (wide.Kernels.Rows, wide.Kernels.Cols));
        Assert.Equal(w, Enumerable.Range(0, 36).Select(i => wide.Kernels[i / 12, i % 12]));
        Assert.Equal(w.Select(v => (float)v), Enumerable.Range(0, 36).Select(i => single.Kernels[i / 12, i % 12]));
    }
}
