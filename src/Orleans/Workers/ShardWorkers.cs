using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading.Tasks;
using FunctionalBackprop.Orleans.Wire;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Runtime;

namespace FunctionalBackprop.Orleans.Workers;

/// <summary>
/// A silo's shard workers (see <see cref="IShardWorkers"/>): a grain service, so one per silo,
/// reached at the silo's own address, holding the workers of every run by their tickets.
/// </summary>
internal sealed class ShardWorkers : GrainService, IShardWorkers
{
    /// <summary>The system target's type: with a silo's (or its gateway's) address it makes the target's id.</summary>
    public static readonly GrainType Type = SystemTargetGrainId.CreateGrainType("functionalbackprop-shard-workers");

    private readonly ConcurrentDictionary<string, ShardWorker> workers = new();
    private readonly ShardWorkerOptions options;
    private readonly string address;
    private readonly IGrainFactory grains;

    // The grain id Orleans' factory passes is made from its own hash of the interface's name: this
    // service takes a type of its own instead, which a client can name (SystemTargetGrainId.Create).
#pragma warning disable IDE0060, CS0618
    public ShardWorkers(GrainId grainId, Silo silo, ILoggerFactory loggerFactory, IOptions<ShardWorkerOptions> options, ILocalSiloDetails details, IGrainFactory grains)
        : base(SystemTargetGrainId.Create(Type, SiloAddress.Zero).GrainId, silo, loggerFactory)
#pragma warning restore IDE0060, CS0618
    {
        this.options = options.Value;
        this.grains = grains;
        address = details.SiloAddress.ToParsableString();
    }

    /// <summary>The workers this silo holds now (for tests that look inside one).</summary>
    internal ShardWorker[] Held => workers.Values.ToArray();

    /// <summary>The id of the shard workers at <paramref name="address"/>: a silo's gateway (the client then sends straight there) or a silo.</summary>
    public static GrainId At(SiloAddress address) => SystemTargetGrainId.Create(Type, address).GrainId;

    public Task<string> BeginAsync(WorkerTicket worker, WorkerSetup setup)
    {
        RawBytes.CheckLittleEndian();
        DropIdle();
        if (worker.Token is not { Length: >= 16 })
        {
            throw new ArgumentException("A worker's token must hold at least 16 bytes.", nameof(worker));
        }

        if (workers.TryGetValue(worker.Key, out var existing) && !existing.Accepts(worker.Token))
        {
            throw Refused(worker);
        }

        // Checked before the upload's room is allocated.
        setup.Check(options.MaxUploadBytes);
        workers[worker.Key] = new ShardWorker(worker.Token, setup);
        return Task.FromResult(address);
    }

    public Task<bool> UploadAsync(WorkerTicket worker, long offset, byte[] chunk) => With(worker, false, w => w.Upload(offset, chunk));

    public Task<bool> SealAsync(WorkerTicket worker) => With(worker, false, w => w.Seal(), offThread: true);

    public Task<bool> PutWeightsAsync(WorkerTicket worker, long version, long offset, byte[] chunk) => With(worker, false, w => w.PutWeights(version, offset, chunk));

    public Task<ComputeReply> ComputeAsync(WorkerTicket worker, ComputeRequest request) =>
        With(worker, new ComputeReply(false, Array.Empty<ShareReply>()), w => w.Compute(request), offThread: true);

    public Task<byte[]?> ReadShareAsync(WorkerTicket worker, long version, int shard, long offset) => With(worker, null, w => w.ReadShare(version, shard, offset));

    // Orleans' management grain is a stateless worker: it runs here, on this silo, and reads the table.
    public Task<MembershipEntry[]> SilosAsync() => grains.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: true);

    public Task StopAsync(WorkerTicket worker) =>
        With(worker, false, w => workers.TryRemove(new(worker.Key, w)));

    /// <summary>
    /// Runs <paramref name="call"/> on the worker the ticket names, one call at a time (on a
    /// thread of the pool when it computes, so that the silo's other workers compute at once);
    /// <paramref name="absent"/> when this silo holds no such worker; refused when the token is wrong.
    /// </summary>
    private async Task<TResult> With<TResult>(WorkerTicket ticket, TResult absent, Func<ShardWorker, TResult> call, bool offThread = false)
    {
        if (!workers.TryGetValue(ticket.Key, out var worker))
        {
            return absent;
        }

        if (ticket.Token is null || !worker.Accepts(ticket.Token))
        {
            throw Refused(ticket);
        }

        await worker.Gate.WaitAsync();
        try
        {
            worker.Touch();
            return offThread ? await Task.Run(() => call(worker)) : call(worker);
        }
        finally
        {
            worker.Touch();
            worker.Gate.Release();
        }
    }

    private static UnauthorizedAccessException Refused(WorkerTicket ticket) =>
        new($"Shard worker {ticket.Key} refused the call: wrong token (only the coordinator that started the run may call its workers).");

    /// <summary>Drops the workers nobody called for <see cref="ShardWorkerOptions.IdleTimeout"/> (their coordinator is gone).</summary>
    private void DropIdle()
    {
        var now = Environment.TickCount64;
        foreach (var (key, worker) in workers.ToArray())
        {
            if (now - worker.LastCalled > options.IdleTimeout.TotalMilliseconds)
            {
                workers.TryRemove(new(key, worker));
            }
        }
    }
}
