using System;
using Microsoft.FSharp.Core;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Xunit;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop.Tests.Facade;

/// <summary>Training through the facade.</summary>
public class FitTests
{
    private static readonly double[][] XorInputs = { new[] { 0.0, 0.0 }, new[] { 0.0, 1.0 }, new[] { 1.0, 0.0 }, new[] { 1.0, 1.0 } };
    private static readonly int[] XorLabels = { 0, 1, 1, 0 };

    private static NeuralNetwork<double> XorNetwork() =>
        NeuralNetwork.Create(2).Dense(3, Activation.Sigmoid, Initializer.StandardNormal).Dense(1, Activation.Sigmoid, Initializer.StandardNormal).Build(seed: 5);

    private static FitOptions XorOptions(int epochs = 2000) =>
        new() { Epochs = epochs, BatchSize = 4, Loss = Loss.BinaryCrossEntropy, Optimizer = Optimizer.Adam(0.05) };

    /// <summary>Reports synchronously, unlike <see cref="Progress{T}"/>, which posts to the thread pool.</summary>
    private sealed class Recorder<TReport> : IProgress<TReport>
    {
        public List<TReport> Reports { get; } = new();

        public Action<TReport>? Then { get; init; }

        public void Report(TReport value)
        {
            Reports.Add(value);
            Then?.Invoke(value);
        }
    }

    [Fact]
    public void XorIsLearnedThroughFitWithIntegerLabels()
    {
        var result = XorNetwork().Fit(XorInputs, XorLabels, XorOptions());
        Assert.Equal(XorLabels, result.Network.Classify(XorInputs));
        Assert.Equal(StopReason.Completed, result.Stopped);
        Assert.Equal(1.0, result.Network.EvaluateClassifier(XorInputs, XorLabels).Accuracy);
    }

    [Fact]
    public void TheHistoryHasOneReportPerEpochAndProgressIsToldEachOnce()
    {
        var progress = new Recorder<EpochReport>();
        var result = XorNetwork().Fit(XorInputs, XorLabels, XorOptions(epochs: 25), progress);
        Assert.Equal(25, result.History.Count);
        Assert.Equal(Enumerable.Range(1, 25), result.History.Select(r => r.Epoch));
        Assert.Equal(result.History, progress.Reports);
        Assert.All(progress.Reports, r => Assert.Equal(25, r.Epochs));
    }

    [Fact]
    public void TheOriginalNetworkIsUnchangedByFit()
    {
        var network = XorNetwork();
        var weights = network.GetWeights(0);
        var biases = network.GetBiases(1);
        var result = network.Fit(XorInputs, XorLabels, XorOptions(epochs: 50));
        Assert.Equal(weights, network.GetWeights(0));
        Assert.Equal(biases, network.GetBiases(1));
        Assert.NotEqual(weights, result.Network.GetWeights(0));
    }

    [Fact]
    public void CancellationStopsWithinOneBatchAndReturnsWhatWasLearned()
    {
        using var source = new CancellationTokenSource();
        // One example per batch: 4 steps per epoch. Cancelling while epoch 2 is reported lets no
        // further batch start.
        var progress = new Recorder<EpochReport> { Then = r => { if (r.Epoch == 2) { source.Cancel(); } } };
        var result = XorNetwork().Fit(XorInputs, XorLabels, XorOptions(epochs: 1000) with { BatchSize = 1 }, progress, source.Token);
        Assert.Equal(StopReason.Cancelled, result.Stopped);
        Assert.Equal(8, result.Checkpoint.Step);
        Assert.Equal(2, result.History.Count);
    }

    [Fact]
    public async Task FitAsyncCanBeCancelledFromAnotherThread()
    {
        using var source = new CancellationTokenSource();
        var started = new TaskCompletionSource();
        var progress = new Recorder<EpochReport> { Then = _ => started.TrySetResult() };
        var training = XorNetwork().FitAsync(XorInputs, XorLabels, XorOptions(epochs: 10_000_000) with { BatchSize = 1 }, progress, source.Token);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        source.Cancel();
        var result = await training.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(StopReason.Cancelled, result.Stopped);
        Assert.True(result.Checkpoint.Epoch < 10_000_000);
    }

