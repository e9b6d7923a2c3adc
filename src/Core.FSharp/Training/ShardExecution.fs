namespace FunctionalBackprop.Core

open System
open System.Numerics

/// Computes the shards of a training run's mini-batches somewhere other than this process's
/// threads (other machines, say). The training fold calls Compute once per mini-batch and adds
/// what it wrote in shard order, then takes the optimizer's step itself: only the shares'
/// computation moves. For bit-identical results each share must be computed as Shards.share
/// computes it.
type IShardExecutor<'T when 'T :> IFloatingPointIeee754<'T>> =
    inherit IDisposable

    /// For the mini-batch whose examples are `examples` (indices into the training set, in
    /// batch order), split into totals.Length shards (shard k holds the examples of
    /// Shards.range examples.Length totals.Length k): writes shard k's share of the batch into
    /// shares.[k], the sum of its costs into totals.[k] and what its pass reported for the
    /// layers' state (a pass's Statistics, Network.StatisticsLength values) into
    /// statistics.[k], computed at `network`, which the executor reads during the call only and
    /// must not keep, in training mode with the batch's key (shard k's mode is Mode.part of its
    /// first example: Shards.share's own).
    abstract Compute:
        network: Network<'T> * key: BatchKey * examples: ReadOnlyMemory<int> * totals: float[] * shares: Gradients<'T>[] * statistics: float[][] -> unit

/// Where a training run computes the shards of its mini-batches.
[<RequireQualifiedAccess>]
type ShardExecution<'T when 'T :> IFloatingPointIeee754<'T>> =
    /// On threads of this process, one per shard (the default).
    | Local
    /// By an executor that `start` makes once per run, given the training inputs and targets
    /// and the shard count, and that the run disposes when it ends.
    | Remote of start: (Matrix<'T> -> Matrix<'T> -> int -> IShardExecutor<'T>)
