using System;
using System.Linq;
using FunctionalBackprop.Testing;
using Xunit;

namespace FunctionalBackprop.Tests.Facade;

/// <summary>Gradients into a buffer the caller owns: the allocating API's bits, with no allocation after the first call.</summary>
public sealed class GradientBufferTests
{
    private static double[][] Rows(int count, int width, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, width).Select(_ => random.NextDouble() * 2 - 1).ToArray()).ToArray();
    }

    private static double[][] OneHot(int count, int classes) => Targets.OneHot(count, classes, j => j * 7);

    [Fact]
    public void TheBufferHoldsTheBitsOfTheAllocatingGradientCallAfterCall()
    {
        var network = NeuralNetwork.Create(12).Dense(9, Activation.Tanh).Dense(4, Activation.Softmax).Build(seed: 3);
        var buffer = new GradientBuffer<double>(network, 6);
        foreach (var seed in new[] { 1, 2, 1 })
        {
            var (inputs, targets) = (Rows(6, 12, seed), OneHot(6, 4));
            var expected = network.ComputeGradients(inputs, targets);
            var loss = network.ComputeGradients(inputs, targets, buffer);
            Assert.Equal(expected.Loss, loss);
            Assert.Equal(loss, buffer.Loss);
            for (var l = 0; l < 2; l++)
            {
                var w = expected.Layers[l].Weights;
                var units = w.GetLength(0);
                var span = buffer.GetWeightGradient(l);
                for (var j = 0; j < units; j++)
                {
                    for (var k = 0; k < w.GetLength(1); k++)
                    {
                        Assert.Equal(BitConverter.DoubleToInt64Bits(w[j, k]), BitConverter.DoubleToInt64Bits(span[j + k * units]));
                    }
                }

                Assert.Equal(expected.Layers[l].Biases, buffer.GetBiasGradient(l).ToArray());
            }
        }
    }

    [Fact]
    public void TheScalerIsAppliedAsTheAllocatingCallAppliesIt()
    {
        var raw = Rows(8, 5, 4).Select(r => r.Select(v => 10 * v + 3).ToArray()).ToArray();
        var network = NeuralNetwork.Create(5).Dense(3, Activation.Sigmoid).Dense(1, Activation.Sigmoid).Build(seed: 2)
            .WithScaler(Scaler.FitStandard(Dataset<double>.FromArrays(raw, raw.Select(_ => new[] { 0.0 }).ToArray())));
        var targets = Enumerable.Range(0, 8).Select(j => new[] { j % 2 == 0 ? 1.0 : 0.0 }).ToArray();
        var buffer = new GradientBuffer<double>(network, 8);
        Assert.Equal(network.ComputeGradients(raw, targets).Loss, network.ComputeGradients(raw, targets, buffer));
    }

    [Fact]
    public void AfterItsFirstCallTheBufferAllocatesNothing()
    {
        var network = NeuralNetwork.Create(784).Dense(100, Activation.Sigmoid).Dense(10, Activation.Sigmoid).Build(seed: 1);
        var (inputs, targets) = (Rows(10, 784, 5), OneHot(10, 10));
        var buffer = new GradientBuffer<double>(network, 10);
        for (var i = 0; i < 3; i++)
        {
            network.ComputeGradients(inputs, targets, buffer, Loss.Quadratic);
        }

        // Seven windows of 400 calls. An allocation per call, however small (24 bytes for the
        // smallest object), adds at least 9,600 bytes to every window. The runtime allocates now
        // and then on the calling thread on its own (when tiered compilation swaps in a method's
        // optimised code, at moments its background compiler chooses), which touches a few
        // windows, not most of them: so the median window must stay far below a per-call allocation.
        var windows = new long[7];
        for (var w = 0; w < windows.Length; w++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 400; i++)
            {
                network.ComputeGradients(inputs, targets, buffer, Loss.Quadratic);
            }

            windows[w] = GC.GetAllocatedBytesForCurrentThread() - before;
        }

        Array.Sort(windows);
        Assert.True(windows[3] < 1024, $"bytes per window of 400 calls, sorted: {string.Join(", ", windows)}");
    }

    [Fact]
    public void BadBatchesAreRefusedInTheCallersTerms()
    {
        var network = NeuralNetwork.Create(3).Dense(2, Activation.Softmax).Build(seed: 1);
        var buffer = new GradientBuffer<double>(network, 2);
        var good = Rows(2, 3, 1);
        var targets = OneHot(2, 2);
        var e = Assert.Throws<ArgumentException>(() => network.ComputeGradients(Rows(3, 3, 1), OneHot(3, 2), buffer));
        Assert.Equal("inputs", e.ParamName);
        Assert.Contains("batches of 2", e.Message);
        e = Assert.Throws<ArgumentException>(() => network.ComputeGradients(new[] { good[0], new[] { 1.0, double.NaN, 0 } }, targets, buffer));
        Assert.Contains("inputs[1][1] is NaN", e.Message);
        e = Assert.Throws<ArgumentException>(() => network.ComputeGradients(good, new[] { new[] { 1.0, 0.0 }, new[] { -1.0, 0.0 } }, buffer, Loss.CrossEntropy));
        Assert.Equal("targets", e.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.GetWeightGradient(1));
    }
}
