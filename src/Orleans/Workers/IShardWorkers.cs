using System.Threading.Tasks;
using FunctionalBackprop.Orleans.Wire;
using Orleans;
using Orleans.Runtime;
using Orleans.Services;

namespace FunctionalBackprop.Orleans.Workers;

/// <summary>
/// The shard workers of one silo: a system target that every silo with
/// <see cref="ShardWorkerHosting.AddShardWorkers"/> runs, addressed by the silo's own gateway, so
/// that a call to a worker goes from the coordinator's client to that silo and nowhere else (no
/// grain directory, no other silo's gateway). A worker, named by its <see cref="WorkerTicket"/>,
/// holds a run's training set (sent once, in chunks) and answers "the shares of these shards of
/// this batch at the parameters of step v". Every answer is a pure function of the parameters and
/// the data (Core.Shards.share), so any worker can compute any shard. Every call but
/// <see cref="BeginAsync"/> must carry the token that Begin gave; a wrong one is refused with
/// <see cref="System.UnauthorizedAccessException"/>.
/// </summary>
[Alias("FunctionalBackprop.Orleans.IShardWorkers")]
internal interface IShardWorkers : IGrainService
{
    /// <summary>Starts a worker's upload (refused beyond the silo's size limit); returns the silo it runs on.</summary>
    [Alias("Begin")]
    Task<string> BeginAsync(WorkerTicket worker, WorkerSetup setup);

    /// <summary>The upload's chunk at <paramref name="offset"/>; false when this silo holds no such worker (it restarted).</summary>
    [Alias("Upload")]
    Task<bool> UploadAsync(WorkerTicket worker, long offset, byte[] chunk);

    /// <summary>Checks the upload's SHA-256 and reads it; false when the upload is incomplete or lost.</summary>
    [Alias("Seal")]
    Task<bool> SealAsync(WorkerTicket worker);

    /// <summary>Bytes from <paramref name="offset"/> of the parameters of step <paramref name="version"/>; false when the worker holds no training set.</summary>
    [Alias("Weights")]
    Task<bool> PutWeightsAsync(WorkerTicket worker, long version, long offset, byte[] chunk);

    /// <summary>Computes the shares; Ready is false when the worker lacks the data or the parameters.</summary>
    [Alias("Compute")]
    Task<ComputeReply> ComputeAsync(WorkerTicket worker, ComputeRequest request);

    /// <summary>Bytes from <paramref name="offset"/> of shard <paramref name="shard"/>'s share at step <paramref name="version"/>, at most one chunk; null when the worker no longer has it.</summary>
    [Alias("Read")]
    Task<byte[]?> ReadShareAsync(WorkerTicket worker, long version, int shard, long offset);

    /// <summary>The cluster's active silos, as this silo reads the membership table.</summary>
    [Alias("Silos")]
    Task<MembershipEntry[]> SilosAsync();

    /// <summary>Drops the worker and its data.</summary>
    [Alias("Stop")]
    Task StopAsync(WorkerTicket worker);
}
