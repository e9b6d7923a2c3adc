using System;
using Microsoft.FSharp.Core;
using FunctionalBackprop.Core;
using Xunit;

namespace FunctionalBackprop.Tests.CoreApi;

// The facade's types of the same names live in an enclosing namespace; these are the core's.
using Activation = FunctionalBackprop.Core.Activation;
using Initializer = FunctionalBackprop.Core.Initializer;
using Loss = FunctionalBackprop.Core.Loss;

/// <summary>Bad input raises an ArgumentException that names the layer and both shapes, or the bad value.</summary>
public class BadInputTests
{
    private static readonly Network<double> TwoLayers = Network.init<double>(1UL, Shape.NewVector(4), new[]
    {
        LayerSpec.NewDense(5, Activation.Sigmoid, FSharpOption<Initializer>.Some(Initializer.XavierNormal)),
        LayerSpec.NewDense(3, Activation.Softmax, FSharpOption<Initializer>.Some(Initializer.XavierNormal)),
    });

    private static Matrix<double> Ones(int rows, int cols) => Matrix.init(rows, cols, Microsoft.FSharp.Core.FuncConvert.FromFunc<int, int, double>((i, j) => 1.0));

    private static Matrix<double> OneHot(int rows, int cols) =>
        Matrix.init(rows, cols, Microsoft.FSharp.Core.FuncConvert.FromFunc<int, int, double>((i, j) => i == j % rows ? 1.0 : 0.0));

    [Fact]
    public void BatchWhoseHeightIsNotTheFanIn()
    {
        var e = Assert.Throws<ArgumentException>(() => Backprop.gradient(Mode.Inference, Loss.CrossEntropy, TwoLayers, Ones(5, 2), OneHot(3, 2)));
        Assert.Contains("Layer 1", e.Message);
        Assert.Contains("4 rows", e.Message);
        Assert.Contains("5×2", e.Message);
    }

    [Fact]
    public void TargetsWhoseHeightIsNotTheOutputWidth()
    {
        var e = Assert.Throws<ArgumentException>(() => Backprop.gradient(Mode.Inference, Loss.CrossEntropy, TwoLayers, Ones(4, 2), OneHot(2, 2)));
        Assert.Contains("Layer 2 (the output layer) has 3 units", e.Message);
        Assert.Contains("2×2", e.Message);
    }

    [Fact]
    public void DifferentNumbersOfExamplesAndTargets()
    {
        var e = Assert.Throws<ArgumentException>(() => Backprop.gradient(Mode.Inference, Loss.CrossEntropy, TwoLayers, Ones(4, 3), OneHot(3, 2)));
        Assert.Contains("3 examples", e.Message);
        Assert.Contains("hold 2", e.Message);
    }

    [Theory]
    [InlineData(double.NaN, "NaN")]
    [InlineData(double.PositiveInfinity, "Infinity")]
    [InlineData(double.NegativeInfinity, "-Infinity")]
    public void InputsThatAreNotFinite(double bad, string shown)
    {
        var values = new double[8];
        values[6] = bad; // row 2 of example 1
        var x = Matrix.ofColumnMajor(4, 2, values);
        var e = Assert.Throws<ArgumentException>(() => { Forward.run(TwoLayers, x); });
        Assert.Contains("row 2 of example (column) 1", e.Message);
        Assert.Contains(shown, e.Message);
    }

    [Fact]
    public void EmptyNetwork()
    {
        var e = Assert.Throws<ArgumentException>(() => Network.ofDense(Array.Empty<Dense<double>>()));
        Assert.Contains("at least one layer", e.Message);
    }

    [Fact]
    public void ZeroWidthLayer()
    {
        var e = Assert.Throws<ArgumentException>(() => Network.init<double>(1UL, Shape.NewVector(4), new[]
        {
            LayerSpec.NewDense(5, Activation.Sigmoid, FSharpOption<Initializer>.Some(Initializer.XavierNormal)),
            LayerSpec.NewDense(0, Activation.Sigmoid, FSharpOption<Initializer>.Some(Initializer.XavierNormal)),
        }));
        Assert.Contains("Layer 2: A dense layer needs at least one unit, got 0.", e.Message);
    }

    [Fact]
    public void LayersWhoseWidthsDoNotChain()
    {
        var first = Dense.create(Matrix.zeros<double>(5, 4), Matrix.zeros<double>(5, 1), Activation.Sigmoid);
        var wrong = Dense.create(Matrix.zeros<double>(2, 7), Matrix.zeros<double>(2, 1), Activation.Sigmoid);
        var e = Assert.Throws<ArgumentException>(() => Network.ofDense(new[] { first, wrong }));
        Assert.Contains("Layer 2 (dense 7→2 sigmoid) does not fit its input, the output of layer 1 of shape 5: its weight is 2×7, but on that input it must be 2×5.", e.Message);
    }

    [Fact]
    public void BiasesOfTheWrongShape()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            Dense.create(Matrix.zeros<double>(3, 2), Matrix.zeros<double>(2, 1), Activation.Tanh));
        Assert.Contains("3×2", e.Message);
        Assert.Contains("must be 3×1", e.Message);
        Assert.Contains("got 2×1", e.Message);
    }

    [Fact]
    public void NonFiniteWeights()
    {
        var w = Matrix.ofColumnMajor(1, 2, new[] { 0.5, double.NaN });
        var e = Assert.Throws<ArgumentException>(() => Dense.create(w, Matrix.zeros<double>(1, 1), Activation.Tanh));
        Assert.Contains("entry (0, 1) is NaN", e.Message);
    }
}
