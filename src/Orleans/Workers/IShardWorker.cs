using System.Threading.Tasks;
using FunctionalBackprop.Orleans.Wire;
using Orleans;

namespace FunctionalBackprop.Orleans.Workers;

/// <summary>
/// A worker of one training run: holds the run's training set (sent once, in chunks) and
/// answers "the shares of these shards of this batch at the parameters of step v". Its key is
/// "run/worker/silo": the run's id, the worker's number and the silo it was meant for (see
/// <see cref="SpreadPlacementDirector"/>). Every answer is a pure function of the parameters and
/// the data (Core.Shards.share), so any worker can compute any shard.
/// </summary>
[Alias("FunctionalBackprop.Orleans.IShardWorker")]
internal interface IShardWorker : IGrainWithStringKey
{
    /// <summary>Starts a run's upload; returns the silo this worker runs on.</summary>
    [Alias("Begin")]
    Task<string> BeginAsync(WorkerSetup setup);

    /// <summary>The upload's bytes from <paramref name="offset"/>; false when this worker has no upload under way (it was reactivated).</summary>
    [Alias("Upload")]
    Task<bool> UploadAsync(long offset, byte[] chunk);

    /// <summary>Checks the upload's SHA-256 and reads it; false when the upload is incomplete or lost.</summary>
    [Alias("Seal")]
    Task<bool> SealAsync();

    /// <summary>Bytes from <paramref name="offset"/> of the parameters of step <paramref name="version"/>; false when this worker holds no training set.</summary>
    [Alias("Weights")]
    Task<bool> PutWeightsAsync(long version, long offset, byte[] chunk);

    /// <summary>Computes the shares; Ready is false when this worker lacks the data or the parameters.</summary>
    [Alias("Compute")]
    Task<ComputeReply> ComputeAsync(ComputeRequest request);

    /// <summary>Bytes from <paramref name="offset"/> of shard <paramref name="shard"/>'s share at step <paramref name="version"/>, at most one chunk; null when this worker no longer has it.</summary>
    [Alias("Read")]
    Task<byte[]?> ReadShareAsync(long version, int shard, long offset);

    /// <summary>Drops the run's data and ends this activation.</summary>
    [Alias("Stop")]
    Task StopAsync();
}
