using System;
using System.Linq;
using Xunit;

namespace FunctionalBackprop.Tests.Facade;

/// <summary>
/// Errors speak the caller's terms: their parameter names, their 0-based indices as C# indexes
/// (inputs[3][5], inputs[3, 5], input[5]), never the core's "row 5 of example (column) 3" or
/// parameter 'x'.
/// </summary>
public class ErrorMessageTests
{
    private static NeuralNetwork<double> Network() => NeuralNetwork.Create(3).Dense(2, Activation.Softmax).Build(seed: 1);

    [Fact]
    public void PredictNamesTheBadValueAsTheCallerIndexesIt()
    {
        var one = Assert.Throws<ArgumentException>(() => Network().Predict(new[] { 1.0, double.NaN, 3.0 }));
        Assert.Equal("input", one.ParamName);
        Assert.StartsWith("input[1] is NaN", one.Message);
        var rows = Assert.Throws<ArgumentException>(() => Network().Predict(new[,] { { 1.0, 2.0, 3.0 }, { 1.0, 2.0, double.PositiveInfinity } }));
        Assert.Equal("inputs", rows.ParamName);
        Assert.StartsWith("inputs[1, 2] is ", rows.Message);
        var jagged = Assert.Throws<ArgumentException>(() => Network().Classify(new[] { new[] { 1.0, 2.0, 3.0 }, new[] { double.NaN, 2.0, 3.0 } }));
        Assert.StartsWith("inputs[1][0] is NaN", jagged.Message);
        Assert.DoesNotContain("column", jagged.Message);
    }

    [Fact]
    public void AWidthThatDoesNotFitIsNamedAsTheCallerPassedIt()
    {
        var span = Assert.Throws<ArgumentException>(() => Network().Predict(new[] { 1.0, 2.0 }));
        Assert.Equal("input", span.ParamName);
        Assert.Contains("but input has 2", span.Message);
        var data = Dataset<double>.FromArrays(new[] { new[] { 1.0, 2.0, 3.0 } }, new[] { new[] { 1.0, 0.0, 0.0 } });
        var targets = Assert.Throws<ArgumentException>(() => Network().Fit(data));
        Assert.Equal("data", targets.ParamName);
        Assert.Contains("has 2 units, but data.GetTarget(0) has 3", targets.Message);
    }

    [Fact]
    public void FitNamesTheLabelOrTargetThatDoesNotFit()
    {
        var inputs = new[] { new[] { 0.0, 0.0, 0.0 }, new[] { 1.0, 1.0, 1.0 } };
        var label = Assert.Throws<ArgumentOutOfRangeException>(() => Network().Fit(inputs, new[] { 1, 2 }));
        Assert.Equal("labels", label.ParamName);
        Assert.StartsWith("labels[1] is 2, but the classes are 0 … 1.", label.Message);
        var sigmoid = NeuralNetwork.Create(3).Dense(2, Activation.Sigmoid).Build(seed: 1);
        var target = Assert.Throws<ArgumentException>(() => sigmoid.Fit(inputs, new[] { new[] { 0.0, 1.0 }, new[] { 1.0, 2.0 } }));
        Assert.Equal("targets", target.ParamName);
        Assert.StartsWith("targets[1][1] is 2, which the loss does not accept: binary-cross-entropy needs targets within [0, 1].", target.Message);
    }

    [Fact]
    public void OptimizerParametersAreNamedAsTheFactoryNamesThem()
    {
        Assert.Equal("learningRate", Assert.Throws<ArgumentOutOfRangeException>(() => Optimizer.Sgd(0)).ParamName);
        Assert.Equal("learningRate", Assert.Throws<ArgumentOutOfRangeException>(() => Optimizer.Adam(-1)).ParamName);
        Assert.Equal("beta1", Assert.Throws<ArgumentOutOfRangeException>(() => Optimizer.Adam(beta1: 1.0)).ParamName);
        Assert.Equal("mu", Assert.Throws<ArgumentOutOfRangeException>(() => Optimizer.Momentum(0.1, 0)).ParamName);
        Assert.Equal("weightDecay", Assert.Throws<ArgumentOutOfRangeException>(() => Optimizer.AdamW(weightDecay: -1)).ParamName);
        Assert.Equal("shrink", Assert.Throws<ArgumentOutOfRangeException>(() => Optimizer.SteepestDescent(shrink: 2)).ParamName);
        Assert.Equal("largestRate", Assert.Throws<ArgumentOutOfRangeException>(() => Optimizer.SteepestDescentGoldenSection(largestRate: 0)).ParamName);
        Assert.Equal("maxNorm", Assert.Throws<ArgumentOutOfRangeException>(() => Optimizer.Sgd(0.1).WithGradientClipping(0)).ParamName);
        Assert.Equal("rate", Assert.Throws<ArgumentOutOfRangeException>(() => Schedule.Constant(double.NaN)).ParamName);
        Assert.Equal("Schedule", Assert.Throws<ArgumentOutOfRangeException>(() => new FitOptions { Schedule = -0.5 }).ParamName);
        Assert.DoesNotContain("learning rate'", Assert.Throws<ArgumentOutOfRangeException>(() => Optimizer.Sgd(0)).Message);
    }

    [Fact]
    public void ANetworkThatCannotBeTrainedIsAnInvalidOperation()
    {
        var step = NeuralNetwork.Create(3).Dense(2, Activation.Step).Dense(2, Activation.Softmax).Build(seed: 1);
        var e = Assert.Throws<InvalidOperationException>(() => step.Fit(new[] { new[] { 1.0, 2.0, 3.0 } }, new[] { 1 }));
        Assert.Contains("Layer 1 uses the step activation", e.Message);
    }

    [Fact]
    public void CsvErrorsCountLinesAndColumnsFromOne()
    {
        var path = System.IO.Path.GetTempFileName();
        try
        {
            System.IO.File.WriteAllText(path, "a,b,label\n1,2,x\n3,oops,y\n");
            var e = Assert.Throws<FormatException>(() => CsvData.LoadClassification<double>(path));
            Assert.Contains("Line 3, column 2 (b)", e.Message);
        }
        finally
        {
            System.IO.File.Delete(path);
        }
    }
}
