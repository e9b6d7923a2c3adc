using System;
using System.IO;
using System.Linq;
using System.Numerics;
using FunctionalBackprop.Onnx;
using Microsoft.FSharp.Core;
using Xunit;
using static FunctionalBackprop.Tests.Onnx.OnnxTesting;
using Core = FunctionalBackprop.Core;
using Proto = global::Onnx;

namespace FunctionalBackprop.Tests.Onnx;

/// <summary>
/// Networks of the kinds that take images, exported then imported: the same layers (but for what
/// leaves no node or no layer, below), every parameter, every running statistic and every output
/// bit for bit, in both types, at an old, the default and the newest opset; and the graph written
/// is the documented one.
/// </summary>
public sealed class OnnxImageRoundTripTests
{
    public static TheoryData<string, bool, int> Cases()
    {
        var data = new TheoryData<string, bool, int>();
        foreach (var kind in ImageNetworks.Names)
        {
            foreach (var single in new[] { true, false })
            {
                foreach (var opset in new[] { 9, 13, 21 })
                {
                    data.Add(kind, single, opset);
                }
            }
        }

        return data;
    }

    /// <summary>
    /// The layers a file of the network reads back as: dropout writes no node, and a flatten on x
    /// itself (the input is then read as the flattened vector) or on vectors writes a Flatten that
    /// reads as no layer.
    /// </summary>
    private static (Core.Shape Input, Core.LayerSpec[] Specs) AsRead<T>(Core.Network<T> network)
        where T : IFloatingPointIeee754<T>
    {
        var kept = network.Layers.Zip(network.Shapes, (layer, shape) => (layer, shape))
            .Where((l, i) => !l.layer.IsDropout && !(l.layer.IsFlatten && (i == 0 || l.shape is Core.Shape.Vector)))
            .Select(l => Core.Layer.spec(l.layer)).ToArray();
        return (network.Layers.Head.IsFlatten ? Core.Shape.NewVector(network.InputWidth) : network.InputShape, kept);
    }

