namespace FunctionalBackprop.Core

open System
open System.Numerics

/// A point from which training continues exactly as if it had not stopped: at an epoch's end, or
/// between two batches of an epoch. Resuming repeats the uninterrupted run's shuffles, dropout
/// masks and steps from the next batch on. Where the checkpoint stands inside its epoch is not
/// stored but follows from the counts (Checkpoint.batchesDone): with B batches per epoch, epoch
/// Epoch + 1 has had Step − Epoch·B of its batches.
type Checkpoint<'T when 'T :> IFloatingPointIeee754<'T>> =
    { /// The parameters, and the layers' state (batch normalisation's running statistics).
      Network: Network<'T>
      /// The optimizer's state.
      OptimizerState: OptimizerState<'T>
      /// Epochs completed.
      Epoch: int
      /// Optimizer steps taken.
      Step: int64
      /// When the checkpoint stands inside an epoch: the running loss over the batches of it
      /// already taken, from which the resumed epoch's report goes on. None at an epoch's end (and
      /// in checkpoints written before it was kept: their resumed epoch's running loss then covers
      /// the batches after the resume only).
      RunningLoss: float option }

/// How often a run hands out a checkpoint.
[<RequireQualifiedAccess>]
type CheckpointInterval =
    /// After every n-th optimizer step, counted from the start of training (so a resumed run
    /// keeps the same rhythm).
    | Steps of steps: int
    /// After every n-th epoch, once its report is made.
    | Epochs of epochs: int

/// Checkpoints taken while a run goes on (TrainingOptions.Checkpoints).
type CheckpointSchedule<'T when 'T :> IFloatingPointIeee754<'T>> =
    { /// How often.
      Every: CheckpointInterval
      /// Receives each checkpoint, on the training thread. To keep the last one in a file:
      /// `fun c -> ModelFile.save path (ModelContents.ofCheckpoint options.Optimizer.Name None c)`,
      /// which replaces it atomically. An exception it throws ends the run.
      Save: Checkpoint<'T> -> unit }

/// Where a checkpoint stands, and when one is due.
module Checkpoint =

    /// The batches of epoch c.Epoch + 1 that the checkpoint has already taken, with B batches
    /// per epoch (0 at an epoch's end).
    let batchesDone (batchesPerEpoch: int) (c: Checkpoint<'T>) : int64 =
        // i = Step − Epoch·B
        c.Step - int64 c.Epoch * int64 batchesPerEpoch

    /// Why a checkpoint at `epoch` epochs and `step` steps cannot be resumed on `examples`
    /// examples in batches of `batchSize`, if it cannot: it must stand at the end of epoch
    /// `epoch` or between two batches of the next, 0 ≤ Step − Epoch·B < B. Otherwise it was made
    /// with another batch size or training set, and resuming would take other batches than the
    /// uninterrupted run.
    let positionProblem (examples: int) (batchSize: int) (epoch: int) (step: int64) : string option =
        let b = Batches.perEpoch examples batchSize
        let first = int64 epoch * int64 b
        if epoch < 0 then Some $"A checkpoint's epoch cannot be negative, got {epoch}."
        elif step >= first && step < first + int64 b then None
        else
            Some(
                $"The checkpoint stands at step {step} after {epoch} epoch(s), which does not fit {b} batches per epoch "
                + $"({examples} examples in batches of {batchSize}): with them epoch {epoch + 1} spans steps {first + 1L} to {first + int64 b}. "
                + "Resume with the batch size and training set that the checkpoint was made with."
            )

/// The rules of checkpoint intervals.
module CheckpointInterval =

    /// Why an interval cannot be asked for, if it cannot (at least 1 step or epoch).
    let problem (interval: CheckpointInterval) : string option =
        match interval with
        | CheckpointInterval.Steps n when n < 1 -> Some $"Checkpoints need an interval of at least 1 step, got {n}."
        | CheckpointInterval.Epochs n when n < 1 -> Some $"Checkpoints need an interval of at least 1 epoch, got {n}."
        | _ -> None

    /// Whether a checkpoint is due once `steps` steps and `epochs` epochs are complete, at the
    /// end of an epoch or (atEpochEnd false) between two of its batches.
    let isDue (interval: CheckpointInterval) (epochs: int) (steps: int64) (atEpochEnd: bool) : bool =
        match interval with
        | CheckpointInterval.Steps n -> steps % int64 n = 0L
        | CheckpointInterval.Epochs n -> atEpochEnd && epochs % n = 0
