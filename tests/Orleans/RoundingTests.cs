using System;
using System.Linq;
using FunctionalBackprop.Properties;
using Xunit;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop.Orleans.Tests;

/// <summary>Training on the cluster against plain training in one shard: the same within the rounding of the sum.</summary>
[Collection(ClusterCollection.Name)]
public sealed class RoundingTests(ClusterFixture fixture)
{
    [Fact]
    public void OneStepOnThreeWorkersEqualsTheOneShardStepWithinTheSummationsRounding()
    {
        // One step of batch descent with η = 1 on 100 digits: w₁ = w₀ − ∇C, the gradient
        // computed in 3 shards on the cluster, or in one in this process. Each gradient lies
        // within ε·bound of the exact one (RoundingBound: the worst case of any summation order,
        // the reasoning of ShardsProperties), so within 2ε·bound of each other; w₀ − ∇C then
        // rounds once each (half an ulp of w₁ each).
        var data = Digits.Training(100);
        var options = new FitOptions<double> { Epochs = 1, BatchSize = 100, Loss = Loss.Quadratic, Optimizer = Optimizer.Sgd(Schedule.Constant(1.0)), Seed = 1 };
        var network = Runs.Network();
        var sharded = new DistributedTrainer(fixture.Client).Fit(network, data, options with { Shards = 3 }).Network;
        var oneShard = network.Fit(data, options with { Shards = 1 }).Network;

        var bound = RoundingBound.gradient(Math.Pow(2, -52), FunctionalBackprop.Core.Mode.Inference, FunctionalBackprop.Core.Loss.Quadratic, CoreNetwork(network), Columns(data.GetInputs()), Columns(data.GetTargets()));
        var a = Parameters(sharded);
        var b = Parameters(oneShard);
        for (var i = 0; i < a.Length; i++)
        {
            var allowed = 2 * Math.Pow(2, -52) * bound[i] + Math.BitIncrement(Math.Abs(a[i])) - Math.Abs(a[i]);
            Assert.True(Math.Abs(a[i] - b[i]) <= allowed, $"parameter {i}: 3 shards {a[i]:R}, one shard {b[i]:R}, allowed {allowed:R}");
        }
    }

    /// <summary>The parameters in the core's order: each layer's weights column by column, then its biases.</summary>
    private static double[] Parameters(NeuralNetwork<double> network) =>
        Enumerable.Range(0, network.Layers.Count).SelectMany(l =>
        {
            var w = network.GetWeights(l);
            var columnMajor = Enumerable.Range(0, w.GetLength(1)).SelectMany(k => Enumerable.Range(0, w.GetLength(0)).Select(i => w[i, k]));
            return columnMajor.Concat(network.GetBiases(l));
        }).ToArray();

    private static Core.Network<double> CoreNetwork(NeuralNetwork<double> network) =>
        FunctionalBackprop.Core.Network.ofDense(Enumerable.Range(0, network.Layers.Count).Select(l =>
            FunctionalBackprop.Core.Dense.create(FunctionalBackprop.Core.Matrix.ofArray2D(network.GetWeights(l)), FunctionalBackprop.Core.Matrix.ofVector(network.GetBiases(l)), FunctionalBackprop.Core.Activation.Sigmoid)));

    private static Core.Matrix<double> Columns(double[][] columns) => FunctionalBackprop.Core.Matrix.ofColumns(columns);
}
