using System;
using System.Linq;
using System.Numerics;
using FunctionalBackprop.Onnx;
using FunctionalBackprop.Onnx.Export;
using Google.Protobuf;
using Xunit;
using static FunctionalBackprop.Tests.Onnx.OnnxTesting;
using Core = FunctionalBackprop.Core;
using DataType = global::Onnx.TensorProto.Types.DataType;
using Proto = global::Onnx;

namespace FunctionalBackprop.Tests.Onnx;

/// <summary>
/// Issue 23, point 1: a regression network's target scaler in ONNX, after the last layer, so that
/// the file answers in the targets' units as Predict does: y = a·scale + offset in float64, which
/// ONNX Runtime computes bit for bit as the library's Scaler.inverse does.
/// </summary>
public class OnnxTargetScalerTests
{
    /// <summary>A 6-8-2 regression network with a standard target scaler of two targets on scales 10⁻³ and 10³.</summary>
    private static NeuralNetwork<T> Regression<T>(ScalerKind kind = ScalerKind.Standard)
        where T : IFloatingPointIeee754<T>
    {
        var targets = Enumerable.Range(0, 50).Select(j => new[] { T.CreateTruncating(0.001 * Math.Sin(j)), T.CreateTruncating(2500 + (1000 * Math.Cos(0.3 * j))) }).ToArray();
        var scaler = kind == ScalerKind.Standard ? Scaler.FitStandard(targets) : Scaler.FitMinMax(targets);
        return NeuralNetwork.Create(6).Dense(8, Activation.Tanh).Dense(2).Build<T>(seed: 4).WithTargetScaler(scaler);
    }

    /// <summary>The model's target nodes alone: input the last layer's output a [batch, 2], output y.</summary>
    private static byte[] TargetNodesOnly(Proto.ModelProto model, DataType type)
    {
        var graph = model.Graph;
        var first = graph.Node.First(n => n.Name.StartsWith("target.", StringComparison.Ordinal));
        foreach (var node in graph.Node.Where(n => !n.Name.StartsWith("target.", StringComparison.Ordinal)).ToList())
        {
            graph.Node.Remove(node);
        }

        foreach (var initializer in graph.Initializer.Where(i => !i.Name.StartsWith("target.", StringComparison.Ordinal)).ToList())
        {
            graph.Initializer.Remove(initializer);
        }

        graph.Input.Clear();
        graph.Input.Add(GraphBuilder.Value(first.Input[0], type, null, 2));
        return model.ToByteArray();
    }

