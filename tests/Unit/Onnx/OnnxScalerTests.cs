using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Numerics;
using FunctionalBackprop.Onnx;
using FunctionalBackprop.Onnx.Export;
using Google.Protobuf;
using Microsoft.FSharp.Core;
using Xunit;
using Xunit.Abstractions;
using static FunctionalBackprop.Tests.Onnx.OnnxTesting;
using Core = FunctionalBackprop.Core;
using DataType = global::Onnx.TensorProto.Types.DataType;
using Proto = global::Onnx;

namespace FunctionalBackprop.Tests.Onnx;

/// <summary>
/// A network's input scaler in ONNX: exported before the first layer so that the file, like the
/// network, takes raw inputs; run by ONNX Runtime on raw inputs as Predict computes (the scaler
/// itself bit for bit); read back as the same scaler, bit for bit; and refused in any form that
/// would not compute what the library's scaler computes.
/// </summary>
public sealed class OnnxScalerTests(ITestOutputHelper output)
{
    /// <summary>
    /// Raw examples of six features on very different scales (centres from −80 to 107.5, spreads
    /// from 0.01 to 1000), as real data has before scaling.
    /// </summary>
    private static T[][] RawInputs<T>(int count, int seed)
        where T : IFloatingPointIeee754<T>
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, 6)
            .Select(i => T.CreateTruncating((i * 37.5) - 80 + (Math.Pow(10, i - 2) * ((random.NextDouble() * 4) - 2))))
            .ToArray()).ToArray();
    }

    private static Scaler Fitted<T>(ScalerKind kind)
        where T : IFloatingPointIeee754<T> =>
        kind == ScalerKind.MinMax ? Scaler.FitMinMax(RawInputs<T>(200, seed: 31)) : Scaler.FitStandard(RawInputs<T>(200, seed: 31));

    /// <summary>The 6-8-5-4 network of the other ONNX tests, taking raw inputs through a scaler fitted on 200 of them.</summary>
    private static NeuralNetwork<T> Scaled<T>(string activation, ScalerKind kind, int seed = 17)
        where T : IFloatingPointIeee754<T> =>
        Network<T>(Activations[activation], seed).WithScaler(Fitted<T>(kind));

    public static TheoryData<string, ScalerKind> Cases()
    {
        var data = new TheoryData<string, ScalerKind>();
        foreach (var name in Activations.Keys)
        {
            data.Add(name, ScalerKind.MinMax);
            data.Add(name, ScalerKind.Standard);
        }

        return data;
    }

    // ----- ONNX Runtime on raw inputs -----

    private void AgreeOnRawInputs<T>(string activation, ScalerKind kind, OnnxExportOptions? options = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var network = Scaled<T>(activation, kind);
        var raw = RawInputs<T>(100, seed: 32);
        var scaled = network.Scaler!.Transform(raw);
        var away = new HashSet<T[]>(AwayFromSteps(network, scaled), ReferenceEqualityComparer.Instance);
        var kept = Enumerable.Range(0, raw.Length).Where(i => away.Contains(scaled[i])).ToArray();
        Assert.True(kept.Length >= 50, $"only {kept.Length} of 100 examples lie away from a step's threshold");
        var runtime = RunInOnnxRuntime(Export(network, options), kept.Select(i => raw[i]).ToArray());
        var ours = network.Predict(kept.Select(i => raw[i]).ToArray());
        var difference = RelativeDifference(ours, runtime, Scales(network, kept.Select(i => scaled[i]).ToArray()));
        output.WriteLine($"{typeof(T).Name} {activation} after a {network.Scaler}, opset {(options ?? OnnxExportOptions.Default).Opset}: largest relative difference {difference:G3}");
        Assert.True(difference <= Tolerance<T>(), $"ONNX Runtime differs from Predict on raw inputs by {difference:G3} relative (tolerance {Tolerance<T>():G1})");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Float32FilesTakeRawInputsInOnnxRuntimeAsPredictDoes(string activation, ScalerKind kind) => AgreeOnRawInputs<float>(activation, kind);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Float64FilesTakeRawInputsInOnnxRuntimeAsPredictDoes(string activation, ScalerKind kind) => AgreeOnRawInputs<double>(activation, kind);

    [Theory]
    [InlineData(9, 4)]
    [InlineData(11, 6)]
    [InlineData(17, 8)]
    [InlineData(21, 10)]
    public void EveryWrittenOpsetScalesInOnnxRuntime(int opset, long irVersion)
    {
        var options = new OnnxExportOptions { Opset = opset, IrVersion = irVersion };
        AgreeOnRawInputs<float>("softmax", ScalerKind.Standard, options);
        AgreeOnRawInputs<double>("tanh", ScalerKind.MinMax, options);
    }

    /// <summary>The model's scaler nodes alone, their output (the scaled input, [batch, 6]) made the graph's output.</summary>
    private static byte[] ScalerOnly(Proto.ModelProto model, DataType type)
    {
        var graph = model.Graph;
        foreach (var node in graph.Node.Where(n => !n.Name.StartsWith("scaler.", StringComparison.Ordinal)).ToList())
        {
            graph.Node.Remove(node);
        }

        foreach (var initializer in graph.Initializer.Where(i => !i.Name.StartsWith("scaler.", StringComparison.Ordinal)).ToList())
        {
            graph.Initializer.Remove(initializer);
        }

        graph.Output.Clear();
        graph.Output.Add(GraphBuilder.Value("scaler.a", type, null, 6));
        return model.ToByteArray();
    }

    private void ScalesBitForBit<T>(ScalerKind kind)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var network = Scaled<T>("relu", kind);
        var raw = RawInputs<T>(1000, seed: 33);
        var model = OnnxWriter.Model(network.CoreNetwork, network.Scaler!.CoreScaler, null, OnnxExportOptions.Default);
        var runtime = RunInOnnxRuntime(ScalerOnly(model, typeof(T) == typeof(float) ? DataType.Float : DataType.Double), raw, output: "scaler.a");
        Assert.Equal(Bits(network.Scaler!.Transform(raw)), Bits(runtime));
    }

    [Theory]
    [InlineData(ScalerKind.MinMax)]
    [InlineData(ScalerKind.Standard)]
    public void OnnxRuntimeScalesFloat32InputsBitForBitAsTheScaler(ScalerKind kind) => ScalesBitForBit<float>(kind);

    [Theory]
    [InlineData(ScalerKind.MinMax)]
    [InlineData(ScalerKind.Standard)]
    public void OnnxRuntimeScalesFloat64InputsBitForBitAsTheScaler(ScalerKind kind) => ScalesBitForBit<double>(kind);

    // ----- the file -----

    [Fact]
    public void AFloat32FileScalesInFloat64BetweenTwoCasts()
    {
        var network = Scaled<float>("relu", ScalerKind.Standard);
        var model = Proto.ModelProto.Parser.ParseFrom(Export(network));
        Assert.Equal(new[] { "Cast", "Sub", "Div", "Cast", "Gemm", "Relu", "Gemm", "Relu", "Gemm", "Relu" }, model.Graph.Node.Select(n => n.OpType));
        Assert.Equal((long)DataType.Double, model.Graph.Node[0].Attribute.Single(a => a.Name == "to").I);
        Assert.Equal((long)DataType.Float, model.Graph.Node[3].Attribute.Single(a => a.Name == "to").I);
        Assert.Equal("x", model.Graph.Node[0].Input[0]);
        Assert.Equal(model.Graph.Node[3].Output[0], model.Graph.Node[4].Input[0]);
        foreach (var name in new[] { "scaler.offset", "scaler.scale" })
        {
            var tensor = model.Graph.Initializer.Single(i => i.Name == name);
            Assert.Equal((int)DataType.Double, tensor.DataType);
            Assert.Equal(new long[] { 6 }, tensor.Dims);
        }

        var kind = Assert.Single(model.MetadataProps);
        Assert.Equal(("FunctionalBackprop.scaler", "standard"), (kind.Key, kind.Value));
        Assert.Contains(network.Scaler!.ToString(), model.DocString);
        Assert.Contains(network.Scaler.ToString(), model.Graph.DocString);
        Assert.All(model.Graph.Node, n => Assert.False(string.IsNullOrEmpty(n.DocString)));
    }

    [Fact]
    public void AFloat64FileScalesWithSubAndDivAlone()
    {
        var model = Proto.ModelProto.Parser.ParseFrom(Export(Scaled<double>("sigmoid", ScalerKind.MinMax)));
        Assert.Equal(new[] { "Sub", "Div", "Gemm", "Sigmoid", "Gemm", "Sigmoid", "Gemm", "Sigmoid" }, model.Graph.Node.Select(n => n.OpType));
        Assert.Equal("min-max", Assert.Single(model.MetadataProps).Value);
    }

    [Fact]
    public void ANetworkWithoutAScalerWritesNoScalerNodesAndNoMetadata()
    {
        var model = Proto.ModelProto.Parser.ParseFrom(Export(Network<float>(Activation.ReLU, seed: 1)));
        Assert.Empty(model.MetadataProps);
        Assert.DoesNotContain(model.Graph.Node, n => n.OpType is "Sub" or "Div" or "Cast");
    }

    // ----- round trips -----

    private static void SameScaledNetwork<T>(NeuralNetwork<T> expected, NeuralNetwork<T> actual)
        where T : IFloatingPointIeee754<T>
    {
        Assert.Equal(expected.Layers, actual.Layers);
        Assert.Equal(Bits(expected), Bits(actual));
        Assert.NotNull(actual.Scaler);
        Assert.Equal(expected.Scaler!.Kind, actual.Scaler!.Kind);
        Assert.Equal(expected.Scaler.Offsets.Select(BitConverter.DoubleToInt64Bits), actual.Scaler.Offsets.Select(BitConverter.DoubleToInt64Bits));
        Assert.Equal(expected.Scaler.Scales.Select(BitConverter.DoubleToInt64Bits), actual.Scaler.Scales.Select(BitConverter.DoubleToInt64Bits));
        var raw = RawInputs<T>(50, seed: 34);
        Assert.Equal(Bits(expected.Predict(raw)), Bits(actual.Predict(raw)));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ExportThenImportKeepsTheScalerAndEveryBitInFloat32(string activation, ScalerKind kind)
    {
        var network = Scaled<float>(activation, kind, seed: 4);
        SameScaledNetwork(network, OnnxModel.Load<float>(new MemoryStream(Export(network))));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ExportThenImportKeepsTheScalerAndEveryBitInFloat64(string activation, ScalerKind kind)
    {
        var network = Scaled<double>(activation, kind, seed: 3);
        var path = Path.Combine(Path.GetTempPath(), $"fbp-scaler-{Guid.NewGuid():N}.onnx");
        try
        {
            network.SaveOnnx(path);
            SameScaledNetwork(network, OnnxModel.Load<double>(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void EveryOpsetWrittenReadsTheScalerBack()
    {
        var single = Scaled<float>("leaky-relu", ScalerKind.Standard);
        var wide = Scaled<double>("step", ScalerKind.MinMax);
        for (var opset = 9; opset <= 21; opset++)
        {
            var options = new OnnxExportOptions { Opset = opset, IrVersion = 10 };
            SameScaledNetwork(single, OnnxModel.Load<float>(new MemoryStream(Export(single, options))));
            SameScaledNetwork(wide, OnnxModel.Load<double>(new MemoryStream(Export(wide, options))));
        }
    }

    [Fact]
    public void AFloat32FileLoadedAsDoubleKeepsItsScaler()
    {
        var network = Scaled<float>("tanh", ScalerKind.MinMax);
        var loaded = OnnxModel.Load<double>(new MemoryStream(Export(network)));
        Assert.Equal(network.Scaler!.Offsets, loaded.Scaler!.Offsets);
        Assert.Equal(network.Scaler.Scales, loaded.Scaler.Scales);
        Assert.Equal(network.Scaler.Kind, loaded.Scaler.Kind);
        Assert.Equal(Bits(network), Bits(loaded));
    }

    [Fact]
    public void TheFSharpCoresContentsRoundTripWithTheirScaler()
    {
        var network = Scaled<double>("sigmoid", ScalerKind.Standard);
        var contents = new Core.ModelContents<double>(network.CoreNetwork, FSharpOption<Core.Scaler>.Some(network.Scaler!.CoreScaler), FSharpOption<Core.Scaler>.None, FSharpOption<Core.TrainingState<double>>.None);
        using var stream = new MemoryStream();
        OnnxNetwork.Save(contents, stream);
        var bytes = stream.ToArray();
        var loaded = OnnxNetwork.LoadContents<double>(new MemoryStream(bytes));
        Assert.Equal(network.Scaler.CoreScaler, loaded.Scaler.Value);
        Assert.Equal(Bits(network), Bits(new NeuralNetwork<double>(loaded.Network)));
        Assert.True(FSharpOption<Core.TrainingState<double>>.get_IsNone(loaded.Training));

        // A network alone cannot hold the scaler: Load says so instead of dropping it.
        var e = Assert.Throws<NotSupportedException>(() => OnnxNetwork.Load<double>(new MemoryStream(bytes)));
        Assert.Contains("LoadContents", e.Message);
        Assert.Contains(network.Scaler.ToString(), e.Message);

        // Contents without a scaler load as before, through either method.
        using var plain = new MemoryStream();
        OnnxNetwork.Save(Core.ModelContents.ofNetwork(network.CoreNetwork), plain);
        Assert.True(FSharpOption<Core.Scaler>.get_IsNone(OnnxNetwork.LoadContents<double>(new MemoryStream(plain.ToArray())).Scaler));
        Assert.Equal(network.ParameterCount, OnnxNetwork.Load<double>(new MemoryStream(plain.ToArray())).ParameterCount);
    }

    [Fact]
    public void AScalerOfAnotherWidthThanTheNetworkIsRefusedOnSave()
    {
        var network = Network<double>(Activation.Tanh, seed: 1);
        var scaler = Core.ScalerModule.create(Core.ScalerKind.Standard, new[] { 0.0, 1.0 }, new[] { 1.0, 2.0 });
        var contents = new Core.ModelContents<double>(network.CoreNetwork, FSharpOption<Core.Scaler>.Some(scaler), FSharpOption<Core.Scaler>.None, FSharpOption<Core.TrainingState<double>>.None);
        var e = Assert.Throws<ArgumentException>(() => OnnxNetwork.Save(contents, new MemoryStream()));
        Assert.Contains("scaler of 2 features", e.Message);
        Assert.Contains("input, of width 6", e.Message);
    }

    // ----- what the reader refuses -----

    private static Proto.ModelProto Exported<T>(ScalerKind kind = ScalerKind.Standard)
        where T : IFloatingPointIeee754<T> =>
        Proto.ModelProto.Parser.ParseFrom(Export(Scaled<T>("relu", kind)));

    private static TException Refused<TException, T>(Proto.ModelProto model, params string[] fragments)
        where TException : Exception
        where T : IFloatingPointIeee754<T>
    {
        var bytes = model.ToByteArray();
        var e = Assert.Throws<TException>(() => OnnxModel.Load<T>(new MemoryStream(bytes)));
        foreach (var fragment in fragments)
        {
            Assert.Contains(fragment, e.Message);
        }

        return e;
    }

    private static Proto.TensorProto Initializer(Proto.ModelProto model, string name) => model.Graph.Initializer.Single(i => i.Name == name);

    private static double[] Doubles(Proto.TensorProto tensor) =>
        Enumerable.Range(0, tensor.RawData.Length / 8).Select(i => BinaryPrimitives.ReadDoubleLittleEndian(tensor.RawData.Span.Slice(i * 8, 8))).ToArray();

    private static void SetDoubles(Proto.TensorProto tensor, double[] values)
    {
        var bytes = new byte[values.Length * 8];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(i * 8), values[i]);
        }

        tensor.RawData = ByteString.CopyFrom(bytes);
        tensor.Dims.Clear();
        tensor.Dims.Add(values.Length);
    }

    /// <summary>
    /// The float32 form another exporter writes for (x − mean)/std: Sub and Div of FLOAT constants,
    /// without the Casts, so each step rounds to float32.
    /// </summary>
    private static Proto.ModelProto InFloat32Arithmetic()
    {
        var model = Exported<float>();
        var graph = model.Graph;
        graph.Node.Remove(graph.Node.Single(n => n.Name == "scaler.widen"));
        graph.Node.Remove(graph.Node.Single(n => n.Name == "scaler.narrow"));
        graph.Node.Single(n => n.Name == "scaler.sub").Input[0] = "x";
        graph.Node.Single(n => n.Name == "scaler.div").Output[0] = "scaler.a";
        foreach (var name in new[] { "scaler.offset", "scaler.scale" })
        {
            var tensor = Initializer(model, name);
            var values = Doubles(tensor);
            var bytes = new byte[values.Length * 4];
            for (var i = 0; i < values.Length; i++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), (float)values[i]);
            }

            tensor.DataType = (int)DataType.Float;
            tensor.RawData = ByteString.CopyFrom(bytes);
        }

        return model;
    }

    [Fact]
    public void AScalerComputedInFloat32ArithmeticIsRefusedForItCannotBeReadExactly()
    {
        var model = InFloat32Arithmetic();
        Refused<NotSupportedException, float>(model, "'scaler.sub' (Sub)", "float32", "float64", "Cast(x, DOUBLE)");

        // Why: computed that way, ONNX Runtime's scaled inputs differ from the scaler's in the last bits.
        var network = Scaled<float>("relu", ScalerKind.Standard);
        var raw = RawInputs<float>(1000, seed: 33);
        var inFloat32 = Bits(RunInOnnxRuntime(ScalerOnly(model, DataType.Float), raw, output: "scaler.a"));
        var exact = Bits(network.Scaler!.Transform(raw));
        var differing = inFloat32.Zip(exact).Count(pair => pair.First != pair.Second);
        output.WriteLine($"float32 arithmetic: {differing} of {exact.Length} scaled values differ from the scaler's");
        Assert.True(differing > 0, "float32 Sub and Div gave the scaler's values on every input; the refusal would not be needed");
    }

    [Fact]
    public void AScalerOfNoStatedKindIsRefusedNamingTheMetadata()
    {
        var model = Exported<double>();
        model.MetadataProps.Clear();
        Refused<NotSupportedException, double>(model, "'scaler.sub' (Sub)", "min-max or standard", "'FunctionalBackprop.scaler'");
    }

    [Fact]
    public void AnUnknownKindOrAKindNamedTwiceIsInvalid()
    {
        var model = Exported<double>();
        model.MetadataProps[0].Value = "z-score";
        Refused<InvalidDataException, double>(model, "'z-score'", "'min-max' or 'standard'");
        model.MetadataProps[0].Value = "standard";
        model.MetadataProps.Add(new Proto.StringStringEntryProto { Key = "FunctionalBackprop.scaler", Value = "min-max" });
        Refused<InvalidDataException, double>(model, "set 2 times");
    }

    [Fact]
    public void AKindWithoutScalerNodesIsInvalid()
    {
        var model = Proto.ModelProto.Parser.ParseFrom(Export(Network<double>(Activation.ReLU, seed: 1)));
        model.MetadataProps.Add(new Proto.StringStringEntryProto { Key = "FunctionalBackprop.scaler", Value = "standard" });
        Refused<InvalidDataException, double>(model, "names a standard scaler", "does not scale its input");
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-2.0)]
    public void AScaleThatIsNotPositiveIsRefused(double scale)
    {
        var model = Exported<double>();
        var tensor = Initializer(model, "scaler.scale");
        var scales = Doubles(tensor);
        scales[4] = scale;
        SetDoubles(tensor, scales);
        Refused<NotSupportedException, double>(model, "'scaler.div' (Div)", "feature 4", "positive");
    }

    [Fact]
    public void OffsetsThatDoNotBroadcastToTheInputAreInvalid()
    {
        var model = Exported<double>();
        SetDoubles(Initializer(model, "scaler.offset"), new double[7]);
        Refused<InvalidDataException, double>(model, "'scaler.sub' (Sub)", "[7]", "does not broadcast to [batch, 6]");
    }

    [Fact]
    public void OneOffsetAndOneScaleForEveryFeatureReadAsThePerFeatureScaler()
    {
        var model = Exported<double>();
        SetDoubles(Initializer(model, "scaler.offset"), new[] { 2.5 });
        SetDoubles(Initializer(model, "scaler.scale"), new[] { 4.0 });
        var loaded = OnnxModel.Load<double>(new MemoryStream(model.ToByteArray()));
        Assert.Equal(Enumerable.Repeat(2.5, 6), loaded.Scaler!.Offsets);
        Assert.Equal(Enumerable.Repeat(4.0, 6), loaded.Scaler.Scales);
    }

    [Fact]
    public void ADivBeforeTheSubIsRefused()
    {
        // x/scale − offset: not (x − offset)/scale, and not the same numbers.
        var model = Exported<double>();
        var graph = model.Graph;
        var (sub, div) = (graph.Node[0], graph.Node[1]);
        (div.Input[0], div.Output[0]) = ("x", "divided");
        (sub.Input[0], sub.Output[0]) = ("divided", "scaler.a");
        graph.Node.RemoveAt(1);
        graph.Node.Insert(0, div);
        Refused<NotSupportedException, double>(model, "'scaler.div' (Div)", "divides the input x by a constant", "right after the Sub");
    }

    [Fact]
    public void ASubWithoutItsDivIsRefused()
    {
        var model = Exported<double>();
        model.Graph.Node.RemoveAt(1);
        model.Graph.Node[0].Output[0] = "scaler.a";
        Refused<NotSupportedException, double>(model, "(Gemm)", "x − offset without the Div");
    }

    [Fact]
    public void AScalerAfterTheFirstLayerIsRefused()
    {
        // The Sub and Div moved behind layer 1's activation: they would scale its outputs, not x.
        var model = Exported<double>();
        var graph = model.Graph;
        var (sub, div) = (graph.Node[0], graph.Node[1]);
        graph.Node.RemoveAt(0);
        graph.Node.RemoveAt(0);
        graph.Node[0].Input[0] = "x";
        sub.Input[0] = graph.Node[1].Output[0];
        graph.Node[2].Input[0] = div.Output[0];
        graph.Node.Insert(2, sub);
        graph.Node.Insert(3, div);
        Refused<NotSupportedException, double>(model, "'scaler.sub' (Sub)", "the output of layer 1", "before the first layer");
    }

    [Fact]
    public void ACastToDoubleThatStartsNoScalerIsRefused()
    {
        var model = Exported<float>();
        var graph = model.Graph;
        graph.Node.Remove(graph.Node.Single(n => n.Name == "scaler.sub"));
        graph.Node.Remove(graph.Node.Single(n => n.Name == "scaler.div"));
        graph.Node.Single(n => n.Name == "scaler.narrow").Input[0] = "scaler.x";
        Refused<NotSupportedException, float>(model, "'scaler.narrow' (Cast)", "the input x cast to DOUBLE outside an input scaler");
    }

    [Fact]
    public void TheScaledInputReadInDoubleWithoutItsCastBackIsRefused()
    {
        var model = Exported<float>();
        var graph = model.Graph;
        graph.Node.Remove(graph.Node.Single(n => n.Name == "scaler.narrow"));
        graph.Node.Single(n => n.Name == "scaler.div").Output[0] = "scaler.a";
        Refused<NotSupportedException, float>(model, "(Gemm)", "without the Cast to FLOAT");
    }
}
