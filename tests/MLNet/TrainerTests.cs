using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;

namespace FunctionalBackprop.MLNet.Tests;

/// <summary>The trainer builds and trains the network as its options say, and as Fit would.</summary>
public sealed class TrainerTests
{
    private static readonly MLContext Ml = new(seed: 1);
    private static readonly IDataView Data = Synthetic.Data(Ml, Synthetic.Rows(120, seed: 6));

    [Fact]
    public void ItTrainsWhatFitTrainsOnTheSameExamples()
    {
        using var model = Synthetic.Trainer(Ml, "multiclass", Synthetic.Quick(3)).Fit(Data);
        var direct = NeuralNetwork.Create(Synthetic.Width).Dense(16, Activation.Tanh).Dense(3, Activation.Softmax).Build<float>(1)
            .Fit(Data.ToDataset<float>(), Synthetic.Quick(3));
        Assert.Equal(Weights(direct.Network), Weights(model.Network));
    }

    [Fact]
    public void TheSameSeedGivesTheSameNetworkAndAnotherSeedAnother()
    {
        using var first = Synthetic.Trainer(Ml, "binary", Synthetic.Quick(2)).Fit(Data);
        using var again = Synthetic.Trainer(Ml, "binary", Synthetic.Quick(2)).Fit(Data);
        using var other = Ml.BinaryClassification.Trainers.NeuralNetwork("Flag", hiddenLayers: new[] { 16 }, activation: Activation.Tanh, fitOptions: Synthetic.Quick(2), seed: 2).Fit(Data);
        Assert.Equal(Weights(first.Network), Weights(again.Network));
        Assert.NotEqual(Weights(first.Network), Weights(other.Network));
    }

    [Theory]
    [InlineData(new int[0], "5-1")]
    [InlineData(new[] { 8 }, "5-8-1")]
    [InlineData(new[] { 8, 4 }, "5-8-4-1")]
    public void HiddenSizesAndTheTasksOutputLayerMakeTheNetwork(int[] hidden, string shape)
    {
        using var model = Ml.Regression.Trainers.NeuralNetwork("Target", hiddenLayers: hidden, fitOptions: Synthetic.Quick(1)).Fit(Data);
        Assert.Equal(shape, string.Join("-", model.Network.Layers.Select(l => l.Units).Prepend(model.Network.InputWidth)));
        Assert.All(model.Network.Layers.SkipLast(1), l => Assert.Equal(Activation.ReLU, l.Activation));
        Assert.Equal(Activation.Identity, model.Network.Layers[^1].Activation);
    }

    [Fact]
    public void ABuilderCallbackGivesTheHiddenLayers()
    {
        var options = new NeuralNetworkOptions { HiddenLayers = layers => layers.Dense(7, Activation.Sigmoid).Dense(6, Activation.LeakyReLU(0.1)), FitOptions = Synthetic.Quick(1) };
        using var model = Ml.MulticlassClassification.Trainers.NeuralNetwork(options).Fit(Data);
        Assert.Equal(new[] { (7, "Sigmoid"), (6, "LeakyReLU"), (3, "Softmax") }, model.Network.Layers.Select(l => (l.Units, l.Activation.Kind.ToString())));
    }

    [Fact]
    public void ACallbackThatStartsItsOwnBuilderIsRefused()
    {
        var options = new NeuralNetworkOptions { HiddenLayers = _ => NeuralNetwork.Create(3).Dense(4, Activation.ReLU) };
        var error = Assert.Throws<InvalidOperationException>(() => Ml.Regression.Trainers.NeuralNetwork(options with { LabelColumnName = "Target" }).Fit(Data));
        Assert.Contains("builder for 3 inputs; the feature column 'Features' has 5", error.Message);
    }

    [Fact]
    public void ProgressIsToldAfterEveryEpoch()
    {
        var epochs = new List<int>();
        var progress = new TrainingProgress(onEpoch: report => epochs.Add(report.Epoch));
        using var model = Ml.Regression.Trainers.NeuralNetwork("Target", fitOptions: Synthetic.Quick(4), progress: progress).Fit(Data);
        Assert.Equal(new[] { 1, 2, 3, 4 }, epochs);
        Assert.Equal(4, model.Training.History.Count);
    }

    [Fact]
    public void ACancelledTokenStopsTrainingBeforeItBegins()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var trainer = Ml.Regression.Trainers.NeuralNetwork("Target", fitOptions: Synthetic.Quick(4), cancellationToken: cancelled.Token);
        Assert.ThrowsAny<OperationCanceledException>(() => trainer.Fit(Data));
    }

    [Fact]
    public void CancelledDuringTrainingItKeepsWhatWasLearned()
    {
        using var cancel = new CancellationTokenSource();
        var progress = new TrainingProgress(onEpoch: report =>
        {
            if (report.Epoch == 2)
            {
                cancel.Cancel();
            }
        });
        using var model = Ml.Regression.Trainers.NeuralNetwork("Target", fitOptions: Synthetic.Quick(50), progress: progress, cancellationToken: cancel.Token).Fit(Data);
        Assert.Equal(StopReason.Cancelled, model.Training.Stopped);
        Assert.Equal(2, model.Training.History.Count);
        Assert.Equal(Data.GetRowCount(), model.Transform(Data).GetColumn<float>("Score").Count());
    }

    [Fact]
    public void ValidationDataIsMeasuredAfterEveryEpoch()
    {
        var validation = Synthetic.Data(Ml, Synthetic.Rows(40, seed: 7));
        using var model = Synthetic.Trainer(Ml, "multiclass", Synthetic.Quick(3)).Fit(Data, validation);
        Assert.All(model.Training.History, epoch => Assert.NotNull(epoch.ValidationAccuracy));
        var own = model.Network.EvaluateClassifier(validation.ToDataset<float>());
        Assert.Equal(own.Accuracy, model.Training.History[^1].ValidationAccuracy!.Value, 12);
    }

    [Fact]
    public void DoubleFeaturesAreRoundedToSingleAsTheNetworkWasTrainedOn()
    {
        var rows = Synthetic.Rows(80, seed: 8).Select(r => new { Features = r.Features.Select(v => (double)v + 1e-9).ToArray(), r.Target }).ToList();
        var definition = SchemaDefinition.Create(rows[0].GetType());
        definition["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Double, Synthetic.Width);
        var data = Ml.Data.LoadFromEnumerable(rows, definition);
        using var model = Ml.Regression.Trainers.NeuralNetwork("Target", fitOptions: Synthetic.Quick(2)).Fit(data);
        var scores = model.Transform(data).GetColumn<float>("Score").ToArray();
        for (var i = 0; i < rows.Count; i++)
        {
            var input = rows[i].Features.Select(v => (float)v).ToArray();
            Agreement.Close(model.Network, input, new[] { scores[i] }, model.Network.Predict(input), $"row {i}");
        }

        Assert.DoesNotContain(model.Transform(data).Schema, c => c.Name.StartsWith("FunctionalBackprop.", StringComparison.Ordinal));
    }

    private static float[] Weights(NeuralNetwork<float> network) =>
        Enumerable.Range(0, network.Layers.Count).SelectMany(l => network.GetWeights(l).Cast<float>().Concat(network.GetBiases(l))).ToArray();
}
