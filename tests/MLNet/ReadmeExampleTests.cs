using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using FunctionalBackprop.Testing;
using Xunit;

namespace FunctionalBackprop.MLNet.Tests;

/// <summary>
/// README.md's "From ML.NET" example is this code, and it runs: the digits through TextLoader,
/// Concatenate, NormalizeMeanVariance, MapValueToKey and the network, evaluated by ML.NET, saved,
/// loaded and asked for predictions. Its statements are the region in <see cref="Example"/> and its
/// types the region after it; README shows the two one after the other. The example reads the CSV by
/// its path relative to the repository, as README's commands run there, so it runs from the root.
/// </summary>
[Collection(ReadmeCollection.Name)]
public sealed class ReadmeExampleTests
{
    // The data views read the CSV by its relative path whenever a cursor runs: the test rows are
    // read here, from the root, into a data set of the network's inputs (the normalized pixels).
    private static readonly Lazy<ExampleRun> Run = new(() => Repository.FromRoot(() =>
    {
        var (metrics, trained, scored, prediction) = Example();
        return new ExampleRun(metrics, trained, scored.ToDataset<float>(), prediction);
    }));

    private sealed record ExampleRun(
        MulticlassClassificationMetrics Metrics,
        NeuralNetworkTransformer Trained,
        Dataset<float> Test,
        DigitPrediction Prediction);

    private static (MulticlassClassificationMetrics, NeuralNetworkTransformer, IDataView, DigitPrediction) Example()
    {
        // README "From ML.NET" begins
        var mlContext = new MLContext(seed: 1);

        // The CSV's 64 pixel counts as one vector column, then the digit; the first 1,400 rows to learn from.
        var data = mlContext.Data.LoadFromTextFile("data/digits/digits.csv", new[]
        {
            new TextLoader.Column("Pixels", DataKind.Single, 0, 63),
            new TextLoader.Column("Digit", DataKind.Single, 64),
        }, separatorChar: ',', hasHeader: true);
        var training = mlContext.Data.TakeRows(data, 1400);
        var test = mlContext.Data.SkipRows(data, 1400);

        var pipeline = mlContext.Transforms.Concatenate("Features", "Pixels")
            .Append(mlContext.Transforms.NormalizeMeanVariance("Features"))
            .Append(mlContext.Transforms.Conversion.MapValueToKey("Label", "Digit", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue))
            .Append(mlContext.MulticlassClassification.Trainers.NeuralNetwork(hiddenLayers: new[] { 64 },
                fitOptions: new FitOptions<float> { Epochs = 50, BatchSize = 32, Seed = 1 }, seed: 1))
            .Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedDigit", "PredictedLabel"));
        var model = pipeline.Fit(training);

        var metrics = mlContext.MulticlassClassification.Evaluate(model.Transform(test));
        Console.WriteLine($"accuracy {metrics.MicroAccuracy:P2}, log-loss {metrics.LogLoss:F4}");
        Console.WriteLine(metrics.ConfusionMatrix.GetFormattedConfusionTable());

        // The network travels inside ML.NET's model file, as an ONNX model.
        var path = Path.Combine(Path.GetTempPath(), "digits-mlnet.zip");
        mlContext.Model.Save(model, data.Schema, path);
        var loaded = mlContext.Model.Load(path, out var inputSchema);
        var engine = mlContext.Model.CreatePredictionEngine<DigitImage, DigitPrediction>(loaded, inputSchema);
        var first = mlContext.Data.CreateEnumerable<DigitImage>(test, reuseRowObject: false).First();
        var prediction = engine.Predict(first);
        Console.WriteLine($"the first test digit is a {first.Digit}, predicted {prediction.PredictedDigit}");
        // README "From ML.NET" ends
        return (metrics, model.OfType<NeuralNetworkTransformer>().Single(), model.Transform(test), prediction);
    }

    [Fact]
    public void TheReadmeShowsThisCode()
    {
        var statements = Repository.MarkedCode(nameof(ReadmeExampleTests) + ".cs", "README \"From ML.NET\"");
        var types = Repository.MarkedCode(nameof(ReadmeExampleTests) + ".cs", "README \"From ML.NET\" (types)");
        Assert.False(string.IsNullOrWhiteSpace(statements) || string.IsNullOrWhiteSpace(types), "No README regions in ReadmeExampleTests.cs.");
        var block = Repository.ReadmeCSharp("From ML.NET");
        Assert.False(string.IsNullOrWhiteSpace(block), "README.md's section \"From ML.NET\" has no ```csharp block.");
        Assert.Equal(Code.Normalise(statements + "\n" + types), Code.Normalise(block));
    }

    [Fact]
    public void MlNetsAccuracyIsTheNetworksOwnOnTheSameRows()
    {
        var run = Run.Value;
        var test = run.Test;
        var own = run.Trained.Network.EvaluateClassifier(test);
        Assert.Equal(397, own.Count);
        Assert.True(own.Accuracy >= 0.9, $"accuracy {own.Accuracy:P2}");
        Assert.Equal(own.Accuracy, run.Metrics.MicroAccuracy, 12);
    }

    [Fact]
    public void MlNetsLogLossIsTheNetworksCrossEntropy()
    {
        var run = Run.Value;
        var own = run.Trained.Network.EvaluateClassifier(run.Test);
        Assert.Equal(Loss.CrossEntropy, own.LossFunction);
        Assert.True(Math.Abs(own.Loss - run.Metrics.LogLoss) <= 1e-5 * own.Loss, $"ML.NET's log-loss {run.Metrics.LogLoss}, the network's cross-entropy {own.Loss}");
    }

    [Fact]
    public void MlNetsConfusionMatrixCountsTheNetworksClasses()
    {
        var run = Run.Value;
        var own = run.Trained.Network.EvaluateClassifier(run.Test).ConfusionMatrix;
        var counts = run.Metrics.ConfusionMatrix.Counts;
        var mlnet = new int[10, 10];
        for (var actual = 0; actual < 10; actual++)
        {
            for (var predicted = 0; predicted < 10; predicted++)
            {
                mlnet[actual, predicted] = (int)counts[actual][predicted];
            }
        }

        Assert.Equal(own, mlnet);
    }

    [Fact]
    public void TheLoadedModelPredictsAsTheNetworkDoes()
    {
        var run = Run.Value;
        var network = run.Trained.Network;

        // The pipeline normalizes the pixels before the network: the network's input is that column.
        var features = run.Test.GetInput(0);
        var expected = network.Predict(features);
        Agreement.Close(network, features, run.Prediction.Score, expected, "the first test digit");

        // Keys in value order: class k is the digit k.
        Assert.Equal(network.Classify(features), (int)run.Prediction.PredictedDigit);
    }
}

// README "From ML.NET" (types) begins
public sealed class DigitImage
{
    [VectorType(64)]
    public float[] Pixels { get; set; } = new float[64];

    public float Digit { get; set; }
}

public sealed class DigitPrediction
{
    public float[] Score { get; set; } = Array.Empty<float>();

    public float PredictedDigit { get; set; }
}
// README "From ML.NET" (types) ends
