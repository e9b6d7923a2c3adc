using System;
using System.IO;
using System.Linq;
using Xunit;

namespace FunctionalBackprop.Tests.Facade;

/// <summary>
/// Issue 23, point 7: messages in C# terms, no inner exception that repeats its outer one, counts
/// in the number of their noun, and Take and Skip as LINQ's.
/// </summary>
public sealed class WordingTests : IDisposable
{
    private static readonly double[][] Inputs = Enumerable.Range(0, 8).Select(j => new[] { Math.Sin(j), Math.Cos(j) }).ToArray();

    private readonly string folder = Directory.CreateTempSubdirectory("fbp-wording-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ADivergedRunNamesTheOptimizerAsCSharpWritesItAndHasNoInnerException(bool schedule)
    {
        var network = NeuralNetwork.Create(2).Dense(4, Activation.Tanh).Dense(1).Build(seed: 1);
        var targets = Inputs.Select(x => new[] { 200 * x[0] }).ToArray();
        var options = new FitOptions { Epochs = 50, BatchSize = 1, Optimizer = Optimizer.Sgd(100) };
        var e = Assert.Throws<TrainingDivergedException<double>>(() => network.Fit(Inputs, targets, schedule ? options with { Schedule = Schedule.InverseTime(1e4) } : options));
        Assert.Contains(schedule ? "try a smaller learning rate than Schedule = Schedule.InverseTime(10000)" : "try a smaller learning rate than Optimizer = Optimizer.Sgd(100)", e.Message);
        Assert.DoesNotContain("constant(", e.Message);
        Assert.Null(e.InnerException);
    }

    [Fact]
    public void OptimizersAreNamedWithTheArgumentsTheCallerGave()
    {
        var network = NeuralNetwork.Create(2).Dense(1).Build(seed: 1);
        var targets = Inputs.Select(x => new[] { 1e3 * x[0] }).ToArray();
        var e = Assert.Throws<TrainingDivergedException<double>>(() =>
            network.Fit(Inputs, targets, new FitOptions { Epochs = 50, BatchSize = 1, TargetScaling = TargetScaling.None, Optimizer = Optimizer.HeavyBall(1e200, beta: 0.5).WithGradientClipping(1e150) }));
        Assert.Contains("Optimizer.HeavyBall(1E+200, beta: 0.5).WithGradientClipping(1E+150)", e.Message);
    }

    [Fact]
    public void AnArgumentErrorFromTheCoreIsRaisedOnceUnderTheCallersName()
    {
        var path = Path.Combine(folder, "twice.csv");
        File.WriteAllText(path, "x,y\n1,2\n");
        var e = Assert.Throws<ArgumentException>(() => CsvData.LoadRegression<double>(path, targetColumns: new[] { "y", "y" }));
        Assert.Equal("targetColumns", e.ParamName);
        Assert.Null(e.InnerException);
        Assert.DoesNotContain("'Targets'", e.Message);
    }

    [Fact]
    public void CountsOfOneAreSingular()
    {
        var network = NeuralNetwork.Create(2).Dense(1, Activation.Sigmoid).Build(seed: 1);
        var e = Assert.Throws<ArgumentException>(() => network.Fit(Inputs, Inputs, new FitOptions { Epochs = 1 }));
        Assert.Contains("has 1 unit,", e.Message);
        Assert.DoesNotContain("1 units", e.Message);
        var one = Assert.Throws<ArgumentException>(() => NeuralNetwork.Create(1).Dense(1).Build(seed: 1).Predict(new[] { 1.0, 2.0 }));
        Assert.Contains("inputs of 1 value (", one.Message);
        Assert.Equal("1 example, 2 inputs → 1 target", Dataset<double>.FromArrays(new[] { new[] { 1.0, 2.0 } }, new[] { new[] { 0.0 } }).ToString());
        Assert.Equal("standard scaler of 1 feature", Scaler.FitStandard(new[] { new[] { 1.0 }, new[] { 3.0 } }).ToString());
    }

    [Fact]
    public void TakeAndSkipReturnWhatThereIsAsLinqDoes()
    {
        var data = Dataset<double>.FromArrays(Inputs, Inputs);
        Assert.Equal(Inputs.Take(500), data.Take(500).GetInputs());
        Assert.Equal(Inputs.Skip(3), data.Skip(3).GetInputs());
        Assert.Equal(0, data.Skip(500).Count);
        Assert.Equal(0, data.Take(0).Count);
        Assert.Equal(0, data.Take(-2).Count);
        Assert.Equal(8, data.Skip(-2).Count);
        Assert.Equal(Inputs.Skip(6).Take(5), data.Skip(6).Take(5).GetInputs());
    }

    [Fact]
    public void AnEmptyDataSetIsRefusedWhereExamplesAreNeeded()
    {
        var empty = Dataset<double>.FromArrays(Inputs, Inputs).Skip(8);
        var network = NeuralNetwork.Create(2).Dense(2).Build(seed: 1);
        var fit = Assert.Throws<ArgumentException>(() => network.Fit(empty));
        Assert.Equal("data", fit.ParamName);
        Assert.Contains("data holds no examples", fit.Message);
        Assert.Contains("no examples", Assert.Throws<ArgumentException>(() => network.Evaluate(empty)).Message);
        Assert.Empty(network.Predict(empty));
    }
}
