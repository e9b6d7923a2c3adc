using Orleans;

namespace FunctionalBackprop.Orleans.Wire;

// What travels between the coordinator and a worker. Numbers travel as raw little-endian bytes
// (RawBytes): a parameter vector or a share is the arrays of Parameters.arrays or
// Gradients.arrays laid end to end, layer by layer, weights then biases, so every bit survives,
// NaN payloads, −0 and subnormals included. Nothing here is larger than one chunk
// (DistributedTrainingOptions.ChunkBytes), far below Orleans' message limit.

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
    /// <summary>Bytes of the whole upload: the model file, then the inputs, then the targets.</summary>
    public long UploadBytes => ModelBytes + ((long)InputRows + TargetRows) * Examples * RealSize;
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
