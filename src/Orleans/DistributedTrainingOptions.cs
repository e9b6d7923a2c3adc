using System;
using FunctionalBackprop.Orleans.Wire;

namespace FunctionalBackprop.Orleans;

/// <summary>
/// How <see cref="DistributedTrainer"/> spreads a run over the cluster. Training itself (epochs,
/// batch size, shards, optimizer, seed) is set by the same <see cref="FitOptions{T}"/> as Fit.
/// </summary>
public sealed record DistributedTrainingOptions
{
    private readonly int? workers;
    private readonly TimeSpan callTimeout = TimeSpan.FromSeconds(30);
    private readonly int chunkBytes = 1 << 20;

    /// <summary>
    /// How many worker grains compute the shards, spread over the silos (one per silo while
    /// there are enough). When null (the default), one per shard: <see cref="FitOptions{T}.Shards"/>,
    /// which alone decides the bits of the result; the number of workers decides only how many
    /// machines share the work. When both are left to their defaults, there is one shard and one
    /// worker per live silo.
    /// </summary>
    public int? Workers
    {
        get => workers;
        init => workers = value is null or >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(Workers), value, $"A run needs at least 1 worker, got {value}.");
    }

    /// <summary>
    /// The longest the coordinator waits for any one answer from a worker (a chunk sent or
    /// read, a batch's shares computed) before it counts that worker as lost, gives its shards
    /// to the others and starts it again elsewhere: 30 seconds by default; also the longest it
    /// waits, when no worker is ready and none is starting, before it gives up. It must exceed the time a worker
    /// takes to compute its shards of one batch; a worker on a silo that stopped cleanly is
    /// usually noticed at once.
    /// </summary>
    public TimeSpan CallTimeout
    {
        get => callTimeout;
        init => callTimeout = value > TimeSpan.Zero && value.TotalMilliseconds <= int.MaxValue
            ? value
            : throw new ArgumentOutOfRangeException(nameof(CallTimeout), value, $"The timeout must be positive and at most {TimeSpan.FromMilliseconds(int.MaxValue)}, got {value}.");
    }

    /// <summary>
    /// The most bytes one message carries (1 MiB by default, between 4 KiB and 64 MiB): the
    /// training set, the parameters and the shares travel in chunks of this size, well below
    /// Orleans' message size limit.
    /// </summary>
    public int ChunkBytes
    {
        get => chunkBytes;
        init => chunkBytes = value is >= WorkerSetup.MinChunkBytes and <= WorkerSetup.MaxChunkBytes
            ? value
            : throw new ArgumentOutOfRangeException(nameof(ChunkBytes), value, $"A chunk must hold between {WorkerSetup.MinChunkBytes} and {WorkerSetup.MaxChunkBytes} bytes, got {value}.");
    }

    /// <summary>
    /// Told when a worker starts (with its silo) and when one is lost (with the reason), on the
    /// training thread, in step with training.
    /// </summary>
    public IProgress<WorkerEvent>? Events { get; init; }
}
