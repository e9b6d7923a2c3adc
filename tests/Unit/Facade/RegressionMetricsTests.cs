using System;
using System.Collections.Generic;
using System.Linq;
using Xunit;

namespace FunctionalBackprop.Tests.Facade;

/// <summary>
/// Issue 23, point 2: Evaluate gives R², RMSE and MAE, per output and averaged, for a network that
/// is not a classifier, in the targets' own units; Loss is what the docs say it is.
/// </summary>
public class RegressionMetricsTests
{
    /// <summary>Forty examples of three inputs with two targets on different scales.</summary>
    private static Dataset<double> TwoTargets()
    {
        var inputs = Enumerable.Range(0, 40).Select(j => new[] { Math.Sin(j), Math.Cos(0.5 * j), j / 40.0 }).ToArray();
        var targets = inputs.Select(x => new[] { 3 * x[0] - x[1], 500 + (200 * x[2] * x[2]) }).ToArray();
        return Dataset<double>.FromArrays(inputs, targets);
    }

    /// <summary>The oracle: R², RMSE and MAE of one output, from Predict's outputs, written out here.</summary>
    private static (double RSquared, double Rmse, double Mae) Errors(IReadOnlyList<double> predicted, IReadOnlyList<double> actual)
    {
        var mean = actual.Average();
        var residual = predicted.Zip(actual, (p, a) => (p - a) * (p - a)).Sum();
        var total = actual.Sum(a => (a - mean) * (a - mean));
        return (1 - (residual / total), Math.Sqrt(residual / actual.Count), predicted.Zip(actual, (p, a) => Math.Abs(p - a)).Average());
    }

    [Fact]
    public void ARegressionNetworksEvaluationHasRSquaredRmseAndMaePerOutputAndAveraged()
    {
        var data = TwoTargets();
        var network = NeuralNetwork.Create(3).Dense(6, Activation.Tanh).Dense(2).Build(seed: 5).Fit(data, new FitOptions { Epochs = 20, Seed = 1 }).Network;
        var result = Assert.IsType<RegressionResult>(network.Evaluate(data));
        Assert.Equal(40, result.Count);
        Assert.Equal(2, result.Outputs.Count);

        var predicted = network.Predict(data);
        var targets = data.GetTargets();
        var expected = Enumerable.Range(0, 2).Select(i => Errors(predicted.Select(p => p[i]).ToArray(), targets.Select(t => t[i]).ToArray())).ToArray();
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(expected[i].RSquared, result.Outputs[i].RSquared, 10);
            Assert.Equal(expected[i].Rmse, result.Outputs[i].RootMeanSquaredError, 10);
            Assert.Equal(expected[i].Mae, result.Outputs[i].MeanAbsoluteError, 10);
        }

        Assert.Equal(expected.Average(e => e.RSquared), result.RSquared, 10);
        Assert.Equal(expected.Average(e => e.Rmse), result.RootMeanSquaredError, 10);
        Assert.Equal(expected.Average(e => e.Mae), result.MeanAbsoluteError, 10);
    }

    [Fact]
    public void TheErrorsAreInTheTargetsUnitsAndTheLossOnTheScaledTargetsTrainingSees()
    {
        var data = TwoTargets();
        var network = NeuralNetwork.Create(3).Dense(6, Activation.Tanh).Dense(2).Build(seed: 5).Fit(data, new FitOptions { Epochs = 5 }).Network;
        var scaler = network.TargetScaler!;
        var result = (RegressionResult)network.Evaluate(data);

        // Loss = (1/n) Σₓ ½‖a − y′‖², with y′ = (y − offset)/scale the targets the output layer learns.
        var predicted = network.Predict(data);
        var loss = predicted.Zip(data.GetTargets(), (p, t) => Enumerable.Range(0, 2).Sum(i => 0.5 * Math.Pow((p[i] - t[i]) / scaler.Scales[i], 2))).Average();
        Assert.Equal(loss, result.Loss, 9);

        // The second target is in the hundreds: its RMSE is too, not in units of its deviation.
        var rmse = Math.Sqrt(predicted.Zip(data.GetTargets(), (p, t) => Math.Pow(p[1] - t[1], 2)).Average());
        Assert.Equal(rmse, result.Outputs[1].RootMeanSquaredError, 9);
    }

    [Fact]
    public void WithoutTargetScalingTheQuadraticLossIsHalfTheMeanSquaredErrorSummedOverOutputs()
    {
        var data = TwoTargets();
        var network = NeuralNetwork.Create(3).Dense(2).Build(seed: 2);
        var result = (RegressionResult)network.Evaluate(data);
        Assert.Equal(Loss.Quadratic, result.LossFunction);
        Assert.Equal(result.Outputs.Sum(o => o.RootMeanSquaredError * o.RootMeanSquaredError) / 2, result.Loss, 9);
    }

    [Fact]
    public void ClassifiersStillGiveAClassificationResult() =>
        Assert.IsType<ClassificationResult>(NeuralNetwork.Create(3).Dense(2, Activation.Softmax).Build(seed: 1).Evaluate(Dataset<double>.FromLabels(TwoTargets().GetInputs(), Enumerable.Range(0, 40).Select(j => j % 2).ToArray(), 2)));
}
