using System;
using System.Linq;
using Xunit;

namespace FunctionalBackprop.Tests.Facade;

/// <summary>
/// Options left out get what suits the network: the loss follows the output layer, Adam with
/// α = 0.001 moves the weights, He or Xavier draws them. The textbook's choices stay one line away.
/// </summary>
public class DefaultsTests
{
    private static readonly double[][] Inputs = Enumerable.Range(0, 12).Select(j => new[] { Math.Sin(j), Math.Cos(3 * j) }).ToArray();
    private static readonly int[] Labels = Enumerable.Range(0, 12).Select(j => j % 3).ToArray();

    private static NeuralNetwork<double> Softmax() =>
        NeuralNetwork.Create(2).Dense(4, Activation.Tanh).Dense(3, Activation.Softmax).Build(seed: 6);

    [Theory]
    [InlineData(ActivationKind.Softmax, 3, Loss.CrossEntropy)]
    [InlineData(ActivationKind.Sigmoid, 1, Loss.BinaryCrossEntropy)]
    [InlineData(ActivationKind.Sigmoid, 3, Loss.BinaryCrossEntropy)]
    [InlineData(ActivationKind.Identity, 2, Loss.Quadratic)]
    [InlineData(ActivationKind.Tanh, 2, Loss.Quadratic)]
    [InlineData(ActivationKind.ReLU, 2, Loss.Quadratic)]
    public void TheLossFollowsTheOutputLayer(ActivationKind output, int units, Loss expected)
    {
        var activation = output switch
        {
            ActivationKind.Softmax => Activation.Softmax,
            ActivationKind.Sigmoid => Activation.Sigmoid,
            ActivationKind.Tanh => Activation.Tanh,
            ActivationKind.ReLU => Activation.ReLU,
            _ => Activation.Identity,
        };
        var network = NeuralNetwork.Create(2).Dense(units, activation).Build(seed: 1);
        Assert.Equal(expected, network.DefaultLoss);
    }

    [Fact]
    public void WithNoOptionsASoftmaxNetworkTrainsWithCrossEntropyAndAdam()
    {
        var defaults = Softmax().Fit(Inputs, Labels, new FitOptions { Epochs = 5, Seed = 2 });
        var explicitly = Softmax().Fit(Inputs, Labels, new FitOptions { Epochs = 5, Seed = 2, Loss = Loss.CrossEntropy, Optimizer = Optimizer.Adam(0.001) });
        Assert.Equal(explicitly.Network.GetWeights(0), defaults.Network.GetWeights(0));
        Assert.Equal(explicitly.Network.GetBiases(1), defaults.Network.GetBiases(1));
        Assert.Equal(explicitly.Checkpoint.OptimizerName, defaults.Checkpoint.OptimizerName);
    }

    [Fact]
    public void TheDefaultOptionsAreDocumentedValues()
    {
        var options = new FitOptions();
        Assert.Null(options.Loss);
        Assert.Equal(Optimizer.Adam(0.001).Name, options.Optimizer.Name);
        Assert.Equal(30, options.Epochs);
        Assert.Equal(10, options.BatchSize);
        var result = Softmax().Fit(Inputs, Labels);
        Assert.Equal(Loss.CrossEntropy, result.LossFunction);
        Assert.Equal(30, result.History.Count);
    }

    [Fact]
    public void TheTextbookSettingsAreTakenAsGiven()
    {
        var result = Softmax().Fit(Inputs, Labels, new FitOptions { Epochs = 5, Loss = Loss.Quadratic, Optimizer = Optimizer.Sgd(3.0) });
        Assert.Equal(Loss.Quadratic, result.LossFunction);
        Assert.StartsWith("sgd(constant(3)", result.Checkpoint.OptimizerName);
        Assert.Equal(Loss.Quadratic, Softmax().Evaluate(Inputs, Labels, Loss.Quadratic).LossFunction);
    }

    [Fact]
    public void ALossTheOutputLayerCannotTakeIsRefusedUnderTheOptions()
    {
        var e = Assert.Throws<ArgumentException>(() => Softmax().Fit(Inputs, Labels, new FitOptions { Loss = Loss.BinaryCrossEntropy }));
        Assert.Equal("options", e.ParamName);
        Assert.Contains("sigmoid output layer, not softmax", e.Message);
    }

    [Fact]
    public void TheInitializerFollowsTheActivation()
    {
        Assert.Equal(
            NeuralNetwork.Create(3).Dense(5, Activation.ReLU, Initializer.HeNormal).Dense(2, Activation.Tanh, Initializer.XavierNormal).Build(seed: 3).GetWeights(1),
            NeuralNetwork.Create(3).Dense(5, Activation.ReLU).Dense(2, Activation.Tanh).Build(seed: 3).GetWeights(1));
        Assert.Equal(
            NeuralNetwork.Create(3).Dense(5, Activation.LeakyReLU(0.1), Initializer.HeNormal).Dense(1, Activation.Sigmoid).Build(seed: 3).GetWeights(0),
            NeuralNetwork.Create(3).Dense(5, Activation.LeakyReLU(0.1)).Dense(1, Activation.Sigmoid).Build(seed: 3).GetWeights(0));
    }

    [Theory]
    [InlineData(ActivationKind.Identity)]
    [InlineData(ActivationKind.LeakyReLU)]
    public void ARegressionNetworkDrawsEveryLayerXavierNormalUnlessTold(ActivationKind output)
    {
        var last = output == ActivationKind.Identity ? Activation.Identity : Activation.LeakyReLU(0.1);
        var regression = NeuralNetwork.Create(3).Dense(5, Activation.ReLU).Dense(2, last).Build(seed: 3);
        var xavier = NeuralNetwork.Create(3).Dense(5, Activation.ReLU, Initializer.XavierNormal).Dense(2, last, Initializer.XavierNormal).Build(seed: 3);
        var he = NeuralNetwork.Create(3).Dense(5, Activation.ReLU, Initializer.HeNormal).Dense(2, last).Build(seed: 3);
        Assert.Equal(xavier.GetWeights(0), regression.GetWeights(0));
        Assert.Equal(xavier.GetWeights(1), regression.GetWeights(1));
        Assert.NotEqual(he.GetWeights(0), regression.GetWeights(0));
    }
}
