using System;
using System.Linq;
using Microsoft.ML;
using Xunit;

namespace FunctionalBackprop.MLNet.Tests;

/// <summary>
/// ML.NET's own evaluators read what the trained transformer writes, and their metrics are the
/// network's: accuracy from its <c>Classify</c>, errors from its <c>Predict</c>, on the same rows.
/// </summary>
public sealed class EvaluatorTests
{
    private static readonly MLContext Ml = new(seed: 1);
    private static readonly IDataView Training = Synthetic.Data(Ml, Synthetic.Rows(600, seed: 1));
    private static readonly IDataView Test = Synthetic.Data(Ml, Synthetic.Rows(300, seed: 2));

    [Fact]
    public void BinaryClassificationEvaluateReadsScoreProbabilityAndPredictedLabel()
    {
        using var model = Synthetic.Trainer(Ml, "binary", Synthetic.Quick(40)).Fit(Training);
        var metrics = Ml.BinaryClassification.Evaluate(model.Transform(Test), labelColumnName: nameof(Synthetic.Row.Flag));

        var rows = Ml.Data.CreateEnumerable<Synthetic.Row>(Test, reuseRowObject: false).ToList();
        var inputs = rows.Select(r => r.Features).ToArray();
        var own = (double)model.Network.Classify(inputs).Zip(rows, (c, r) => (c == 1) == r.Flag).Count(right => right) / rows.Count;
        Assert.True(own >= 0.85, $"the network's own accuracy is {own:P2}");
        Assert.Equal(own, metrics.Accuracy, 12);
        Assert.True(metrics.AreaUnderRocCurve >= 0.9, $"AUC {metrics.AreaUnderRocCurve}");
        Assert.True(double.IsFinite(metrics.LogLoss) && metrics.LogLoss > 0, $"log-loss {metrics.LogLoss}");
    }

    [Fact]
    public void RegressionEvaluateReadsScoreAndGivesTheNetworksError()
    {
        using var model = Synthetic.Trainer(Ml, "regression", Synthetic.Quick(60)).Fit(Training);
        var metrics = Ml.Regression.Evaluate(model.Transform(Test), labelColumnName: nameof(Synthetic.Row.Target));

        var rows = Ml.Data.CreateEnumerable<Synthetic.Row>(Test, reuseRowObject: false).ToList();
        var predicted = model.Network.Predict(rows.Select(r => r.Features).ToArray());
        var squared = rows.Select((r, i) => Math.Pow((double)predicted[i][0] - r.Target, 2)).Average();
        var absolute = rows.Select((r, i) => Math.Abs((double)predicted[i][0] - r.Target)).Average();
        Assert.Equal(squared, metrics.MeanSquaredError, 5);
        Assert.Equal(absolute, metrics.MeanAbsoluteError, 5);
        Assert.True(metrics.RSquared >= 0.8, $"R² {metrics.RSquared}");

        // The network's own regression metrics are ML.NET's, on the same rows (issue 23, point 2).
        var own = model.Network.EvaluateRegression(Test.ToDataset<float>(labelColumnName: nameof(Synthetic.Row.Target)));
        Assert.Equal(metrics.RSquared, own.RSquared, 5);
        Assert.Equal(metrics.RootMeanSquaredError, own.RootMeanSquaredError, 5);
        Assert.Equal(metrics.MeanAbsoluteError, own.MeanAbsoluteError, 5);
        Assert.NotNull(model.Network.TargetScaler);
    }

    [Fact]
    public void MulticlassClassificationEvaluateGivesTheNetworksAccuracy()
    {
        using var model = Synthetic.Trainer(Ml, "multiclass", Synthetic.Quick(40)).Fit(Training);
        var metrics = Ml.MulticlassClassification.Evaluate(model.Transform(Test));
        var own = model.Network.EvaluateClassifier(Test.ToDataset<float>());
        Assert.True(own.Accuracy >= 0.85, $"the network's own accuracy is {own.Accuracy:P2}");
        Assert.Equal(own.Accuracy, metrics.MicroAccuracy, 12);
        Assert.True(Math.Abs(own.Loss - metrics.LogLoss) <= 1e-5 * own.Loss, $"ML.NET's log-loss {metrics.LogLoss}, the network's cross-entropy {own.Loss}");
    }
}
