using Orleans;

namespace FunctionalBackprop.Orleans.Wire;

// What travels between the coordinator and a worker. Numbers travel as raw little-endian bytes
// (RawBytes): a parameter vector or a share is the arrays of Parameters.arrays or
// Gradients.arrays laid end to end, layer by layer, weights then biases, so every bit survives,
// NaN payloads, −0 and subnormals included. Nothing here is larger than one chunk
// (DistributedTrainingOptions.ChunkBytes), far below Orleans' message limit.

/// <summary>
/// Names one worker of one run on a silo, and proves the caller is that run's coordinator: the
/// run's id, the worker's number, its incarnation (a worker started again elsewhere is a new
/// incarnation) and the run's secret token, which the worker learns at Begin and requires on
/// every later call.
/// </summary>
/// <param name="Run">The run's id.</param>
/// <param name="Worker">The worker's number, from 0.</param>
/// <param name="Incarnation">How many times this worker was started before, in this run.</param>
/// <param name="Token">The run's secret: 32 random bytes drawn by the coordinator.</param>
[GenerateSerializer, Immutable, Alias("FunctionalBackprop.Orleans.WorkerTicket")]
internal sealed record WorkerTicket(
    [property: Id(0)] System.Guid Run,
    [property: Id(1)] int Worker,
    [property: Id(2)] int Incarnation,
    [property: Id(3)] byte[] Token)
{
    /// <summary>The worker's name on its silo (without the token).</summary>
    public string Key => $"{Run:N}/{Worker}/{Incarnation}";
}

/// <summary>
/// What a worker needs once per run: the real type, the loss, the network's architecture (a model
/// file, whose weights the steps replace) and the training set, whose bytes follow in chunks.
/// </summary>
/// <param name="RealSize">Bytes per real: 8 for double, 4 for float.</param>
/// <param name="Loss">The loss, as <see cref="FunctionalBackprop.Loss"/>'s value.</param>
/// <param name="ModelBytes">Length of the model file at the start of the upload.</param>
/// <param name="InputRows">Rows of the inputs (the input width).</param>
/// <param name="TargetRows">Rows of the targets (the output width).</param>
/// <param name="Examples">Columns of both (training examples); the inputs' bytes follow the model, the targets' follow the inputs.</param>
/// <param name="Sha256">SHA-256 of the whole upload, checked before the worker uses it.</param>
/// <param name="ChunkBytes">The most bytes one message carries, either way.</param>
[GenerateSerializer, Immutable, Alias("FunctionalBackprop.Orleans.WorkerSetup")]
internal sealed record WorkerSetup(
    [property: Id(0)] int RealSize,
    [property: Id(1)] int Loss,
    [property: Id(2)] int ModelBytes,
    [property: Id(3)] int InputRows,
    [property: Id(4)] int TargetRows,
    [property: Id(5)] int Examples,
    [property: Id(6)] byte[] Sha256,
    [property: Id(7)] int ChunkBytes)
{
    /// <summary>The fewest and the most bytes a chunk may hold (<see cref="DistributedTrainingOptions.ChunkBytes"/>).</summary>
    public const int MinChunkBytes = 4096, MaxChunkBytes = 64 << 20;

    /// <summary>Bytes of the whole upload: the model file, then the inputs, then the targets.</summary>
    public long UploadBytes => ModelBytes + ((long)InputRows + TargetRows) * Examples * RealSize;

    /// <summary>
    /// Throws <see cref="System.ArgumentException"/> unless every field is usable and the upload
    /// fits in <paramref name="maxUploadBytes"/>: what a worker checks before it allocates anything.
    /// </summary>
    public void Check(long maxUploadBytes)
    {
        var problem =
            RealSize is not (4 or 8) ? $"reals of {RealSize} bytes (4 or 8)"
            : !System.Enum.IsDefined((FunctionalBackprop.Loss)Loss) ? $"loss {Loss}"
            : ModelBytes <= 0 || InputRows <= 0 || TargetRows <= 0 || Examples <= 0 ? $"a model of {ModelBytes} bytes and {Examples} examples of {InputRows} inputs and {TargetRows} targets (all must be positive)"
            : Sha256 is not { Length: 32 } ? "a SHA-256 that is not 32 bytes"
            : ChunkBytes is < MinChunkBytes or > MaxChunkBytes ? $"chunks of {ChunkBytes} bytes ({MinChunkBytes} to {MaxChunkBytes})"
            : UploadBytes > maxUploadBytes ? $"an upload of {UploadBytes} bytes, more than this silo's limit of {maxUploadBytes} (ShardWorkerOptions.MaxUploadBytes)"
            : null;
        if (problem is not null)
        {
            throw new System.ArgumentException($"A shard worker cannot start a run with {problem}.", "setup");
        }
    }
}

/// <summary>
/// One shard to compute: its index in the batch, its examples (training-set columns, in batch
/// order) and the place of its first example in the epoch's order (which keys dropout's draws).
/// </summary>
[GenerateSerializer, Immutable, Alias("FunctionalBackprop.Orleans.ShardTask")]
internal sealed record ShardTask([property: Id(0)] int Shard, [property: Id(1)] int[] Examples, [property: Id(2)] int First);

/// <summary>
/// Compute these shards' shares of a batch of <paramref name="BatchExamples"/> examples at the
/// parameters of step <paramref name="Version"/>: sent before by PutWeights, or carried here
/// whole in <paramref name="Weights"/> when they fit in one chunk. The forward passes run in
/// training mode keyed by the run's <paramref name="Seed"/> and the optimizer step
/// <paramref name="Step"/> (Core.BatchKey), with each shard's first place in the epoch.
/// </summary>
[GenerateSerializer, Immutable, Alias("FunctionalBackprop.Orleans.ComputeRequest")]
internal sealed record ComputeRequest(
    [property: Id(0)] long Version,
    [property: Id(1)] int BatchExamples,
    [property: Id(2)] ShardTask[] Shards,
    [property: Id(3)] byte[]? Weights,
    [property: Id(4)] long Seed,
    [property: Id(5)] long Step);

/// <summary>
/// A shard's answer: the sum of its costs, its share's length in bytes, the share itself when it
/// fits in the reply, and what its pass reported for the layers' state (batch normalisation's
/// count, Σx and Σx²; empty for networks without state), which the coordinator adds in shard order.
/// </summary>
[GenerateSerializer, Immutable, Alias("FunctionalBackprop.Orleans.ShareReply")]
internal sealed record ShareReply(
    [property: Id(0)] int Shard,
    [property: Id(1)] double Total,
    [property: Id(2)] long Length,
    [property: Id(3)] byte[]? Bytes,
    [property: Id(4)] double[] Statistics);

/// <summary>
/// A worker's answer to a compute request: the shares, or <see cref="Ready"/> false when it does
/// not hold what the request needs (its silo restarted and it lost the training set, or the
/// parameters of that step never arrived).
/// </summary>
[GenerateSerializer, Immutable, Alias("FunctionalBackprop.Orleans.ComputeReply")]
internal sealed record ComputeReply(
    [property: Id(0)] bool Ready,
    [property: Id(1)] ShareReply[] Shares);
