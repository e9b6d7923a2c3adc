using System;
using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography;
using System.Threading;
using FunctionalBackprop.Orleans.Wire;

namespace FunctionalBackprop.Orleans.Workers;

/// <summary>
/// One worker of one run on a silo (see <see cref="IShardWorkers"/>): its upload, then its
/// training set and parameters, and the shares of its last computation. It lives in memory only:
/// a silo that restarts holds no worker, says so (false, null, or Ready false), and the
/// coordinator starts the worker again. One call at a time (<see cref="Gate"/>).
/// </summary>
internal sealed class ShardWorker
{
    private readonly byte[] token;
    private readonly WorkerSetup setup;
    private byte[]? upload;
    private readonly bool[] received;
    private IWorkerState? state;

    // The shares of the last compute, kept for ReadShare until the next one.
    private long sharesVersion = -1;
    private Dictionary<int, byte[]> shares = new();

    /// <summary>A worker for <paramref name="setup"/> (checked already), with room for its upload.</summary>
    public ShardWorker(byte[] token, WorkerSetup setup)
    {
        this.token = token.ToArray();
        this.setup = setup;
        upload = new byte[setup.UploadBytes];
        received = new bool[RawBytes.Chunks(setup.UploadBytes, setup.ChunkBytes).Count()];
        Touch();
    }

    /// <summary>The training set and parameters, once sealed (for tests that look inside).</summary>
    internal IWorkerState? State => state;

    /// <summary>Held by each call while it runs.</summary>
    public SemaphoreSlim Gate { get; } = new(1, 1);

    /// <summary>When it was last called (<see cref="Environment.TickCount64"/>).</summary>
    public long LastCalled { get; private set; }

    public void Touch() => LastCalled = Environment.TickCount64;

    /// <summary>Whether <paramref name="presented"/> is this worker's token (compared in constant time).</summary>
    public bool Accepts(byte[] presented) => CryptographicOperations.FixedTimeEquals(presented, token);

    public bool Upload(long offset, byte[] chunk)
    {
        if (upload is null)
        {
            return false;
        }

        var index = ChunkIndex(setup.UploadBytes, offset, chunk.Length, "upload");
        chunk.CopyTo(upload.AsSpan((int)offset));
        received[index] = true;
        return true;
    }

    public bool Seal()
    {
        if (state is not null)
        {
            return true;
        }

        if (upload is null || !received.All(r => r) || !SHA256.HashData(upload).AsSpan().SequenceEqual(setup.Sha256))
        {
            return false;
        }

        state = setup.RealSize == sizeof(double) ? new WorkerState<double>(setup, upload) : new WorkerState<float>(setup, upload);
        upload = null;
        return true;
    }

    public bool PutWeights(long version, long offset, byte[] chunk)
    {
        if (state is null)
        {
            return false;
        }

        state.PutWeights(version, ChunkIndex(state.ParameterBytes, offset, chunk.Length, "parameters"), offset, chunk);
        return true;
    }

    public ComputeReply Compute(ComputeRequest request)
    {
        if (state is null)
        {
            return new ComputeReply(false, Array.Empty<ShareReply>());
        }

        if (request.Weights is { } weights)
        {
            if (weights.Length != state.ParameterBytes)
            {
                throw new ArgumentException($"The parameters sent with the request hold {weights.Length} bytes; this network has {state.ParameterBytes}.", nameof(request));
            }

            state.PutWeights(request.Version, 0, 0, weights);
        }

        if (!state.HasWeights(request.Version))
        {
            return new ComputeReply(false, Array.Empty<ShareReply>());
        }

        var computed = state.Compute(request.BatchExamples, request.Shards, request.Seed, request.Step);
        sharesVersion = request.Version;
        shares = computed.ToDictionary(s => s.Shard, s => s.Share);
        // The shares travel in the reply when they fit in one chunk together; otherwise the
        // coordinator reads them chunk by chunk.
        var inline = computed.Sum(s => (long)s.Share.Length) <= setup.ChunkBytes;
        return new ComputeReply(true, computed.Select(s => new ShareReply(s.Shard, s.Total, s.Share.Length, inline ? s.Share : null, s.Statistics)).ToArray());
    }

    public byte[]? ReadShare(long version, int shard, long offset)
    {
        if (version != sharesVersion || !shares.TryGetValue(shard, out var share))
        {
            return null;
        }

        var length = offset >= 0 && offset < share.Length ? RawBytes.ChunkAt(share.Length, offset, setup.ChunkBytes) : 0;
        ChunkIndex(share.Length, offset, length, "share");
        return share.AsSpan((int)offset, length).ToArray();
    }

    /// <summary>The index of the chunk at <paramref name="offset"/>, which must be a chunk of the transfer exactly as <see cref="RawBytes.Chunks"/> cuts it.</summary>
    private int ChunkIndex(long total, long offset, int length, string what) =>
        offset >= 0 && offset < total && offset % setup.ChunkBytes == 0 && length == RawBytes.ChunkAt(total, offset, setup.ChunkBytes)
            ? (int)(offset / setup.ChunkBytes)
            : throw new ArgumentOutOfRangeException(nameof(offset), offset, $"A chunk of the {what} must start at a multiple of {setup.ChunkBytes} bytes below {total} and run to the next one (or the end); got {length} bytes at {offset}.");
}
