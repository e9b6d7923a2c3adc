using System;
using Microsoft.FSharp.Core;
using System.IO;
using System.Linq;
using System.Numerics;
using FunctionalBackprop.Onnx;
using Xunit;
using static FunctionalBackprop.Tests.Onnx.OnnxTesting;
using Core = FunctionalBackprop.Core;
using Proto = global::Onnx;

namespace FunctionalBackprop.Tests.Onnx;

/// <summary>Export then import gives the same network: every parameter and every prediction bit for bit.</summary>
public sealed class OnnxRoundTripTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("fbp-onnx-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    public static TheoryData<string> ActivationNames()
    {
        var data = new TheoryData<string>();
        foreach (var name in Activations.Keys)
        {
            data.Add(name);
        }

        return data;
    }

    private static void SameNetwork<T>(NeuralNetwork<T> expected, NeuralNetwork<T> actual)
        where T : IFloatingPointIeee754<T>
    {
        Assert.Equal(expected.Layers, actual.Layers);
        Assert.Equal(Bits(expected), Bits(actual));
        var inputs = Inputs<T>(50, expected.InputWidth, seed: 5);
        Assert.Equal(Bits(expected.Predict(inputs)), Bits(actual.Predict(inputs)));
    }

    [Theory]
    [MemberData(nameof(ActivationNames))]
    public void ExportThenImportKeepsEveryBitInFloat64(string activation)
    {
        var network = Network<double>(Activations[activation], seed: 3);
        var path = Path.Combine(folder, "model.onnx");
        network.SaveOnnx(path);
        SameNetwork(network, OnnxModel.Load<double>(path));
    }

    [Theory]
    [MemberData(nameof(ActivationNames))]
    public void ExportThenImportKeepsEveryBitInFloat32(string activation)
    {
        var network = Network<float>(Activations[activation], seed: 4);
        using var stream = new MemoryStream();
        OnnxModel.Save(network, stream);
        stream.Position = 0;
        SameNetwork(network, OnnxModel.Load<float>(stream));
    }

    /// <summary>
    /// The network read back is <paramref name="asRead"/>'s layers over <paramref name="exported"/>'s
    /// parameters, and predicts exactly what <paramref name="exported"/> predicts.
    /// </summary>
    private static void ReadsBackAs<T>(NeuralNetwork<T> exported, NeuralNetwork<T> asRead, NeuralNetwork<T> imported)
        where T : IFloatingPointIeee754<T>
    {
        Assert.Equal(asRead.Layers, imported.Layers);
        Assert.Equal(Bits(exported), Bits(imported));
        var inputs = Inputs<T>(50, exported.InputWidth, seed: 5);
        Assert.Equal(Bits(exported.Predict(inputs)), Bits(imported.Predict(inputs)));
    }

    [Theory]
    [MemberData(nameof(ActivationNames))]
    public void ActivationLayersExportThenImportPredictingEveryBitInFloat64(string activation)
    {
        var network = ActivationLayers<double>(Activations[activation], seed: 6);
        ReadsBackAs(network, ActivationLayersAsRead<double>(Activations[activation], seed: 6), OnnxModel.Load<double>(new MemoryStream(Export(network))));
    }

    [Theory]
    [MemberData(nameof(ActivationNames))]
    public void ActivationLayersExportThenImportPredictingEveryBitInFloat32(string activation)
    {
        var network = ActivationLayers<float>(Activations[activation], seed: 7);
        ReadsBackAs(network, ActivationLayersAsRead<float>(Activations[activation], seed: 7), OnnxModel.Load<float>(new MemoryStream(Export(network))));
    }

    [Fact]
    public void Float64LeakyReluAndStepLayersAreWrittenAsExactPairsAndReadBackOnAnyInput()
    {
        // On x, after a dense layer, and after another activation layer.
        var network = NeuralNetwork.Create(3)
            .Activation(Activation.LeakyReLU(0.1)).Activation(Activation.Step)
            .Dense(4).Activation(Activation.Step).Activation(Activation.LeakyReLU(0.1))
            .Build<double>(seed: 9);
        var model = Proto.ModelProto.Parser.ParseFrom(Export(network));
        Assert.Equal(new[] { "Mul", "Max", "Greater", "Cast", "Gemm", "Greater", "Cast", "Mul", "Max" }, model.Graph.Node.Select(n => n.OpType));

        var asRead = NeuralNetwork.Create(3)
            .Activation(Activation.LeakyReLU(0.1)).Activation(Activation.Step)
            .Dense(4, Activation.Step).Activation(Activation.LeakyReLU(0.1))
            .Build<double>(seed: 9);
        ReadsBackAs(network, asRead, OnnxModel.Load<double>(new MemoryStream(Export(network))));
    }

    public static TheoryData<string, bool> DropoutCases()
    {
        var data = new TheoryData<string, bool>();
        foreach (var name in Activations.Keys)
        {
            data.Add(name, false);
            data.Add(name, true);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(DropoutCases))]
    public void DropoutLayersLeaveNoNodeAndReadBackAsNoLayer(string activation, bool last)
    {
        var network = DropoutLayers<double>(Activations[activation], seed: 8, last);
        var plain = WithoutDropout<double>(Activations[activation], seed: 8);
        var model = Proto.ModelProto.Parser.ParseFrom(Export(network));
        var withoutDropout = Proto.ModelProto.Parser.ParseFrom(Export(plain));

        // The graph of the network without dropout, and for a network ending in dropout one
        // Identity node more, naming the output.
        Assert.DoesNotContain(model.Graph.Node, n => n.OpType == "Dropout");
        var expected = withoutDropout.Graph.Node.Select(n => n.OpType).Concat(last ? new[] { "Identity" } : Array.Empty<string>());
        Assert.Equal(expected, model.Graph.Node.Select(n => n.OpType));
        Assert.Equal(withoutDropout.Graph.Initializer.Select(i => i.RawData), model.Graph.Initializer.Select(i => i.RawData));
        if (last)
        {
            var identity = model.Graph.Node[^1];
            Assert.Equal("y", Assert.Single(identity.Output));
            Assert.Equal(model.Graph.Node[^2].Output.Single(), Assert.Single(identity.Input));
        }

        ReadsBackAs(network, plain, OnnxModel.Load<double>(new MemoryStream(Export(network))));
    }

    [Fact]
    public void EveryOpsetWrittenReadsBack()
    {
        var network = NeuralNetwork.Create(3).Dense(4, Activation.LeakyReLU(0.25)).Dense(3, Activation.Step).Dense(2, Activation.Softmax).Build<double>(seed: 8);
        for (var opset = 9; opset <= 21; opset++)
        {
            var options = new OnnxExportOptions { Opset = opset, IrVersion = 10 };
            SameNetwork(network, OnnxModel.Load<double>(new MemoryStream(Export(network, options))));
        }
    }

    [Fact]
    public void TheFSharpCoresNetworksRoundTripThroughOnnxNetwork()
    {
        var network = Core.Network.init<double>(42UL, Core.Shape.NewVector(2), new[]
        {
            Core.LayerSpec.NewDense(3, Core.Activation.Tanh, FSharpOption<Core.Initializer>.Some(Core.Initializer.XavierNormal)),
            Core.LayerSpec.NewDense(1, Core.Activation.Sigmoid, FSharpOption<Core.Initializer>.Some(Core.Initializer.XavierNormal)),
        });
        var path = Path.Combine(folder, "core.onnx");
        OnnxNetwork.Save(network, path);
        var loaded = OnnxNetwork.Load<double>(path);
        var x = Core.Matrix.ofColumns(new[] { new[] { 0.0, 1.0 }, new[] { 1.0, 0.0 } });
        Assert.Equal(Core.Forward.run(network, x).ToArray(), Core.Forward.run(loaded, x).ToArray());
        Assert.Equal(network.ToString(), loaded.ToString());
    }

    [Fact]
    public void TheFileIsTheDocumentedGraph()
    {
        var network = NeuralNetwork.Create(3).Dense(4, Activation.ReLU).Dense(2, Activation.Softmax).Build<float>(seed: 1);
        var model = Proto.ModelProto.Parser.ParseFrom(Export(network));
        Assert.Equal(7, model.IrVersion);
        Assert.Equal(13, Assert.Single(model.OpsetImport).Version);
        Assert.Equal("FunctionalBackprop", model.ProducerName);
        Assert.False(string.IsNullOrEmpty(model.ProducerVersion));
        Assert.Equal(network.ToString(), model.DocString);
        Assert.Contains("dense 3→4 relu", model.Graph.DocString);
        Assert.Equal(new[] { "Gemm", "Relu", "Gemm", "Softmax" }, model.Graph.Node.Select(n => n.OpType));
        Assert.All(model.Graph.Node, n => Assert.False(string.IsNullOrEmpty(n.DocString)));
        var x = Assert.Single(model.Graph.Input);
        Assert.Equal("x", x.Name);
        Assert.Equal((int)Proto.TensorProto.Types.DataType.Float, x.Type.TensorType.ElemType);
        Assert.Equal("batch", x.Type.TensorType.Shape.Dim[0].DimParam);
        Assert.Equal(3, x.Type.TensorType.Shape.Dim[1].DimValue);
        Assert.Equal("y", Assert.Single(model.Graph.Output).Name);
        var gemm = model.Graph.Node[0];
        Assert.Equal(1, gemm.Attribute.Single(a => a.Name == "transB").I);
        Assert.Equal(new long[] { 4, 3 }, model.Graph.Initializer.Single(i => i.Name == gemm.Input[1]).Dims);
        Assert.Equal(-1, model.Graph.Node[3].Attribute.Single(a => a.Name == "axis").I);
    }

    [Fact]
    public void Float64LeakyReluAndStepUseOperatorsOnnxRuntimeHas()
    {
        var network = NeuralNetwork.Create(3).Dense(4, Activation.LeakyReLU(0.1)).Dense(2, Activation.Step).Build<double>(seed: 1);
        var model = Proto.ModelProto.Parser.ParseFrom(Export(network));
        Assert.Equal(new[] { "Gemm", "Mul", "Max", "Gemm", "Greater", "Cast" }, model.Graph.Node.Select(n => n.OpType));
        var single = Proto.ModelProto.Parser.ParseFrom(Export(NeuralNetwork.Create(3).Dense(4, Activation.LeakyReLU(0.1)).Build<float>(seed: 1)));
        Assert.Equal(new[] { "Gemm", "LeakyRelu" }, single.Graph.Node.Select(n => n.OpType));
        Assert.Equal(0.1f, single.Graph.Node[1].Attribute.Single().F);
    }

    [Fact]
    public void ExportingTheSameNetworkTwiceGivesTheSameBytes()
    {
        var network = Network<double>(Activation.Tanh, seed: 2);
        Assert.Equal(Export(network), Export(network));
    }

    [Fact]
    public void AnIrVersionOlderThanTheOpsetIsRefused()
    {
        var network = Network<double>(Activation.Tanh, seed: 2);
        var e = Assert.Throws<ArgumentException>(() => Export(network, new OnnxExportOptions { Opset = 15, IrVersion = 7 }));
        Assert.Contains("IR version 8", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new OnnxExportOptions { Opset = 8 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new OnnxExportOptions { Opset = 22 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new OnnxExportOptions { IrVersion = 11 });
    }

    [Fact]
    public void AFailedSaveLeavesTheOldFileIntact()
    {
        var path = Path.Combine(folder, "model.onnx");
        var first = Network<double>(Activation.Sigmoid, seed: 1);
        first.SaveOnnx(path);
        var before = File.ReadAllBytes(path);
        ModelStorage.WrapForTesting = stream => new FailingStream(stream, failAfter: 100);
        try
        {
            Assert.Throws<IOException>(() => Network<double>(Activation.Tanh, seed: 2).SaveOnnx(path));
        }
        finally
        {
            ModelStorage.WrapForTesting = null;
        }

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(new[] { "model.onnx" }, Directory.GetFiles(folder).Select(Path.GetFileName));
    }
}
