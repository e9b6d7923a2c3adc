using System.Linq;
using System.Numerics;
using FunctionalBackprop.Onnx;
using Xunit;
using static FunctionalBackprop.Tests.Onnx.GraphBuilder;
using Core = FunctionalBackprop.Core;
using DataType = global::Onnx.TensorProto.Types.DataType;

namespace FunctionalBackprop.Tests.Onnx;

/// <summary>
/// The forms in which exporters write a dense layer all read as the same layer, bit for bit: Gemm
/// with either transB, MatMul + Add in either order, typed fields or raw_data, Constant nodes,
/// Identity, Dropout, Flatten, Reshape, a broadcast bias, and initializers listed as inputs.
/// </summary>
public class OnnxImportFormTests
{
    /// <summary>The 3 → 2 layer the builder's W and B make, with the activation.</summary>
    private static NeuralNetwork<T> Expected<T>(Core.Activation activation)
        where T : IFloatingPointIeee754<T>
    {
        var w = Core.Matrix.ofColumnMajor(2, 3, WTransposed.Select(v => T.CreateTruncating(v)).ToArray());
        var b = Core.Matrix.ofColumnMajor(2, 1, B.Select(v => T.CreateTruncating(v)).ToArray());
        return new NeuralNetwork<T>(Core.Network.ofDense(new[] { Core.Dense.create(w, b, activation) }));
    }

    private static void Same<T>(NeuralNetwork<T> expected, GraphBuilder graph)
        where T : IFloatingPointIeee754<T>
    {
        var loaded = OnnxModel.Load<T>(graph.Stream());
        Assert.Equal(expected.Layers, loaded.Layers);
        Assert.Equal(OnnxTesting.Bits(expected), OnnxTesting.Bits(loaded));
    }

    [Fact]
    public void AnActivationAfterALayersActivationIsAnActivationLayer()
    {
        var g = OneLayer("Relu");
        g.Graph.Node[1].Output[0] = "a";
        g.Node("Sigmoid", new[] { "a" }, new[] { "y" });
        var dense = Expected<float>(Core.Activation.ReLU).CoreNetwork.Layers.Head;
        var expected = new NeuralNetwork<float>(Core.Network.create(Core.Shape.NewVector(3), new[] { dense, Core.Layer<float>.NewActivation(Core.Activation.Sigmoid) }));
        Same(expected, g);
    }

    [Fact]
    public void AnActivationOnTheInputIsAnActivationLayer()
    {
        var g = OneLayer(activation: null);
        g.Graph.Node.Insert(0, new global::Onnx.NodeProto { OpType = "Relu", Name = "first", Input = { "x0" }, Output = { "x" } });
        g.Graph.Input[0].Name = "x0";
        var dense = Expected<float>(Core.Activation.Identity).CoreNetwork.Layers.Head;
        var expected = new NeuralNetwork<float>(Core.Network.create(Core.Shape.NewVector(3), new[] { Core.Layer<float>.NewActivation(Core.Activation.ReLU), dense }));
        Same(expected, g);
    }

    [Fact]
    public void GemmWithTransposedWeights() => Same(Expected<float>(Core.Activation.Sigmoid), OneLayer());

