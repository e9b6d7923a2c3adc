using System;
using System.IO;
using System.Linq;
using Xunit;

namespace FunctionalBackprop.Tests.Facade;

/// <summary>
/// Issue 23, point 4: class labels from a CSV file (or FromLabels, or MNIST) follow the network's
/// output layer, so a binary file trains one sigmoid unit, as the XOR quick start's network has,
/// without extra calls, as well as two softmax units.
/// </summary>
public sealed class LabelledTargetsTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("fbp-binary-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    /// <summary>Forty rows of two features and a yes/no label: inside the unit circle or not.</summary>
    private string Binary()
    {
        var rows = Enumerable.Range(0, 40).Select(j => (X: 1.5 * Math.Sin(1.3 * j), Y: 1.5 * Math.Cos(0.7 * j)));
        var path = Path.Combine(folder, "circle.csv");
        File.WriteAllLines(path, rows.Select(r => FormattableString.Invariant($"{r.X},{r.Y},{((r.X * r.X) + (r.Y * r.Y) < 1 ? "yes" : "no")}")).Prepend("x,y,inside"));
        return path;
    }

    [Fact]
    public void ABinaryCsvFileTrainsOneSigmoidUnitAsItsLabelsWould()
    {
        var csv = CsvData.LoadClassification<double>(Binary());
        Assert.Equal(new[] { "no", "yes" }, csv.ClassNames);
        var network = NeuralNetwork.Create(2).Dense(6, Activation.Tanh).Dense(1, Activation.Sigmoid).Build(seed: 2);
        var options = new FitOptions { Epochs = 20, Seed = 1, ValidationData = csv.Data.Skip(30) };

        var fromCsv = network.Fit(csv.Data.Take(30), options);
        Assert.Equal(Loss.BinaryCrossEntropy, fromCsv.LossFunction);
        var inputs = csv.Data.Take(30).GetInputs();
        var fromLabels = network.Fit(inputs, csv.Labels.Take(30).ToArray(), options);
        Assert.Equal(fromLabels.Network.GetWeights(0), fromCsv.Network.GetWeights(0));
        Assert.Equal(fromLabels.History.Select(h => h.ValidationAccuracy), fromCsv.History.Select(h => h.ValidationAccuracy));

        var evaluation = fromCsv.Network.EvaluateClassifier(csv.Data);
        Assert.Equal(new[] { 2, 2 }, new[] { evaluation.ConfusionMatrix.GetLength(0), evaluation.ConfusionMatrix.GetLength(1) });
        Assert.Equal(fromCsv.Network.Classify(csv.Data).Zip(csv.Labels).Count(p => p.First == p.Second) / 40.0, evaluation.Accuracy);
    }

    [Fact]
    public void ADataSetOfLabelsKnowsItsClassesThroughSlicesAndShuffles()
    {
        var csv = CsvData.LoadClassification<double>(Binary());
        Assert.Equal(2, csv.Data.ClassCount);
        Assert.Equal(2, csv.Data.Skip(3).Shuffle(1).Take(20).ClassCount);
        Assert.Equal(2, Scaler.FitStandard(csv.Data).Transform(csv.Data).ClassCount);
        Assert.Null(csv.Data.MapTargets(t => t).ClassCount);
        Assert.Null(Dataset<double>.FromArrays(csv.Data.GetInputs(), csv.Data.GetTargets()).ClassCount);
    }

    [Fact]
    public void TheSameFileTrainsTwoSoftmaxUnits()
    {
        var csv = CsvData.LoadClassification<double>(Binary());
        var network = NeuralNetwork.Create(2).Dense(6, Activation.Tanh).Dense(2, Activation.Softmax).Build(seed: 2);
        var result = network.Fit(csv.Data, new FitOptions { Epochs = 2 });
        Assert.Equal(Loss.CrossEntropy, result.LossFunction);
        Assert.Equal(40, result.Network.EvaluateClassifier(csv.Data).Count);
    }

    [Fact]
    public void LabelsMadeForOneOutputTrainTwoSoftmaxUnitsToo()
    {
        var inputs = Enumerable.Range(0, 8).Select(j => new[] { (double)j }).ToArray();
        var labels = Enumerable.Range(0, 8).Select(j => j < 4 ? 0 : 1).ToArray();
        var single = Dataset<double>.FromLabels(inputs, labels, 2, singleOutput: true);
        var softmax = NeuralNetwork.Create(1).Dense(2, Activation.Softmax).Build(seed: 1);
        Assert.Equal(softmax.Evaluate(Dataset<double>.FromLabels(inputs, labels, 2)).Loss, softmax.Evaluate(single).Loss);
    }

    [Fact]
    public void LabelsOfMoreClassesThanTheOutputTakesAreRefusedNamingBoth()
    {
        var inputs = Enumerable.Range(0, 6).Select(j => new[] { (double)j }).ToArray();
        var three = Dataset<double>.FromLabels(inputs, new[] { 0, 1, 2, 0, 1, 2 }, 3);
        var e = Assert.Throws<ArgumentException>(() => NeuralNetwork.Create(1).Dense(1, Activation.Sigmoid).Build(seed: 1).Fit(three));
        Assert.Contains("has 1 unit (the data hold labels of 3 classes, which an output layer of 3 softmax units takes)", e.Message);
    }
}