    private static void InvertsBitForBit<T>(ScalerKind kind)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var network = Regression<T>(kind);
        var model = OnnxWriter.Model(network.CoreNetwork, null, network.TargetScaler!.CoreScaler, OnnxExportOptions.Default);
        var a = Inputs<T>(500, 2, seed: 9);
        var runtime = RunInOnnxRuntime(TargetNodesOnly(model, typeof(T) == typeof(float) ? DataType.Float : DataType.Double), a, input: model.Graph.Node.First(n => n.Name.StartsWith("target.", StringComparison.Ordinal)).Input[0]);
        var inverse = Core.Matrix.toColumns(Core.ScalerModule.inverse(network.TargetScaler.CoreScaler, Core.Matrix.ofColumns(a)));
        Assert.Equal(Bits(inverse), Bits(runtime));
    }

    [Theory]
    [InlineData(ScalerKind.Standard)]
    [InlineData(ScalerKind.MinMax)]
    public void OnnxRuntimeInvertsFloat32OutputsBitForBitAsTheScaler(ScalerKind kind) => InvertsBitForBit<float>(kind);

    [Theory]
    [InlineData(ScalerKind.Standard)]
    [InlineData(ScalerKind.MinMax)]
    public void OnnxRuntimeInvertsFloat64OutputsBitForBitAsTheScaler(ScalerKind kind) => InvertsBitForBit<double>(kind);

    private static void AgreesWithPredict<T>()
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var network = Regression<T>();
        var x = Inputs<T>(100, 6, seed: 10);
        var runtime = RunInOnnxRuntime(Export(network), x);
        var ours = network.Predict(x);

        // Relative to each output's own scale: the network's outputs' scale times the target scale, plus the offset.
        var scales = Scales(network, x);
        var target = network.TargetScaler!;
        for (var e = 0; e < x.Length; e++)
        {
            for (var i = 0; i < 2; i++)
            {
                var scale = (scales[e] * target.Scales[i]) + Math.Abs(target.Offsets[i]);
                var difference = Math.Abs(double.CreateTruncating(ours[e][i]) - double.CreateTruncating(runtime[e][i]));
                Assert.True(difference <= Tolerance<T>() * scale, $"example {e}, output {i}: Predict {ours[e][i]}, ONNX Runtime {runtime[e][i]}");
            }
        }
    }

    [Fact]
    public void AFloat32FileAnswersInTheTargetsUnitsAsPredictDoes() => AgreesWithPredict<float>();

    [Fact]
    public void AFloat64FileAnswersInTheTargetsUnitsAsPredictDoes() => AgreesWithPredict<double>();

    [Fact]
    public void TheTargetScalerFollowsTheLastLayerAndTheMetadataNamesIt()
    {
        var single = Proto.ModelProto.Parser.ParseFrom(Export(Regression<float>()));
        Assert.Equal(new[] { "Gemm", "Tanh", "Gemm", "Cast", "Mul", "Add", "Cast" }, single.Graph.Node.Select(n => n.OpType));
        Assert.Equal("y", single.Graph.Node[^1].Output[0]);
        var metadata = Assert.Single(single.MetadataProps);
        Assert.Equal(("FunctionalBackprop.targetScaler", "standard"), (metadata.Key, metadata.Value));
        foreach (var name in new[] { "target.scale", "target.offset" })
        {
            var tensor = single.Graph.Initializer.Single(i => i.Name == name);
            Assert.Equal((int)DataType.Double, tensor.DataType);
            Assert.Equal(new long[] { 2 }, tensor.Dims);
        }

        var wide = Proto.ModelProto.Parser.ParseFrom(Export(Regression<double>(ScalerKind.MinMax)));
        Assert.Equal(new[] { "Gemm", "Tanh", "Gemm", "Mul", "Add" }, wide.Graph.Node.Select(n => n.OpType));
        Assert.Equal("min-max", Assert.Single(wide.MetadataProps).Value);
    }

    // ----- reading it back -----

    private static void LoadsBack<T>()
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var network = Regression<T>(ScalerKind.MinMax).WithScaler(Scaler.FitStandard(Inputs<T>(30, 6, seed: 11)));
        var loaded = OnnxModel.Load<T>(new System.IO.MemoryStream(Export(network)));
        Assert.Equal(Bits(network), Bits(loaded));
        Assert.Equal(ScalerKind.MinMax, loaded.TargetScaler!.Kind);
        Assert.Equal(network.TargetScaler!.Offsets, loaded.TargetScaler.Offsets);
        Assert.Equal(network.TargetScaler.Scales, loaded.TargetScaler.Scales);
        Assert.Equal(network.Scaler!.Offsets, loaded.Scaler!.Offsets);
        var x = Inputs<T>(20, 6, seed: 12);
        Assert.Equal(Bits(network.Predict(x)), Bits(loaded.Predict(x)));
    }

    [Fact]
    public void AFloat32FileLoadsBackWithItsTargetScalerBitForBit() => LoadsBack<float>();

    [Fact]
    public void AFloat64FileLoadsBackWithItsTargetScalerBitForBit() => LoadsBack<double>();

    [Fact]
    public void ANetworkAloneCannotHoldATargetScaler()
    {
        var e = Assert.Throws<NotSupportedException>(() => OnnxNetwork.Load<double>(new System.IO.MemoryStream(Export(Regression<double>()))));
        Assert.Contains("target standard scaler of 2 features", e.Message);
        Assert.Contains("LoadContents", e.Message);
    }

    [Fact]
    public void ATargetScalerInAnotherFormIsRefusedNamingWhatDiffers()
    {
        var model = Proto.ModelProto.Parser.ParseFrom(Export(Regression<double>()));
        var add = model.Graph.Node.Single(n => n.OpType == "Add");
        add.OpType = "Sub";
        var sub = Assert.Throws<NotSupportedException>(() => OnnxModel.Load<double>(new System.IO.MemoryStream(model.ToByteArray())));
        Assert.Contains("names a target scaler", sub.Message);
        Assert.Contains("'Sub' node 'target.add'", sub.Message);

        var negative = Proto.ModelProto.Parser.ParseFrom(Export(Regression<double>()));
        var scale = negative.Graph.Initializer.Single(i => i.Name == "target.scale");
        scale.RawData = ByteString.CopyFrom(BitConverter.GetBytes(-1.0).Concat(BitConverter.GetBytes(2.0)).ToArray());
        var invalid = Assert.Throws<System.IO.InvalidDataException>(() => OnnxModel.Load<double>(new System.IO.MemoryStream(negative.ToByteArray())));
        Assert.Contains("target scaler is not valid", invalid.Message);
        Assert.Contains("scale is -1", invalid.Message);
    }
}