    private static void ReadsBack<T>(Core.Network<T> network, OnnxExportOptions options)
        where T : IFloatingPointIeee754<T>
    {
        var back = OnnxNetwork.Load<T>(new MemoryStream(Export(network, options)));
        var (input, specs) = AsRead(network);
        Assert.Equal(input, back.InputShape);
        Assert.Equal(specs, back.Layers.Select(Core.Layer.spec));
        Assert.Equal(Bits(network), Bits(back));
        var inputs = Inputs<T>(20, network.InputWidth, seed: 61);
        Assert.Equal(Bits(Predict(network, inputs)), Bits(Predict(back, inputs)));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void EveryImageKindExportsThenImportsWithItsParametersStateAndOutputsBitForBit(string kind, bool single, int opset)
    {
        var options = new OnnxExportOptions { Opset = opset, IrVersion = 10 };
        if (single)
        {
            ReadsBack(ImageNetworks.Network<float>(kind, 67), options);
        }
        else
        {
            ReadsBack(ImageNetworks.Network<double>(kind, 67), options);
        }
    }

    [Fact]
    public void TheImageFileIsTheDocumentedGraph()
    {
        var network = ImageNetworks.Network<float>("lenet", 71);
        var model = Proto.ModelProto.Parser.ParseFrom(Export(network));
        Assert.Equal(
            new[] { "Conv", "Relu", "MaxPool", "Conv", "BatchNormalization", "Tanh", "AveragePool", "Flatten", "Gemm", "BatchNormalization", "Sigmoid", "Gemm", "Softmax" },
            model.Graph.Node.Select(n => n.OpType));
        Assert.All(model.Graph.Node, n => Assert.False(string.IsNullOrEmpty(n.DocString)));
        Assert.Equal(new[] { "batch", "1", "12", "10" }, Dims(Assert.Single(model.Graph.Input)));
        Assert.Equal(new[] { "batch", "3" }, Dims(Assert.Single(model.Graph.Output)));

        var conv = model.Graph.Node[0];
        Assert.Equal(new long[] { 5, 5 }, Ints(conv, "kernel_shape"));
        Assert.Equal(new long[] { 1, 1 }, Ints(conv, "strides"));
        Assert.Equal(new long[] { 2, 2, 2, 2 }, Ints(conv, "pads"));
        Assert.Equal(new long[] { 4, 1, 5, 5 }, Initializer(model, conv.Input[1]).Dims);
        Assert.Equal(new long[] { 4 }, Initializer(model, conv.Input[2]).Dims);
        Assert.Equal(new long[] { 2, 2, 2, 2 }, Ints(model.Graph.Node[2], "strides").Concat(Ints(model.Graph.Node[2], "kernel_shape")));

        var average = model.Graph.Node[6];
        Assert.Equal(1, average.Attribute.Single(a => a.Name == "count_include_pad").I);
        Assert.Equal(new long[] { 1, 1, 1, 1 }, Ints(average, "pads"));

        var norm = model.Graph.Node[4];
        Assert.Equal(new[] { "layer4.weight", "layer4.bias", "layer4.running_mean", "layer4.running_var" }, norm.Input.Skip(1));
        Assert.All(norm.Input.Skip(1), name => Assert.Equal(new long[] { 6 }, Initializer(model, name).Dims));
        Assert.Equal(1e-5f, norm.Attribute.Single(a => a.Name == "epsilon").F);
        Assert.Equal(0.9f, norm.Attribute.Single(a => a.Name == "momentum").F);
        Assert.Equal(1, model.Graph.Node[7].Attribute.Single(a => a.Name == "axis").I);
    }

    [Fact]
    public void AnImageOutputIsDeclaredAsAnImageAndADenseLayerOnImagesFlattensFirst()
    {
        var ending = ImageNetworks.Network<double>(Core.Shape.NewImage(1, 5, 4), 73, Core.LayerSpec.NewMaxPool2D(new Core.Window(2, 2), new Core.Window(1, 1), new Core.Window(0, 0)));
        Assert.Equal(new[] { "batch", "1", "4", "3" }, Dims(Proto.ModelProto.Parser.ParseFrom(Export(ending)).Graph.Output.Single()));
        ReadsBack(ending, OnnxExportOptions.Default);

        var dense = ImageNetworks.Network<double>(Core.Shape.NewImage(2, 3, 3), 73, Core.LayerSpec.NewDense(4, Core.Activation.Tanh, FSharpOption<Core.Initializer>.None));
        var model = Proto.ModelProto.Parser.ParseFrom(Export(dense));
        Assert.Equal(new[] { "Flatten", "Gemm", "Tanh" }, model.Graph.Node.Select(n => n.OpType));
        var back = OnnxNetwork.Load<double>(new MemoryStream(Export(dense)));
        Assert.Equal(Core.Shape.NewVector(18), back.InputShape);
        Assert.Equal(Bits(dense), Bits(back));
    }

    [Fact]
    public void ASoftmaxOverAnImageIsWrittenBeforeOpset13AndRefusedFrom13()
    {
        var network = ImageNetworks.Network<float>(Core.Shape.NewImage(2, 4, 3), 79, Core.LayerSpec.NewActivation(Core.Activation.Softmax));
        ReadsBack(network, new OnnxExportOptions { Opset = 12, IrVersion = 7 });
        var e = Assert.Throws<NotSupportedException>(() => Export(network));
        Assert.Contains("Layer 1's softmax", e.Message);
        Assert.Contains("Opset = 12", e.Message);
    }

    [Theory]
    [InlineData(0.1, 1e-5)]
    [InlineData(0.01, 1e-3)]
    [InlineData(0.2, 0.1)]
    [InlineData(0.0, 2e-5)]
    [InlineData(1.0, 1e-5)]
    public void BatchNormalisationsMomentumAndEpsilonReadBackExactly(double momentum, double epsilon)
    {
        var network = ImageNetworks.Network<double>(Core.Shape.NewVector(3), 83, Core.LayerSpec.NewBatchNorm(momentum, epsilon));
        var norm = Proto.ModelProto.Parser.ParseFrom(Export(network)).Graph.Node.Single();
        Assert.Equal((float)(1 - momentum), norm.Attribute.Single(a => a.Name == "momentum").F);
        Assert.Equal((float)epsilon, norm.Attribute.Single(a => a.Name == "epsilon").F);
        ReadsBack(network, OnnxExportOptions.Default);
    }

    [Fact]
    public void AnEpsilonIsReadAsTheShortestDecimalOfItsFloat32()
    {
        // ONNX holds ε as a FLOAT: an ε that is not the shortest decimal of a float32 reads back as that decimal.
        var network = ImageNetworks.Network<double>(Core.Shape.NewVector(3), 83, Core.LayerSpec.NewBatchNorm(0.1, 1.00000001e-5));
        var back = (Core.Layer<double>.BatchNorm)OnnxNetwork.Load<double>(new MemoryStream(Export(network))).Layers.Single();
        Assert.Equal(1e-5, back.Item.Epsilon);
    }

    [Fact]
    public void AnImageNetworksScalerIsWrittenPerValueAndReadBack()
    {
        var network = ImageNetworks.Network<float>("conv2d", 89);
        var raw = Inputs<double>(4, network.InputWidth, seed: 97).Select(x => x.Select(v => (100 * v) + 3).ToArray()).ToArray();
        var scaler = Core.ScalerModule.fitStandard(Core.Matrix.ofColumnMajor(network.InputWidth, raw.Length, raw.SelectMany(x => x).ToArray()));
        var contents = new Core.ModelContents<float>(network, FSharpOption<Core.Scaler>.Some(scaler), FSharpOption<Core.Scaler>.None, FSharpOption<Core.TrainingState<float>>.None);
        using var stream = new MemoryStream();
        OnnxNetwork.Save(contents, stream);
        var model = Proto.ModelProto.Parser.ParseFrom(stream.ToArray());
        Assert.Equal(new long[] { 2, 7, 6 }, Initializer(model, "scaler.offset").Dims);
        Assert.Equal(new long[] { 2, 7, 6 }, Initializer(model, "scaler.scale").Dims);

        var back = OnnxNetwork.LoadContents<float>(new MemoryStream(stream.ToArray()));
        Assert.Equal(scaler.Offsets.ToArray(), back.Scaler.Value.Offsets.ToArray());
        Assert.Equal(scaler.Scales.ToArray(), back.Scaler.Value.Scales.ToArray());
        Assert.Equal(Bits(network), Bits(back.Network));

        // ONNX Runtime, given the raw images, computes the scaled network's outputs.
        var singles = raw.Select(x => x.Select(v => (float)v).ToArray()).ToArray();
        var scaled = Core.ScalerModule.apply(scaler, Core.Matrix.ofColumnMajor(network.InputWidth, raw.Length, singles.SelectMany(x => x).ToArray())).ToArray();
        var inputs = Enumerable.Range(0, raw.Length).Select(e => scaled.AsSpan(e * network.InputWidth, network.InputWidth).ToArray()).ToArray();
        var runtime = RunInOnnxRuntime(stream.ToArray(), singles, example: ImageNetworks.Dims(network.InputShape));
        Assert.True(RelativeDifference(Predict(network, inputs), runtime, Scales(network, inputs)) <= Tolerance<float>());
    }

    private static string[] Dims(Proto.ValueInfoProto value) =>
        value.Type.TensorType.Shape.Dim.Select(d => d.DimParam.Length > 0 ? d.DimParam : d.DimValue.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    private static long[] Ints(Proto.NodeProto node, string name) => node.Attribute.Single(a => a.Name == name).Ints.ToArray();

    private static Proto.TensorProto Initializer(Proto.ModelProto model, string name) => model.Graph.Initializer.Single(i => i.Name == name);
}