    [Fact]
    public async Task FitAsyncThrowsWhenCancelledBeforeItStarts()
    {
        using var source = new CancellationTokenSource();
        source.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => XorNetwork().FitAsync(XorInputs, XorLabels, XorOptions(), cancellationToken: source.Token));
    }

    [Fact]
    public async Task FitAsyncEqualsFit()
    {
        var sync = XorNetwork().Fit(XorInputs, XorLabels, XorOptions(epochs: 30) with { BatchSize = 2, Seed = 3 });
        var async = await XorNetwork().FitAsync(XorInputs, XorLabels, XorOptions(epochs: 30) with { BatchSize = 2, Seed = 3 });
        Assert.Equal(sync.Network.GetWeights(0), async.Network.GetWeights(0));
        Assert.Equal(sync.Network.GetBiases(1), async.Network.GetBiases(1));
    }

    [Fact]
    public void FacadeResultsEqualCoreResultsForTheSameSeed()
    {
        // The facade adds no math: the same seed, data and settings give the core's bits.
        var facade = XorNetwork().Fit(XorInputs, XorLabels, XorOptions(epochs: 40) with { BatchSize = 2, Seed = 9, Optimizer = Optimizer.Nesterov(0.3, 0.9) });

        var core = Core.Network.init<double>(5UL, Core.Shape.NewVector(2), new[]
        {
            Core.LayerSpec.NewDense(3, Core.Activation.Sigmoid, FSharpOption<Core.Initializer>.Some(Core.Initializer.StandardNormal)),
            Core.LayerSpec.NewDense(1, Core.Activation.Sigmoid, FSharpOption<Core.Initializer>.Some(Core.Initializer.StandardNormal)),
        });
        var x = Core.Matrix.ofColumns(XorInputs);
        var y = Core.Matrix.ofColumns(XorLabels.Select(l => new[] { (double)l }));
        var optimizer = Core.Optimizer.nesterov<double>(Core.Schedule.NewConstant(0.3), 0.9);
        var options = Core.TrainingOptions.create(Core.Loss.BinaryCrossEntropy, optimizer, 40, 2);
        options = new Core.TrainingOptions<double>(options.Loss, options.Optimizer, options.Epochs, options.BatchSize, 9UL, options.Shards, options.Execution, options.Validation, options.Stopping, options.RunningLoss, options.Reports, options.OnReport, options.Cancellation, options.Checkpoints);
        var trained = Core.Training.train(options, core, x, y).Network;

        for (var layer = 0; layer < 2; layer++)
        {
            var tensors = Core.Layer.parameters(trained.Layers[layer]);
            Assert.Equal(Core.Matrix.toArray2D(tensors[0]), facade.Network.GetWeights(layer));
            Assert.Equal(tensors[1].ToArray(), facade.Network.GetBiases(layer));
        }
    }

    [Fact]
    public void ComputeGradientsAndCheckGradientsAgree()
    {
        var network = NeuralNetwork.Create(2).Dense(3, Activation.Tanh).Dense(2, Activation.Softmax).Build(seed: 2);
        var targets = new[] { new[] { 1.0, 0.0 }, new[] { 0.0, 1.0 }, new[] { 0.0, 1.0 }, new[] { 1.0, 0.0 } };
        var gradients = network.ComputeGradients(XorInputs, targets, Loss.CrossEntropy);
        Assert.Equal(2, gradients.Layers.Count);
        Assert.Equal(3, gradients.Layers[0].Weights.GetLength(0));
        Assert.Equal(2, gradients.Layers[0].Weights.GetLength(1));
        Assert.Equal(network.Evaluate(XorInputs, targets, Loss.CrossEntropy).Loss, gradients.Loss, 15);
        var check = network.CheckGradients(XorInputs, targets, Loss.CrossEntropy);
        Assert.True(check.MaxRelativeError < 1e-6, $"{check}");
        Assert.Equal(network.ParameterCount, check.Checked);
    }

    [Fact]
    public void ALearningRateThatBlowsUpThrowsWithTheLastFiniteNetwork()
    {
        var network = NeuralNetwork.Create(2).Dense(2, Activation.Identity).Build(seed: 1);
        var targets = XorInputs.Select(x => new[] { x[0] * 1000, x[1] * 1000 }).ToArray();
        var e = Assert.Throws<TrainingDivergedException<double>>(() =>
            network.Fit(XorInputs, targets, new FitOptions { Epochs = 100, BatchSize = 1, Optimizer = Optimizer.Sgd(1e6) }));
        Assert.True(e.Step >= 1);
        Assert.All(e.LastFiniteNetwork.GetWeights(0).Cast<double>(), w => Assert.True(double.IsFinite(w)));
    }

    [Fact]
    public void EarlyStoppingReturnsTheBestEpochsNetwork()
    {
        // Validation labels are XOR's complement: learning XOR makes validation worse.
        var validation = Dataset<double>.FromLabels(XorInputs, new[] { 1, 0, 0, 1 }, 2, singleOutput: true);
        var result = XorNetwork().Fit(XorInputs, XorLabels, XorOptions() with { ValidationData = validation, EarlyStoppingPatience = 5 });
        Assert.Equal(StopReason.NoImprovement, result.Stopped);
        var best = result.History.MinBy(r => r.ValidationLoss!.Value)!;
        Assert.Equal(best.Epoch, result.Checkpoint.Epoch);
        Assert.Equal(best.ValidationLoss!.Value, result.Network.Evaluate(validation, Loss.BinaryCrossEntropy).Loss, 12);
    }

    [Fact]
    public void OptionsAreCheckedWhenSet()
    {
        Assert.Contains("0", Assert.Throws<ArgumentOutOfRangeException>(() => new FitOptions { BatchSize = 0 }).Message);
        Assert.Contains("-1", Assert.Throws<ArgumentOutOfRangeException>(() => new FitOptions { Epochs = -1 }).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new FitOptions { L2 = -0.1 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new FitOptions { EarlyStoppingPatience = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new FitOptions { WeightChangeTolerance = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => Optimizer.Sgd(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Optimizer.Adam(beta1: 1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Schedule.StepDecay(0.1, 2.0, 10));
    }

    [Fact]
    public void DataThatDoNotFitTheNetworkAreRefusedWithBothWidths()
    {
        var e = Assert.Throws<ArgumentException>(() => XorNetwork().Fit(new[] { new[] { 1.0, 2.0, 3.0 } }, new[] { new[] { 1.0 } }, XorOptions()));
        Assert.Contains("inputs of 2 values", e.Message);
        Assert.Contains("inputs[0] has 3", e.Message);
        Assert.Equal("inputs", e.ParamName);
        var labels = Assert.Throws<ArgumentOutOfRangeException>(() => XorNetwork().Fit(XorInputs, new[] { 0, 1, 2, 0 }, XorOptions()));
        Assert.Contains("labels[2] is 2", labels.Message);
    }

    [Fact]
    public void AScheduleInTheOptionsReplacesTheOptimizersRate()
    {
        var progress = new Recorder<EpochReport>();
        XorNetwork().Fit(XorInputs, XorLabels, new FitOptions { Epochs = 3, BatchSize = 4, Optimizer = Optimizer.Sgd(5.0), Schedule = Schedule.InverseTime(0.6) }, progress);
        // One step per epoch: ηₜ = 0.6/t.
        Assert.Equal(new double?[] { 0.6 / 1, 0.6 / 2, 0.6 / 3 }, progress.Reports.Select(r => r.LearningRate));
    }
}
