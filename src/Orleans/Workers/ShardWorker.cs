using System;
using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using FunctionalBackprop.Orleans.Wire;
using Orleans;
using Orleans.Runtime;

namespace FunctionalBackprop.Orleans.Workers;

/// <summary>
/// A worker grain (see <see cref="IShardWorker"/>). Its state lives in memory only: a worker
/// whose silo stopped comes back, if called again, empty, and says so (false, null, or Ready
/// false), and the coordinator gives its shards to another worker.
/// </summary>
[SpreadPlacement]
internal sealed class ShardWorker(ILocalSiloDetails silo) : Grain, IShardWorker
{
    private WorkerSetup? setup;
    private byte[]? upload;
    private long uploaded;
    private IWorkerState? state;

    // The shares of the last compute, kept for ReadShare until the next one.
    private long sharesVersion = -1;
    private Dictionary<int, byte[]> shares = new();

    public Task<string> BeginAsync(WorkerSetup setup)
    {
        RawBytes.CheckLittleEndian();
        if (setup.UploadBytes > Array.MaxLength)
        {
            throw new ArgumentException($"The training set and network take {setup.UploadBytes} bytes, more than one worker holds ({Array.MaxLength}).", nameof(setup));
        }

        this.setup = setup;
        upload = new byte[setup.UploadBytes];
        uploaded = 0;
        state = null;
        return Task.FromResult(silo.SiloAddress.ToParsableString());
    }

    public Task<bool> UploadAsync(long offset, byte[] chunk)
    {
        if (upload is null)
        {
            return Task.FromResult(false);
        }

        chunk.CopyTo(upload.AsSpan(checked((int)offset)));
        uploaded += chunk.Length;
        return Task.FromResult(true);
    }

    public Task<bool> SealAsync()
    {
        if (setup is null || upload is null || uploaded != upload.Length || !SHA256.HashData(upload).AsSpan().SequenceEqual(setup.Sha256))
        {
            return Task.FromResult(false);
        }

        state = setup.RealSize == sizeof(double) ? new WorkerState<double>(setup, upload) : new WorkerState<float>(setup, upload);
        upload = null;
        return Task.FromResult(true);
    }

    public Task<bool> PutWeightsAsync(long version, long offset, byte[] chunk)
    {
        if (state is null)
        {
            return Task.FromResult(false);
        }

        state.PutWeights(version, offset, chunk);
        return Task.FromResult(true);
    }

    public Task<ComputeReply> ComputeAsync(ComputeRequest request)
    {
        if (state is null)
        {
            return Task.FromResult(new ComputeReply(false, Array.Empty<ShareReply>()));
        }

        if (request.Weights is { } weights)
        {
            state.PutWeights(request.Version, 0, weights);
        }

        if (!state.HasWeights(request.Version))
        {
            return Task.FromResult(new ComputeReply(false, Array.Empty<ShareReply>()));
        }

        var computed = state.Compute(request.BatchExamples, request.Shards, request.Seed, request.Step);
        sharesVersion = request.Version;
        shares = computed.ToDictionary(s => s.Shard, s => s.Share);
        // The shares travel in the reply when they fit in one chunk together; otherwise the
        // coordinator reads them chunk by chunk.
        var inline = computed.Sum(s => (long)s.Share.Length) <= setup!.ChunkBytes;
        return Task.FromResult(new ComputeReply(true, computed.Select(s => new ShareReply(s.Shard, s.Total, s.Share.Length, inline ? s.Share : null, s.Statistics)).ToArray()));
    }

    public Task<byte[]?> ReadShareAsync(long version, int shard, long offset)
    {
        if (version != sharesVersion || !shares.TryGetValue(shard, out var share))
        {
            return Task.FromResult<byte[]?>(null);
        }

        var n = RawBytes.ChunkAt(share.Length, offset, setup!.ChunkBytes);
        return Task.FromResult<byte[]?>(share.AsSpan((int)offset, n).ToArray());
    }

    public Task StopAsync()
    {
        setup = null;
        upload = null;
        state = null;
        shares = new();
        this.DeactivateOnIdle();
        return Task.CompletedTask;
    }
}
