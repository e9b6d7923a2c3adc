using System;
using System.Linq;
using Xunit;

namespace FunctionalBackprop.Tests.Facade;

/// <summary>Schedules given per epoch or over the whole run are the step schedules training converts them to.</summary>
public class ScheduleTests
{
    private static readonly double[][] Inputs = Enumerable.Range(0, 10).Select(j => new[] { j / 10.0, 1 - (j / 10.0) }).ToArray();
    private static readonly int[] Labels = Enumerable.Range(0, 10).Select(j => j % 2).ToArray();

    private static NeuralNetwork<double> Network() => NeuralNetwork.Create(2).Dense(3, Activation.Tanh).Dense(1, Activation.Sigmoid).Build(seed: 3);

    [Fact]
    public void ACosineOverTheRunIsTheCosineOverEveryStepOfIt()
    {
        // 10 examples in batches of 3: 4 steps per epoch, 6 epochs, 24 steps.
        var run = Schedule.Cosine(0.5, 0.005);
        Assert.Equal(ScheduleUnit.Epochs, run.Unit);
        var steps = Schedule.Cosine(0.5, 0.005, 24);
        Assert.All(Enumerable.Range(1, 30), t => Assert.Equal(steps.RateAt(t), run.ForTraining(4, 6).RateAt(t)));
        var options = new FitOptions { Epochs = 6, BatchSize = 3, Seed = 5 };
        var byRun = Network().Fit(Inputs, Labels, options with { Optimizer = Optimizer.HeavyBall(run) });
        var bySteps = Network().Fit(Inputs, Labels, options with { Optimizer = Optimizer.HeavyBall(steps) });
        Assert.Equal(bySteps.Network.GetWeights(0), byRun.Network.GetWeights(0));
        Assert.Equal(bySteps.Checkpoint.OptimizerName, byRun.Checkpoint.OptimizerName);
        Assert.Equal(bySteps.History.Select(r => r.LearningRate), byRun.History.Select(r => r.LearningRate));
    }

    [Fact]
    public void DecaysCountedInEpochsChangeTheRateOnlyBetweenEpochs()
    {
        var halving = Schedule.StepDecay(0.8, 0.5, every: 2, ScheduleUnit.Epochs).ForTraining(stepsPerEpoch: 4, epochs: 10);
        Assert.Equal(new[] { 0.8, 0.8, 0.4, 0.4, 0.2 }, new long[] { 1, 8, 9, 16, 17 }.Select(halving.RateAt));
        var exponential = Schedule.Exponential(0.8, 0.5, ScheduleUnit.Epochs).ForTraining(4, 10);
        Assert.Equal(new[] { 0.8, 0.8, 0.4, 0.4, 0.2 }, new long[] { 1, 4, 5, 8, 9 }.Select(exponential.RateAt));
        var cosine = Schedule.Cosine(0.5, 0.1, 3, ScheduleUnit.Epochs).ForTraining(4, 10);
        Assert.Equal(Schedule.Cosine(0.5, 0.1, 12).RateAt(7), cosine.RateAt(7));
    }

    [Fact]
    public void TheEpochReportsShowTheConvertedRates()
    {
        var progress = new TrainingProgress();
        var result = Network().Fit(Inputs, Labels, new FitOptions { Epochs = 4, BatchSize = 5, Optimizer = Optimizer.Sgd(Schedule.Exponential(0.4, 0.5, ScheduleUnit.Epochs)) }, progress);
        Assert.Equal(new double?[] { 0.4, 0.2, 0.1, 0.05 }, result.History.Select(r => r.LearningRate));
    }

    [Fact]
    public void ASchedulesNameSaysWhatItCounts()
    {
        Assert.Equal("cosine(0.05 → 0.0005 over the run)", Schedule.Cosine(0.05, 0.0005).ToString());
        Assert.Equal("step-decay(0.1, ×0.5 every 10 epochs)", Schedule.StepDecay(0.1, 0.5, 10, ScheduleUnit.Epochs).ToString());
        Assert.Equal("heavy-ball(cosine(0.05 → 0.0005 over the run), β = 0.9)", Optimizer.HeavyBall(Schedule.Cosine(0.05, 0.0005)).Name);
        Assert.Equal("cosine(0.05 → 0.0005 over 100)", Schedule.Cosine(0.05, 0.0005, 100).ToString());
    }

    [Fact]
    public void ARatePerStepNeedsTheRunForASchedulePerEpoch()
    {
        Assert.Contains("ForTraining", Assert.Throws<InvalidOperationException>(() => Schedule.Cosine(0.1, 0.01).RateAt(1)).Message);
        Assert.Equal(0.1, Schedule.Constant(0.1).RateAt(7));
    }

    [Theory]
    [InlineData("final")]
    [InlineData("length")]
    [InlineData("initial")]
    [InlineData("factor")]
    [InlineData("every")]
    public void BadParametersAreRefusedUnderTheirNames(string parameter)
    {
        Action make = parameter switch
        {
            "final" => () => Schedule.Cosine(0.1, 0.2, 10, ScheduleUnit.Epochs),
            "length" => () => Schedule.Cosine(0.1, 0.01, 0),
            "initial" => () => Schedule.Cosine(-0.1, 0.01),
            "factor" => () => Schedule.Exponential(0.1, 1.5, ScheduleUnit.Epochs),
            _ => () => Schedule.StepDecay(0.1, 0.5, 0, ScheduleUnit.Epochs),
        };
        Assert.Equal(parameter, Assert.Throws<ArgumentOutOfRangeException>(make).ParamName);
    }
}
