using System;
using System.Collections.Generic;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using FunctionalBackprop.Testing;
using Xunit;

namespace FunctionalBackprop.MLNet.Tests;

/// <summary>
/// README.md's comparison is this code, and it runs: the example's pipeline with the network, then
/// with ML.NET's own SdcaMaximumEntropy and LightGbm in its place, each evaluated on the same 397
/// test rows. The three are trained once (<see cref="ComparisonRun"/>); each theory case checks one.
/// </summary>
[Collection(ReadmeCollection.Name)]
public sealed class ComparisonTests(ComparisonRun run) : IClassFixture<ComparisonRun>
{
    [Theory]
    [InlineData("NeuralNetwork", 0.88)]
    [InlineData("SdcaMaximumEntropy", 0.88)]
    [InlineData("LightGbm", 0.88)]
    public void EachTrainerLearnsTheDigits(string trainer, double floor)
    {
        Assert.True(run.Results.ContainsKey(trainer), $"The comparison did not train {trainer}.");
        var metrics = run.Results[trainer];
        Assert.True(metrics.MicroAccuracy >= floor, $"{trainer}: accuracy {metrics.MicroAccuracy:P2}, below {floor:P0}");
        Assert.True(double.IsFinite(metrics.LogLoss) && metrics.LogLoss > 0, $"{trainer}: log-loss {metrics.LogLoss}");
    }

    [Fact]
    public void TheReadmeShowsThisCode()
    {
        var block = Repository.ReadmeCSharp("Beside ML.NET's own trainers");
        Assert.False(string.IsNullOrWhiteSpace(block), "README.md's section \"Beside ML.NET's own trainers\" has no ```csharp block.");
        Assert.Equal(Code.Normalise(Repository.MarkedCode(nameof(ComparisonTests) + ".cs", "README comparison")), Code.Normalise(block));
    }
}

/// <summary>The comparison, run once for the tests that check it.</summary>
public sealed class ComparisonRun
{
    public ComparisonRun() => Results = Repository.FromRoot(Compare);

    /// <summary>ML.NET's metrics of each trainer on the test rows.</summary>
    public IReadOnlyDictionary<string, MulticlassClassificationMetrics> Results { get; }

    private static Dictionary<string, MulticlassClassificationMetrics> Compare()
    {
        var mlContext = new MLContext(seed: 1);
        var data = mlContext.Data.LoadFromTextFile("data/digits/digits.csv", new[]
        {
            new TextLoader.Column("Pixels", DataKind.Single, 0, 63),
            new TextLoader.Column("Digit", DataKind.Single, 64),
        }, separatorChar: ',', hasHeader: true);
        var training = mlContext.Data.TakeRows(data, 1400);
        var test = mlContext.Data.SkipRows(data, 1400);

        // README comparison begins
        // The example's data and features; only the trainer differs.
        var features = mlContext.Transforms.Concatenate("Features", "Pixels")
            .Append(mlContext.Transforms.NormalizeMeanVariance("Features"))
            .Append(mlContext.Transforms.Conversion.MapValueToKey("Label", "Digit", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue));
        var trainers = new (string Name, IEstimator<ITransformer> Trainer)[]
        {
            ("NeuralNetwork", mlContext.MulticlassClassification.Trainers.NeuralNetwork(hiddenLayers: new[] { 64 },
                fitOptions: new FitOptions<float> { Epochs = 50, BatchSize = 32, Seed = 1 }, seed: 1)),
            ("SdcaMaximumEntropy", mlContext.MulticlassClassification.Trainers.SdcaMaximumEntropy()),
            ("LightGbm", mlContext.MulticlassClassification.Trainers.LightGbm()),
        };
        var results = new Dictionary<string, MulticlassClassificationMetrics>();
        foreach (var (name, trainer) in trainers)
        {
            var metrics = mlContext.MulticlassClassification.Evaluate(features.Append(trainer).Fit(training).Transform(test));
            Console.WriteLine($"{name,-18} accuracy {metrics.MicroAccuracy:P2}, log-loss {metrics.LogLoss:F4}");
            results[name] = metrics;
        }
        // README comparison ends

        return results;
    }
}
