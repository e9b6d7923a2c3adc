using System;
using System.IO;
using System.Linq;
using FunctionalBackprop.Onnx;
using Google.Protobuf;
using Xunit;
using static FunctionalBackprop.Tests.Onnx.GraphBuilder;
using DataType = global::Onnx.TensorProto.Types.DataType;
using Proto = global::Onnx;

namespace FunctionalBackprop.Tests.Onnx;

/// <summary>
/// What the reader refuses, and how: NotSupportedException for a valid graph that is not a dense
/// network it models, InvalidDataException for a file that is not valid ONNX; each message names
/// the node and its operator (or the part of the model) and says what is read instead.
/// </summary>
public class OnnxRefusalTests
{
    internal static TException Refused<TException>(GraphBuilder graph, params string[] fragments)
        where TException : Exception
    {
        var e = Assert.Throws<TException>(() => OnnxModel.Load<double>(graph.Stream()));
        foreach (var fragment in fragments)
        {
            Assert.Contains(fragment, e.Message);
        }

        return e;
    }

    // ----- valid graphs that are not dense networks: NotSupportedException -----

    [Fact]
    public void AnOperatorNotReadIsRefusedByNameAndOperator()
    {
        var g = OneLayer();
        g.Graph.Node.Insert(0, new Proto.NodeProto { OpType = "ConvTranspose", Name = "deconv1", Input = { "image", "kernel" }, Output = { "x" } });
        var e = Refused<NotSupportedException>(g, "'deconv1'", "(ConvTranspose)", "Gemm", "Conv");
        Assert.StartsWith("node 1 'deconv1' (ConvTranspose)", e.Message);
    }

    [Fact]
    public void AnOperatorOfAnotherDomainIsRefused()
    {
        var g = OneLayer();
        g.Graph.Node[1].Domain = "com.microsoft";
        Refused<NotSupportedException>(g, "node 2", "'com.microsoft'.Sigmoid", "another domain");
    }

    [Fact]
    public void ASecondInputIsRefused() =>
        Refused<NotSupportedException>(OneLayer().Input("h", null, 3), "2 inputs", "'x'", "'h'");

    [Fact]
    public void ASecondOutputIsRefused() =>
        Refused<NotSupportedException>(OneLayer().Output("z", null, 2), "2 outputs");

    [Fact]
    public void ABranchThatAddsTwoDataValuesIsRefused()
    {
        var g = OneLayer(activation: "Relu");
        g.Graph.Node[1].Output[0] = "a";
        g.Node("Add", new[] { "a", "z" }, new[] { "y" });
        Refused<NotSupportedException>(g, "node 3 'add3' (Add)", "skip connection");
    }

    [Fact]
    public void AnUnmodelledActivationIsRefused() =>
        Refused<NotSupportedException>(OneLayer("LogSoftmax"), "node 2 'logsoftmax2' (LogSoftmax)", "Relu, Sigmoid, Tanh");

    [Fact]
    public void AGemmThatScalesIsRefused()
    {
        var g = OneLayer();
        g.Graph.Node[0].Attribute.Add(Float("alpha", 2f));
        Refused<NotSupportedException>(g, "(Gemm)", "alpha = 2");
    }

    [Fact]
    public void ASoftmaxOverTheBatchIsRefused()
    {
        var g = OneLayer("Softmax");
        g.Graph.Node[1].Attribute.Add(Int("axis", 0));
        Refused<NotSupportedException>(g, "(Softmax)", "axis 0");
    }

    [Fact]
    public void AReshapeThatRegroupsExamplesIsRefused()
    {
        var g = OneLayer(activation: null);
        g.Graph.Initializer.Add(Int64s("shape", -1, 3));
        g.Graph.Node.Insert(0, new Proto.NodeProto { OpType = "Reshape", Name = "regroup", Input = { "x0", "shape" }, Output = { "x" } });
        g.Graph.Input[0] = Value("x0", DataType.Float, null, 6);
        Refused<NotSupportedException>(g, "'regroup' (Reshape)", "examples of 6 values to rows of 3");
    }

