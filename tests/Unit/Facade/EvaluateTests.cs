using System;
using System.Linq;
using Xunit;

namespace FunctionalBackprop.Tests.Facade;

/// <summary>Evaluation without naming a loss: a classifier's accuracy and confusion matrix, a regression's loss.</summary>
public class EvaluateTests
{
    /// <summary>Thirty points in the plane, three classes by angle.</summary>
    private static Dataset<double> Points()
    {
        var inputs = Enumerable.Range(0, 30).Select(j => new[] { Math.Cos(j * 0.7), Math.Sin(j * 0.7) }).ToArray();
        var labels = inputs.Select(x => (int)((Math.Atan2(x[1], x[0]) + Math.PI) / (2 * Math.PI / 3)) % 3).ToArray();
        return Dataset<double>.FromLabels(inputs, labels, 3);
    }

    private static NeuralNetwork<double> Classifier() =>
        NeuralNetwork.Create(2).Dense(5, Activation.Tanh).Dense(3, Activation.Softmax).Build(seed: 4).Fit(Points(), new FitOptions { Epochs = 40, Seed = 1 }).Network;

    [Fact]
    public void AClassifiersEvaluationNeedsNoLossAndHasAccuracyAndAConfusionMatrix()
    {
        var network = Classifier();
        var data = Points();
        var result = Assert.IsType<ClassificationResult>(network.Evaluate(data));
        Assert.Equal(Loss.CrossEntropy, result.LossFunction);
        Assert.Equal(network.Evaluate(data, Loss.CrossEntropy).Loss, result.Loss);
        Assert.Equal(30, result.Count);

        // The oracle: the classes Classify gives, counted here against the labels.
        var predicted = network.Classify(data);
        var actual = data.GetLabels();
        Assert.Equal(predicted.Zip(actual).Count(p => p.First == p.Second) / 30.0, result.Accuracy);
        var counts = new int[3, 3];
        foreach (var (p, a) in predicted.Zip(actual))
        {
            counts[a, p]++;
        }

        Assert.Equal(counts, result.ConfusionMatrix);
        Assert.Equal(result.Accuracy, network.EvaluateClassifier(data).Accuracy);
    }

    [Fact]
    public void AnotherLossCanStillBeMeasured()
    {
        var result = Classifier().EvaluateClassifier(Points(), Loss.Quadratic);
        Assert.Equal(Loss.Quadratic, result.LossFunction);
        Assert.NotEqual(Classifier().Evaluate(Points()).Loss, result.Loss);
    }

    [Fact]
    public void OneSigmoidOutputHasATwoByTwoConfusionMatrix()
    {
        var inputs = new[] { new[] { 0.0 }, new[] { 1.0 }, new[] { 2.0 }, new[] { 3.0 } };
        var network = NeuralNetwork.Create(1).Dense(1, Activation.Sigmoid).Build(seed: 1);
        var result = network.EvaluateClassifier(inputs, new[] { 0, 0, 1, 1 });
        Assert.Equal(Loss.BinaryCrossEntropy, result.LossFunction);
        Assert.Equal(2, result.ConfusionMatrix.GetLength(0));
        Assert.Equal(4, result.ConfusionMatrix.Cast<int>().Sum());
    }

    [Fact]
    public void ARegressionHasALossAndNoAccuracy()
    {
        var network = NeuralNetwork.Create(2).Dense(1, Activation.Identity).Build(seed: 1);
        var inputs = new[] { new[] { 1.0, 2.0 }, new[] { 3.0, 4.0 } };
        var targets = new[] { new[] { 1.0 }, new[] { -1.0 } };
        var result = network.Evaluate(inputs, targets);
        Assert.IsNotType<ClassificationResult>(result);
        Assert.Equal(Loss.Quadratic, result.LossFunction);
        var outputs = network.Predict(inputs);
        Assert.Equal((0.5 * Math.Pow(outputs[0][0] - 1, 2) + 0.5 * Math.Pow(outputs[1][0] + 1, 2)) / 2, result.Loss, 14);
        var e = Assert.Throws<InvalidOperationException>(() => network.EvaluateClassifier(Dataset<double>.FromArrays(inputs, targets)));
        Assert.Contains("identity", e.Message);
    }
}
