using System;
using System.Numerics;
using System.Threading;
using System.Threading.Tasks;
using FunctionalBackprop.Orleans.Coordinator;
using Microsoft.FSharp.Core;
using Orleans;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop.Orleans;

/// <summary>
/// Trains networks as <see cref="NeuralNetwork{T}.Fit(Dataset{T}, FitOptions{T}?, IProgress{EpochReport}?, CancellationToken)"/>
/// does, with each mini-batch's shards computed by workers spread over an Orleans cluster
/// (silos set up with <see cref="ShardWorkerHosting.AddShardWorkers"/>). This process is the
/// coordinator: it owns the network and the optimizer's state, shuffles and batches as Fit does,
/// sends each step's parameters to the workers, adds their shares in shard order and takes the
/// step. So a run equals <c>Fit</c> with the same <see cref="FitOptions{T}.Shards"/> bit for bit
/// (given the same matrix product provider and BLAS threads on every machine), whatever the
/// number of workers and whichever of them fail: a worker that stops answering is counted lost,
/// its shards are computed again by the others, and it starts again on a live silo. The same
/// options, progress reports, cancellation, stopping rules and checkpoints as Fit.
/// </summary>
public sealed class DistributedTrainer
{
    private readonly IClusterClient client;

    /// <summary>A trainer on the cluster <paramref name="client"/> is connected to.</summary>
    /// <param name="client">A started client of a cluster whose silos host shard workers.</param>
    /// <param name="options">How to spread runs over the cluster; the defaults when null.</param>
    public DistributedTrainer(IClusterClient client, DistributedTrainingOptions? options = null)
    {
        this.client = client ?? throw new ArgumentNullException(nameof(client));
        Options = options ?? new DistributedTrainingOptions();
    }

    /// <summary>How runs are spread over the cluster.</summary>
    public DistributedTrainingOptions Options { get; }