    [Fact]
    public void ALeakySlopeOutsideZeroToOneIsRefused()
    {
        var g = OneLayer("LeakyRelu");
        g.Graph.Node[1].Attribute.Add(Float("alpha", 1.5f));
        Refused<NotSupportedException>(g, "(LeakyRelu)", "α = 1.5", "0 < α < 1");
    }

    [Theory]
    [InlineData(8)]
    [InlineData(22)]
    public void OpsetsOutside9To21AreRefused(int opset)
    {
        var g = OneLayer();
        g.Model.OpsetImport[0].Version = opset;
        Refused<NotSupportedException>(g, $"opset {opset}", "opsets 9 to 21");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(15)]
    public void IrVersionsOutside3To14AreRefused(long version)
    {
        var g = OneLayer();
        g.Model.IrVersion = version;
        Refused<NotSupportedException>(g, $"IR version {version}", "IR versions 3 to 14");
    }

    [Fact]
    public void AnElementTypeOtherThanFloatOrDoubleIsRefused()
    {
        var g = new GraphBuilder(type: DataType.Float16).Input("x", null, 3).Output("y", null, 2);
        Refused<NotSupportedException>(g, "FLOAT16", "FLOAT (float32) and DOUBLE (float64)");
    }

    [Fact]
    public void ExternalDataIsRefused()
    {
        var g = OneLayer();
        var w = g.Graph.Initializer[0];
        w.RawData = ByteString.Empty;
        w.DataLocation = Proto.TensorProto.Types.DataLocation.External;
        w.ExternalData.Add(new Proto.StringStringEntryProto { Key = "location", Value = "weights.bin" });
        Refused<NotSupportedException>(g, "initializer 'W'", "external file");
    }

    // ----- invalid files: InvalidDataException -----

    [Fact]
    public void AMissingInitializerIsNamed()
    {
        var g = OneLayer();
        g.Graph.Initializer.RemoveAt(0);
        Refused<InvalidDataException>(g, "node 1 'gemm1' (Gemm)", "reads 'W'", "missing initializer");
    }

    [Fact]
    public void ACycleIsRefused()
    {
        var g = OneLayer(activation: "Relu");
        g.Graph.Node[0].Input[0] = "y";
        Refused<InvalidDataException>(g, "node 1 'gemm1' (Gemm)", "reads 'y' before node 2 produces it", "cycle");
    }

    [Fact]
    public void ANodeReadingItsOwnOutputIsACycle()
    {
        var g = OneLayer(activation: "Relu");
        g.Graph.Node[1].Input[0] = "y";
        Refused<InvalidDataException>(g, "node 2 'relu2' (Relu)", "before node 2 produces it");
    }

    [Fact]
    public void AValueDefinedTwiceIsRefused()
    {
        var g = OneLayer(activation: "Relu");
        g.Graph.Node[1].Output[0] = "z";
        Refused<InvalidDataException>(g, "node 2 'relu2' (Relu)", "defines 'z', which is already defined");
    }

    [Fact]
    public void WeightsOfAnotherElementTypeAreRefused()
    {
        var g = OneLayer();
        g.Graph.Initializer[0].DataType = (int)DataType.Double;
        Refused<InvalidDataException>(g, "initializer 'W'", "DOUBLE (float64) values where the graph computes in FLOAT (float32)");
    }

    [Fact]
    public void IntegerWeightsAreRefused()
    {
        var g = OneLayer();
        g.Graph.Initializer[0] = Int64s("W", 1, 2, 3, 4, 5, 6);
        g.Graph.Initializer[0].Dims.Clear();
        g.Graph.Initializer[0].Dims.Add(new long[] { 2, 3 });
        Refused<InvalidDataException>(g, "INT64");
    }

    [Fact]
    public void WeightsThatDoNotFitTheInputAreRefused()
    {
        var g = OneLayer();
        g.Graph.Input[0] = Value("x", DataType.Float, null, 4);
        Refused<InvalidDataException>(g, "(Gemm)", "[batch, 4]", "inner dimension is 3");
    }

