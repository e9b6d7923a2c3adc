using System;
using System.IO;
using System.Linq;
using Microsoft.FSharp.Core;
using Xunit;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop.Tests.Facade;

/// <summary>
/// Issue 23, point 3: set-ups that make no sense are refused where they are made, each naming the
/// value and the fix: softmax over one unit at Build, cross-entropy targets that are not
/// probabilities at Fit and Evaluate, and EvaluateClassifier on a network that cannot classify.
/// </summary>
public class RefusalTests
{
    private static readonly double[][] Inputs = Enumerable.Range(0, 6).Select(j => new[] { Math.Sin(j), Math.Cos(j) }).ToArray();

    private static NeuralNetwork<double> ThreeClasses() => NeuralNetwork.Create(2).Dense(4, Activation.Tanh).Dense(3, Activation.Softmax).Build(seed: 1);

    [Fact]
    public void BuildRefusesSoftmaxOverOneUnitNamingTheLayerAndTheFix()
    {
        var e = Assert.Throws<ArgumentException>(() => NeuralNetwork.Create(10).Dense(8, Activation.ReLU).Dense(1, Activation.Softmax).Build(seed: 1));
        Assert.Contains("Layer 2", e.Message);
        Assert.Contains("softmax over 1 unit", e.Message);
        Assert.Contains("constant 1", e.Message);
        Assert.Contains(".Dense(1, Activation.Sigmoid)", e.Message);
        Assert.Contains(".Dense(1) for a number", e.Message);

        var layer = Assert.Throws<ArgumentException>(() => NeuralNetwork.Create(10).Dense(1).Activation(Activation.Softmax).Build(seed: 1));
        Assert.Contains("Layer 2", layer.Message);
        Assert.NotNull(NeuralNetwork.Create(10).Dense(2, Activation.Softmax).Build(seed: 1));
    }

    [Fact]
    public void CrossEntropyRefusesTargetsOutsideZeroToOneAtFitAndEvaluateNamingTheValue()
    {
        var targets = Inputs.Select((_, j) => j == 2 ? new[] { 151.0, 0, 0 } : new[] { 1.0, 0, 0 }).ToArray();
        var fit = Assert.Throws<ArgumentException>(() => ThreeClasses().Fit(Inputs, targets, new FitOptions { Epochs = 1 }));
        Assert.Equal("targets", fit.ParamName);
        Assert.Contains("targets[2][0] is 151", fit.Message);
        Assert.Contains("within [0, 1]", fit.Message);
        Assert.Contains(".Dense(units) with no activation", fit.Message);
        var evaluate = Assert.Throws<ArgumentException>(() => ThreeClasses().Evaluate(Inputs, targets));
        Assert.Contains("targets[2][0] is 151", evaluate.Message);
    }

    [Fact]
    public void CrossEntropyRefusesAnExampleWhoseTargetsDoNotSumToOneNamingIt()
    {
        var targets = Inputs.Select((_, j) => j == 4 ? new[] { 0.5, 0.25, 0.125 } : new[] { 0.0, 1.0, 0.0 }).ToArray();
        var fit = Assert.Throws<ArgumentException>(() => ThreeClasses().Fit(Inputs, targets, new FitOptions { Epochs = 1 }));
        Assert.Equal("targets", fit.ParamName);
        Assert.Contains("targets[4] sums to 0.875", fit.Message);
        Assert.Contains("probability distribution", fit.Message);

        var data = Dataset<double>.FromArrays(Inputs, targets);
        var evaluate = Assert.Throws<ArgumentException>(() => ThreeClasses().Evaluate(data));
        Assert.Equal("data", evaluate.ParamName);
        Assert.Contains("data.GetTarget(4) sums to 0.875", evaluate.Message);

        var soft = Inputs.Select(_ => new[] { 0.7, 0.2, 0.1 }).ToArray();
        Assert.True(double.IsFinite(ThreeClasses().Evaluate(Inputs, soft).Loss));
    }

    [Fact]
    public void EvaluateClassifierRefusesANetworkThatCannotClassifyAndSaysWhy()
    {
        // A softmax over one unit, as an older file or the F# core can still hold one.
        var core = Core.Network.init<double>(1UL, Core.Shape.NewVector(2), new[] { Core.LayerSpec.NewDense(1, Core.Activation.Softmax, FSharpOption<Core.Initializer>.None) });
        using var file = new MemoryStream();
        Core.ModelFile.write(file, Core.ModelContents.ofNetwork(core));
        file.Position = 0;
        var constant = NeuralNetwork<double>.Load(file);
        Assert.False(constant.IsClassifier);
        var e = Assert.Throws<InvalidOperationException>(() => constant.EvaluateClassifier(Inputs, new[] { 0, 1, 0, 1, 0, 1 }));
        Assert.Contains("constant 1", e.Message);
        Assert.Contains(".Dense(1, Activation.Sigmoid)", e.Message);

        var regression = NeuralNetwork.Create(2).Dense(1).Build(seed: 1);
        var identity = Assert.Throws<InvalidOperationException>(() => regression.EvaluateClassifier(Inputs, new[] { 0, 1, 0, 1, 0, 1 }));
        Assert.Contains("not class scores", identity.Message);
        Assert.Contains("R², RMSE and MAE", identity.Message);
    }
}
