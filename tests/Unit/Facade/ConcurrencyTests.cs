using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.FSharp.Core;
using FunctionalBackprop.Tests.Support;
using FunctionalBackprop.Testing;
using Xunit;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop.Tests.Facade;

/// <summary>
/// One network shared by many threads, and several trainings at once, give exactly the bits of
/// the same calls made one after another, on the managed GEMM kernel and on the native BLAS.
/// </summary>
public sealed class ConcurrencyTests
{
    private const int Threads = 16;

    private static Core.IGemmProvider Provider(string name) => name switch
    {
        "managed" => Core.ManagedGemm.Instance,
        _ => Core.Gemm.native() is { } native
            ? native.Value
            : throw new InvalidOperationException("No native BLAS loaded; install libopenblas0-pthread as .ci/run does."),
    };

    /// <summary>Runs <paramref name="f"/> with every product on this thread going through the provider.</summary>
    private static TResult On<TResult>(string provider, Func<TResult> f) =>
        Core.Gemm.withProvider(Provider(provider), FuncConvert.FromFunc(f));

    private static double[][] Random(int seed, int count, int width)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, width).Select(_ => random.NextDouble() * 2 - 1).ToArray()).ToArray();
    }

    private static double[][] OneHot(int count, int classes) => Targets.OneHot(count, classes, j => j);

    /// <summary>Starts the actions on threads of their own at the same moment and waits for them all.</summary>
    private static void AllAtOnce(IReadOnlyList<Action> actions)
    {
        var failures = new ConcurrentQueue<Exception>();
        using var start = new Barrier(actions.Count);
        var threads = actions.Select(action => new Thread(() =>
        {
            try
            {
                start.SignalAndWait();
                action();
            }
            catch (Exception e)
            {
                failures.Enqueue(e);
            }
        })).ToArray();
        foreach (var t in threads)
        {
            t.Start();
        }

        foreach (var t in threads)
        {
            t.Join();
        }

        Assert.Empty(failures);
    }

    [Fact]
    public void SixteenThreadsPredictingAndComputingGradientsOnOneNetworkGetTheSequentialBits() => SixteenThreadsOnOneNetwork("managed");

    [NativeBlasFact]
    public void OnTheNativeBlasSixteenThreadsPredictingAndComputingGradientsOnOneNetworkGetTheSequentialBits() => SixteenThreadsOnOneNetwork("native");

    private static void SixteenThreadsOnOneNetwork(string provider)
    {
        // A small network (products on the caller's thread) and one whose first layer's products
        // (128 × 130 × 256 multiply-adds) pass the native provider's threading threshold, so
        // threaded BLAS calls, under its lock, run beside the small ones.
        var cases = new[]
        {
            (Network: NeuralNetwork.Create(12).Dense(16, Activation.Tanh).Dense(4, Activation.Softmax).Build(seed: 3), Inputs: Random(1, 24, 12), Targets: OneHot(24, 4)),
            (Network: NeuralNetwork.Create(256).Dense(128, Activation.ReLU).Dense(10, Activation.Softmax).Build(seed: 4), Inputs: Random(2, 130, 256), Targets: OneHot(130, 10)),
        };
        var expected = cases.Select(c => On(provider, () =>
            (Outputs: Bits.Of(c.Network.Predict(c.Inputs).SelectMany(r => r)),
             Single: Bits.Of(c.Network.Predict(c.Inputs[5])),
             Gradients: Bits.Of(c.Network.ComputeGradients(c.Inputs, c.Targets, Loss.CrossEntropy))))).ToArray();

        var actions = Enumerable.Range(0, Threads).Select(t => (Action)(() => On(provider, () =>
        {
            for (var round = 0; round < 3; round++)
            {
                // Threads take the cases and the operations in different orders.
                var k = (t + round) % cases.Length;
                var c = cases[k];
                if ((t + round) % 2 == 0)
                {
                    Assert.Equal(expected[k].Gradients, Bits.Of(c.Network.ComputeGradients(c.Inputs, c.Targets, Loss.CrossEntropy)));
                    Assert.Equal(expected[k].Outputs, Bits.Of(c.Network.Predict(c.Inputs).SelectMany(r => r)));
                }
                else
                {
                    Assert.Equal(expected[k].Single, Bits.Of(c.Network.Predict(c.Inputs[5])));
                    Assert.Equal(expected[k].Gradients, Bits.Of(c.Network.ComputeGradients(c.Inputs, c.Targets, Loss.CrossEntropy)));
                }
            }

            return 0;
        }))).ToList();
        AllAtOnce(actions);
    }

    [NativeBlasFact]
    public void OnTheNativeBlasAndTheManagedKernelAtOnceThreadsDoNotMixTheirResults()
    {
        // Each thread's provider scope is its own: half the threads on each, all at once.
        var network = NeuralNetwork.Create(12).Dense(16, Activation.Sigmoid).Dense(4, Activation.Softmax).Build(seed: 8);
        var inputs = Random(5, 40, 12);
        var targets = OneHot(40, 4);
        var expected = new[] { "managed", "native" }.ToDictionary(p => p, p => On(p, () => Bits.Of(network.ComputeGradients(inputs, targets, Loss.CrossEntropy))));
        var actions = Enumerable.Range(0, Threads).Select(t => (Action)(() =>
        {
            var provider = t % 2 == 0 ? "managed" : "native";
            for (var round = 0; round < 5; round++)
            {
                Assert.Equal(expected[provider], On(provider, () => Bits.Of(network.ComputeGradients(inputs, targets, Loss.CrossEntropy))));
            }
        })).ToList();
        AllAtOnce(actions);
    }

    [Fact]
    public void TrainingNetworksInParallelGivesWhatEachGivesAlone() => TrainingInParallel("managed");

    [NativeBlasFact]
    public void OnTheNativeBlasTrainingNetworksInParallelGivesWhatEachGivesAlone() => TrainingInParallel("native");

    private static void TrainingInParallel(string provider)
    {
        // Four trainings (two networks, each twice) at once, against each run alone.
        var inputs = Random(7, 64, 8);
        var labels = Enumerable.Range(0, 64).Select(j => inputs[j].Sum() > 0 ? 1 : 0).ToArray();
        var options = new FitOptions { Epochs = 10, BatchSize = 8, Seed = 2, Loss = Loss.BinaryCrossEntropy, Optimizer = Optimizer.Adam(0.01) };
        NeuralNetwork<double> Build(int seed) => NeuralNetwork.Create(8).Dense(12, Activation.Tanh).Dense(1, Activation.Sigmoid).Build(seed: seed);
        long[] Train(int seed) => On(provider, () => Bits.Of(Build(seed).Fit(inputs, labels, options).Network));
        var seeds = new[] { 21, 22, 21, 22 };
        var alone = seeds.Select(Train).ToArray();
        Assert.NotEqual(alone[0], alone[1]);
        var together = new long[seeds.Length][];
        AllAtOnce(seeds.Select((seed, k) => (Action)(() => together[k] = Train(seed))).ToList());
        for (var k = 0; k < seeds.Length; k++)
        {
            Assert.Equal(alone[k], together[k]);
        }
    }
}
