using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;

namespace FunctionalBackprop.Orleans.Tests;

/// <summary>The runs the tests compare: a small MNIST problem, its options, and a run's bits.</summary>
internal static class Runs
{
    /// <summary>A few hundred digits: enough for 30 batches of 10 per epoch, small enough to train in a second.</summary>
    public static readonly Dataset<double> Data = Digits.Training(300);

    public static readonly Dataset<double> Validation = Digits.Test(100);

    /// <summary>Nielsen's 784-30-10 sigmoid network.</summary>
    public static NeuralNetwork<double> Network() =>
        NeuralNetwork.Create(784).Dense(30, Activation.Sigmoid).Dense(10, Activation.Sigmoid).Build<double>(seed: 3);

    /// <summary>The same network with dropout on its inputs and after its hidden layer (the same initial weights: dropout has none).</summary>
    public static NeuralNetwork<double> DropoutNetwork() =>
        NeuralNetwork.Create(784).Dropout(0.2).Dense(30, Activation.Sigmoid).Dropout(0.5).Dense(10, Activation.Sigmoid).Build<double>(seed: 3);

    /// <summary>
    /// A network whose training carries every kind of state: batch normalisation's running
    /// statistics (the workers' shares report the statistics of their examples) and dropout's masks.
    /// </summary>
    public static NeuralNetwork<double> BatchNormNetwork() =>
        NeuralNetwork.Create(784).Dense(30, Activation.Identity).BatchNorm().Activation(Activation.Sigmoid).Dropout(0.5).Dense(10, Activation.Sigmoid).Build<double>(seed: 3);

    /// <summary>Two epochs of mini-batches of 10 with momentum (a state that the checkpoint must carry), split into <paramref name="shards"/> shards.</summary>
    public static FitOptions<double> Options(int shards, int epochs = 2) => new()
    {
        Epochs = epochs,
        BatchSize = 10,
        Shards = shards,
        Seed = 11,
        Loss = Loss.Quadratic,
        Optimizer = Optimizer.Momentum(Schedule.Constant(0.5), 0.9),
        ValidationData = Validation,
    };

    /// <summary>Every bit of a checkpoint: the network, the optimizer's state, the epoch and the step.</summary>
    public static byte[] Bytes(TrainingCheckpoint<double> checkpoint)
    {
        using var stream = new MemoryStream();
        checkpoint.Save(stream);
        return stream.ToArray();
    }

    /// <summary>Every bit of a network's parameters (its model file).</summary>
    public static byte[] Bytes(NeuralNetwork<double> network)
    {
        using var stream = new MemoryStream();
        network.Save(stream);
        return stream.ToArray();
    }

    /// <summary>A history's numbers, as bits (the elapsed times left out).</summary>
    public static long[] Bits(IEnumerable<EpochReport> history) => FunctionalBackprop.Testing.Bits.Of(history);
}

/// <summary>Worker events as they were told, in order.</summary>
internal sealed class WorkerEvents : IProgress<WorkerEvent>
{
    private readonly List<WorkerEvent> events = new();

    public IReadOnlyList<WorkerEvent> All { get { lock (events) { return events.ToArray(); } } }

    public IReadOnlyList<WorkerEvent> Started => All.Where(e => e.Kind == WorkerEventKind.Started).ToArray();

    public IReadOnlyList<WorkerEvent> Lost => All.Where(e => e.Kind == WorkerEventKind.Lost).ToArray();

    public void Report(WorkerEvent value)
    {
        lock (events)
        {
            events.Add(value);
        }
    }
}

/// <summary>Progress that runs an action after a given batch (on the training thread, in step with training).</summary>
internal sealed class AtBatch(int epoch, int batch, Action action) : IProgress<EpochReport>, IProgress<BatchReport>
{
    public int Fired { get; private set; }

    public void Report(EpochReport value)
    {
    }

    public void Report(BatchReport value)
    {
        if (value.Epoch == epoch && value.Batch == batch)
        {
            Fired++;
            action();
        }
    }
}