    [Fact]
    public void ATensorClaimingABillionElementsIsRefusedBeforeAllocating()
    {
        var g = OneLayer();
        var w = g.Graph.Initializer[0];
        w.Dims.Clear();
        w.Dims.Add(new long[] { 1_000_000_000, 1 });
        g.Graph.Input[0] = Value("x", DataType.Float, null, 1);
        var bytes = g.Bytes();
        var before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => OnnxModel.Load<float>(new MemoryStream(bytes)));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains("1,000,000,000 values", e.Message);
        Assert.Contains("24 bytes", e.Message);
        Assert.True(allocated < 1 << 20, $"refusing a {bytes.Length}-byte file allocated {allocated:N0} bytes");
    }

    [Fact]
    public void DimsWhoseProductOverflowsAreRefused()
    {
        var g = OneLayer();
        g.Graph.Initializer[0].Dims.Clear();
        g.Graph.Initializer[0].Dims.Add(new long[] { 1L << 40, 3 });
        Refused<InvalidDataException>(g, "more than 2³¹ elements");
    }

    [Fact]
    public void NonFiniteWeightsAreRefused()
    {
        var g = OneLayer();
        g.Graph.Initializer[0] = g.Reals("W", new long[] { 2, 3 }, new[] { 1.0, double.NaN, 0, 0, 0, 0 });
        Refused<InvalidDataException>(g, "initializer 'W'", "NaN at index 1", "finite");
    }

    [Fact]
    public void AFloat64FileIsNotNarrowedToFloat32()
    {
        var e = Assert.Throws<InvalidDataException>(() => OnnxModel.Load<float>(OneLayer(type: DataType.Double).Stream()));
        Assert.Contains("float64", e.Message);
        Assert.Contains("load it as double", e.Message);
    }

    [Fact]
    public void OnlyFloatAndDoubleNetworksAreMade() =>
        Assert.Contains("double or float", Assert.Throws<NotSupportedException>(() => OnnxModel.Load<Half>(OneLayer().Stream())).Message);

    [Fact]
    public void BytesThatAreNotAModelAreRefused()
    {
        Assert.Contains("no IR version", Assert.Throws<InvalidDataException>(() => OnnxModel.Load<double>(new MemoryStream())).Message);
        Assert.Contains("not an ONNX model", Assert.Throws<InvalidDataException>(() => OnnxModel.Load<double>(new MemoryStream(new byte[] { 0xFF, 0xFF, 0xFF }))).Message);
        var text = System.Text.Encoding.ASCII.GetBytes("FBNN this is a FunctionalBackprop model, not ONNX");
        Assert.Throws<InvalidDataException>(() => OnnxModel.Load<double>(new MemoryStream(text)));
    }

    [Fact]
    public void AnAttributeTheOperatorDoesNotDefineIsRefused()
    {
        var g = OneLayer();
        g.Graph.Node[1].Attribute.Add(Int("axis", 1));
        Refused<InvalidDataException>(g, "node 2 'sigmoid2' (Sigmoid)", "attribute 'axis'");
    }

    [Fact]
    public void NamesFromTheFileAreQuotedSafely()
    {
        var g = OneLayer();
        g.Graph.Node[1].OpType = "Evil";
        g.Graph.Node[1].Name = "line\nbreak" + new string('x', 200);
        var e = Refused<NotSupportedException>(g, "'line\\u000Abreak");
        Assert.DoesNotContain("\n", e.Message);
        Assert.True(e.Message.Length < 1000);
    }

    [Fact]
    public void AModelWithoutAGraphIsRefused()
    {
        var model = OneLayer().Model;
        model.Graph = null;
        Assert.Contains("no graph", Assert.Throws<InvalidDataException>(() => OnnxModel.Load<double>(new MemoryStream(model.ToByteArray()))).Message);
    }
}