    /// <summary>Trains a copy of <paramref name="network"/> on the cluster and returns it with its history, as Fit does.</summary>
    /// <typeparam name="T">double or float.</typeparam>
    /// <param name="network">The network to start from (unchanged).</param>
    /// <param name="data">The training examples: sent once to every worker when the run starts.</param>
    /// <param name="options">How to train, as for Fit; the defaults when null. <see cref="FitOptions{T}.Shards"/> is the number of shards per batch, which decides the bits of the result; 0 (the default) means one per worker (<see cref="DistributedTrainingOptions.Workers"/>, else one per live silo).</param>
    /// <param name="progress">Told after every epoch (and batch, see Fit), on the training thread.</param>
    /// <param name="cancellationToken">Stops training between batches; the result then holds what was learned so far.</param>
    /// <exception cref="ArgumentException">The data do not fit the network, or an option is unusable (as for Fit).</exception>
    /// <exception cref="TrainingDivergedException{T}">The loss stopped being finite; it carries the last finite network.</exception>
    /// <exception cref="NoLiveWorkerException{T}">No worker was left to compute a batch; it carries the network of the last completed step.</exception>
    public FitResult<T> Fit<T>(NeuralNetwork<T> network, Dataset<T> data, FitOptions<T>? options = null, IProgress<EpochReport>? progress = null, CancellationToken cancellationToken = default)
        where T : IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        return Train(network, Examples<T>.Of(data, nameof(data)), options ?? new FitOptions<T>(), null, progress, cancellationToken);
    }

    /// <summary>Continues training from a checkpoint on the cluster, exactly as the uninterrupted run would have (as <see cref="TrainingCheckpoint{T}.Resume"/>).</summary>
    /// <typeparam name="T">double or float.</typeparam>
    /// <param name="checkpoint">Where to continue from: a run's result, or a saved one loaded again.</param>
    /// <param name="data">The same training examples as before.</param>
    /// <param name="options">The same options as before; Epochs may be raised.</param>
    /// <param name="progress">Told after every epoch (and batch), on the training thread.</param>
    /// <param name="cancellationToken">Stops training between batches.</param>
    /// <exception cref="ArgumentException">The options' optimizer is not the checkpoint's, or the data do not fit.</exception>
    /// <exception cref="NoLiveWorkerException{T}">No worker was left to compute a batch.</exception>
    public FitResult<T> Resume<T>(TrainingCheckpoint<T> checkpoint, Dataset<T> data, FitOptions<T> options, IProgress<EpochReport>? progress = null, CancellationToken cancellationToken = default)
        where T : IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentNullException.ThrowIfNull(options);
        return Train(checkpoint.Network, Examples<T>.Of(data, nameof(data)), options, checkpoint, progress, cancellationToken);
    }

    /// <summary><see cref="Fit{T}"/> on a thread of its own, which is then the training thread that progress is told on.</summary>
    /// <typeparam name="T">double or float.</typeparam>
    /// <param name="network">The network to start from.</param>
    /// <param name="data">The training examples.</param>
    /// <param name="options">How to train; the defaults when null.</param>
    /// <param name="progress">Told after every epoch (and batch), on the training thread.</param>
    /// <param name="cancellationToken">Stops training between batches.</param>
    public Task<FitResult<T>> FitAsync<T>(NeuralNetwork<T> network, Dataset<T> data, FitOptions<T>? options = null, IProgress<EpochReport>? progress = null, CancellationToken cancellationToken = default)
        where T : IFloatingPointIeee754<T> =>
        OnOwnThread(() => Fit(network, data, options, progress, cancellationToken), cancellationToken);

    /// <summary><see cref="Resume{T}"/> on a thread of its own.</summary>
    /// <typeparam name="T">double or float.</typeparam>
    /// <param name="checkpoint">Where to continue from.</param>
    /// <param name="data">The same training examples as before.</param>
    /// <param name="options">The same options as before.</param>
    /// <param name="progress">Told after every epoch (and batch), on the training thread.</param>
    /// <param name="cancellationToken">Stops training between batches.</param>
    public Task<FitResult<T>> ResumeAsync<T>(TrainingCheckpoint<T> checkpoint, Dataset<T> data, FitOptions<T> options, IProgress<EpochReport>? progress = null, CancellationToken cancellationToken = default)
        where T : IFloatingPointIeee754<T> =>
        OnOwnThread(() => Resume(checkpoint, data, options, progress, cancellationToken), cancellationToken);

    // The training thread waits on the network for every batch: a thread of its own, not one of the pool's.
    private static Task<FitResult<T>> OnOwnThread<T>(Func<FitResult<T>> train, CancellationToken cancellationToken)
        where T : IFloatingPointIeee754<T> =>
        Task.Factory.StartNew(train, cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>Fit's own translation (NeuralNetwork.Train) with the shards computed by the cluster's workers.</summary>
    private FitResult<T> Train<T>(NeuralNetwork<T> network, Examples<T> examples, FitOptions<T> options, TrainingCheckpoint<T>? resume, IProgress<EpochReport>? progress, CancellationToken cancellationToken)
        where T : IFloatingPointIeee754<T>
    {
        network = resume is null ? network.ForTraining(examples, options) : network;
        var loss = options.Loss ?? network.DefaultLoss;
        var position = new RunPosition(resume?.Epoch ?? 0, resume?.Step ?? 0, Core.Batches.perEpoch(Math.Max(1, examples.Data.Count), options.BatchSize));
        if (options.Shards == 0)
        {
            options = options with { Shards = Options.Workers ?? OrleansShardExecutor<T>.LiveSiloCount(client, Options, network, position) };
        }
        var start = FuncConvert.FromFunc<Core.Matrix<T>, Core.Matrix<T>, int, Core.IShardExecutor<T>>((x, y, shards) =>
            OrleansShardExecutor<T>.Start(client, Options, network, loss, x, y, shards, position, network.WithCore));
        return network.Train(examples, options, resume, progress, Core.ShardExecution<T>.NewRemote(start), cancellationToken);
    }
}
