using System;
using System.Numerics;

namespace FunctionalBackprop.Orleans;

/// <summary>
/// Thrown when a distributed run has no worker left to compute a batch's shards: every silo
/// stopped, or none answered within <see cref="DistributedTrainingOptions.CallTimeout"/>.
/// </summary>
public class NoLiveWorkerException : Exception
{
    /// <summary>A run that stopped at the given epoch with the given steps completed.</summary>
    /// <param name="message">What happened.</param>
    /// <param name="epoch">The epoch under way, from 1.</param>
    /// <param name="step">Optimizer steps completed.</param>
    /// <param name="inner">The last worker's failure.</param>
    public NoLiveWorkerException(string message, int epoch, long step, Exception? inner = null)
        : base(message, inner)
    {
        Epoch = epoch;
        Step = step;
    }

    /// <summary>The epoch under way, from 1.</summary>
    public int Epoch { get; }

    /// <summary>Optimizer steps completed: those of the network the exception carries.</summary>
    public long Step { get; }
}

/// <summary>A run with no live worker, with the network of its last completed step.</summary>
/// <typeparam name="T">double or float.</typeparam>
public sealed class NoLiveWorkerException<T> : NoLiveWorkerException
    where T : IFloatingPointIeee754<T>
{
    /// <summary>A run that stopped with <paramref name="lastNetwork"/> after <paramref name="step"/> steps.</summary>
    /// <param name="message">What happened.</param>
    /// <param name="lastNetwork">The network after the last completed step.</param>
    /// <param name="epoch">The epoch under way, from 1.</param>
    /// <param name="step">Optimizer steps completed.</param>
    /// <param name="inner">The last worker's failure.</param>
    public NoLiveWorkerException(string message, NeuralNetwork<T> lastNetwork, int epoch, long step, Exception? inner = null)
        : base(message, epoch, step, inner)
    {
        LastNetwork = lastNetwork;
    }

    /// <summary>The network after the last step that completed: nothing learned before the cluster failed is lost.</summary>
    public NeuralNetwork<T> LastNetwork { get; }
}
