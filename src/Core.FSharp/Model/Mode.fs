namespace FunctionalBackprop.Core

/// What keys the random draws of one batch of a training run (dropout's masks): the run's seed,
/// the optimizer step the batch is for, and where its first example stands in the epoch's order.
/// An example's draws depend on these and on its own position, never on the thread, shard or
/// machine that computes it, so K shards or K workers draw what one shard draws. A value type:
/// the training fold makes one per batch and per shard without allocating.
[<Struct>]
type BatchKey =
    { /// The training run's seed.
      Seed: uint64
      /// The optimizer step the batch's gradient is for, from 1.
      Step: int64
      /// The position in the epoch's order of the batch's first example (from 0): example j of the
      /// batch stands at First + j.
      First: int }

/// How a forward pass runs: for inference (prediction, evaluation, export), where every layer is
/// a fixed function of its input, or for training, where a layer may also draw at random
/// (dropout keeps each unit with probability 1 − p). Passed explicitly to every pass, as the
/// functional libraries pass their random keys. (The per-batch code takes the key alone, a
/// BatchKey voption, which allocates nothing: see Mode.key.)
[<RequireQualifiedAccess>]
type Mode =
    /// Every layer a fixed function (dropout is the identity).
    | Inference
    /// Training on the batch the key names.
    | Training of key: BatchKey

/// Modes of the parts of a batch.
module Mode =

    /// The mode of the part of a batch whose first example is example `first` of the batch (a
    /// shard): its examples keep their positions in the epoch's order.
    let part (first: int) (mode: Mode) : Mode =
        match mode with
        | Mode.Inference -> Mode.Inference
        | Mode.Training key -> Mode.Training { key with First = key.First + first }

    /// The key of the mode's random draws: none in inference.
    let key (mode: Mode) : BatchKey voption =
        match mode with
        | Mode.Inference -> ValueNone
        | Mode.Training key -> ValueSome key