    [Fact]
    public void GemmWithWeightsStoredInputsFirst()
    {
        var g = new GraphBuilder().Input("x", null, 3).Output("y", null, 2)
            .Initializer("W", new long[] { 3, 2 }, WTransposed).Initializer("B", new long[] { 2 }, B)
            .Node("Gemm", new[] { "x", "W", "B" }, new[] { "y" }, Int("transB", 0), Float("alpha", 1), Float("beta", 1), Int("transA", 0));
        Same(Expected<float>(Core.Activation.Identity), g);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MatMulThenAddInEitherOrder(bool biasFirst)
    {
        var g = new GraphBuilder(type: DataType.Double).Input("x", null, 3).Output("y", null, 2)
            .Initializer("W", new long[] { 3, 2 }, WTransposed).Initializer("B", new long[] { 2 }, B)
            .Node("MatMul", new[] { "x", "W" }, new[] { "z0" })
            .Node("Add", biasFirst ? new[] { "B", "z0" } : new[] { "z0", "B" }, new[] { "z" })
            .Node("Tanh", new[] { "z" }, new[] { "y" });
        Same(Expected<double>(Core.Activation.Tanh), g);
    }

    [Fact]
    public void TypedFieldsReadAsRawDataDoes()
    {
        var g = new GraphBuilder().Input("x", null, 3).Output("y", null, 2)
            .Initializer("W", new long[] { 2, 3 }, W, raw: false).Initializer("B", new long[] { 2 }, B, raw: false)
            .Node("Gemm", new[] { "x", "W", "B" }, new[] { "z" }, Int("transB", 1))
            .Node("Relu", new[] { "z" }, new[] { "y" });
        Same(Expected<float>(Core.Activation.ReLU), g);
    }

    [Fact]
    public void ConstantNodesIdentityAndInferenceDropout()
    {
        var g = new GraphBuilder(opset: 13).Input("x", null, 3).Output("y", null, 2);
        g.Node("Constant", System.Array.Empty<string>(), new[] { "W" }, Tensor("value", g.Reals("W", new long[] { 2, 3 }, W)))
            .Node("Constant", System.Array.Empty<string>(), new[] { "B" }, Floats("value_floats", B.Select(v => (float)v).ToArray()))
            .Node("Identity", new[] { "W" }, new[] { "W2" })
            .Node("Dropout", new[] { "x" }, new[] { "x2", "mask" })
            .Node("Gemm", new[] { "x2", "W2", "B" }, new[] { "z" }, Int("transB", 1))
            .Node("Identity", new[] { "z" }, new[] { "z2" })
            .Node("Softmax", new[] { "z2" }, new[] { "y" }, Int("axis", 1));
        Same(Expected<float>(Core.Activation.Softmax), g);
    }

    [Fact]
    public void FlattenAndReshapeKeepOneExamplePerRow()
    {
        var g = new GraphBuilder().Input("x", null, 1, 3, 1).Output("y", null, 2)
            .Initializer("W", new long[] { 2, 3 }, W).Initializer("B", new long[] { 1, 2 }, B);
        g.Graph.Initializer.Add(Int64s("shape", 0, -1));
        g.Node("Flatten", new[] { "x" }, new[] { "flat" }, Int("axis", 1))
            .Node("Reshape", new[] { "flat", "shape" }, new[] { "rows" })
            .Node("Gemm", new[] { "rows", "W", "B" }, new[] { "z" }, Int("transB", 1))
            .Node("LeakyRelu", new[] { "z" }, new[] { "y" }, Float("alpha", 0.2f));
        Same(Expected<float>(Core.Activation.NewLeakyReLU(0.2)), g);
    }

    [Fact]
    public void AScalarBiasIsRepeatedForEveryUnit()
    {
        var g = new GraphBuilder().Input("x", null, 3).Output("y", null, 2)
            .Initializer("W", new long[] { 2, 3 }, W).Initializer("B", new long[] { 1 }, new[] { 0.5 })
            .Node("Gemm", new[] { "x", "W", "B" }, new[] { "y" }, Int("transB", 1));
        var loaded = OnnxModel.Load<float>(g.Stream());
        Assert.Equal(new[] { 0.5f, 0.5f }, loaded.GetBiases(0));
    }

    [Fact]
    public void AGemmWithoutBiasHasZeroBiases()
    {
        var g = new GraphBuilder(opset: 11).Input("x", null, 3).Output("y", null, 2)
            .Initializer("W", new long[] { 2, 3 }, W)
            .Node("Gemm", new[] { "x", "W" }, new[] { "y" }, Int("transB", 1));
        Assert.Equal(new[] { 0f, 0f }, OnnxModel.Load<float>(g.Stream()).GetBiases(0));
    }

    [Fact]
    public void InitializersListedAsInputsInIrVersion3()
    {
        var g = OneLayer();
        g.Model.IrVersion = 3;
        g.Graph.Input.Add(Value("W", DataType.Float, 2, 3));
        g.Graph.Input.Add(Value("B", DataType.Float, 2));
        Same(Expected<float>(Core.Activation.Sigmoid), g);
    }

    [Fact]
    public void TheStepAndTheLeakyReluFormsOfTheExporterAreRecognisedInFloat32Too()
    {
        var g = new GraphBuilder().Input("x", null, 3).Output("y", null, 2)
            .Initializer("W", new long[] { 2, 3 }, W).Initializer("B", new long[] { 2 }, B).Initializer("alpha", System.Array.Empty<long>(), new[] { 0.3 })
            .Node("Gemm", new[] { "x", "W", "B" }, new[] { "z" }, Int("transB", 1))
            .Node("Mul", new[] { "alpha", "z" }, new[] { "scaled" })
            .Node("Max", new[] { "scaled", "z" }, new[] { "y" });
        Same(Expected<float>(Core.Activation.NewLeakyReLU(0.3)), g);
    }

    [Fact]
    public void ALeakyReluSlopeIsTheShortestDecimalOfItsFloat32()
    {
        var g = OneLayer("LeakyRelu", DataType.Double);
        g.Graph.Node[1].Attribute.Add(Float("alpha", 0.01f));
        var loaded = OnnxModel.Load<double>(g.Stream());
        Assert.Equal(0.01, loaded.Layers[0].Activation.Slope);
    }

    [Fact]
    public void ANoOpCastAndAnUnusedConstantChangeNothing()
    {
        var g = OneLayer();
        g.Node("Constant", System.Array.Empty<string>(), new[] { "unused" }, Float("value_float", 3f));
        g.Graph.Node.Insert(0, new global::Onnx.NodeProto { OpType = "Cast", Name = "cast", Input = { "x0" }, Output = { "x" }, Attribute = { Int("to", (int)DataType.Float) } });
        g.Graph.Input[0].Name = "x0";
        Same(Expected<float>(Core.Activation.Sigmoid), g);
    }
}
