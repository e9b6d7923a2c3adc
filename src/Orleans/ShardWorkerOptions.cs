using System;

namespace FunctionalBackprop.Orleans;

/// <summary>
/// Limits a silo puts on the shard workers it hosts (<see cref="ShardWorkerHosting.AddShardWorkers"/>),
/// checked before anything is allocated: a coordinator, or anyone else who reaches the silo,
/// cannot make it hold more than this.
/// </summary>
public sealed class ShardWorkerOptions
{
    private long maxUploadBytes = 1L << 30;
    private TimeSpan idleTimeout = TimeSpan.FromMinutes(15);

    /// <summary>
    /// The most bytes one worker accepts for its run's upload (the model file and the training
    /// set): 1 GiB by default, at most <see cref="Array.MaxLength"/>. A run that needs more is
    /// refused at its start with an <see cref="ArgumentException"/> that says so.
    /// </summary>
    public long MaxUploadBytes
    {
        get => maxUploadBytes;
        set => maxUploadBytes = value >= 1 && value <= Array.MaxLength
            ? value
            : throw new ArgumentOutOfRangeException(nameof(MaxUploadBytes), value, $"The limit must lie between 1 and {Array.MaxLength} bytes, got {value}.");
    }

    /// <summary>
    /// How long a worker that nobody calls keeps its run's data (15 minutes by default): the
    /// workers of a coordinator that died are dropped after this, when the next run starts.
    /// </summary>
    public TimeSpan IdleTimeout
    {
        get => idleTimeout;
        set => idleTimeout = value > TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(IdleTimeout), value, $"The idle timeout must be positive, got {value}.");
    }
}
