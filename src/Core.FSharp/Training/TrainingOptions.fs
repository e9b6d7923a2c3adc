namespace FunctionalBackprop.Core

open System
open System.Numerics
open System.Threading

/// A reason to stop before the last epoch.
[<RequireQualifiedAccess>]
type StoppingRule =
    /// Stop once ‖wₑ − wₑ₋₁‖ ≤ ε between consecutive epochs: the lecture's
    /// "until ‖w⁽ᵗ⁾ − w⁽ᵗ⁻¹⁾‖ ≤ ε", with t counting epochs.
    | WeightChange of epsilon: float
    /// Stop when the validation loss has not improved for `patience` epochs, and return the
    /// network of the best epoch. Needs validation data.
    | EarlyStopping of patience: int

/// Why a training run ended.
[<RequireQualifiedAccess>]
type StopReason =
    /// Every epoch ran.
    | Completed
    /// The weights changed by at most ε over an epoch.
    | WeightsConverged
    /// The validation loss stopped improving; the result is the best epoch's network.
    | NoImprovement
    /// The cancellation token was signalled; the result is the network after the last batch.
    | Cancelled

/// How often training reports.
[<RequireQualifiedAccess>]
type ReportFrequency =
    /// After every epoch.
    | EveryEpoch
    /// After every batch as well as every epoch.
    | EveryBatch

/// What a report marks the end of.
[<RequireQualifiedAccess>]
type ReportKind =
    /// A mini-batch update.
    | Batch
    /// An epoch.
    | Epoch

/// Where training stands, given to TrainingOptions.OnReport; the epoch reports also form the
/// result's history.
type TrainingReport =
    { /// What the report marks the end of.
      Kind: ReportKind
      /// The epoch, from 1.
      Epoch: int
      /// The mini-batch within the epoch, from 1.
      Batch: int
      /// Mini-batches per epoch.
      BatchesPerEpoch: int
      /// Optimizer steps since training began (resumed runs continue the count).
      Step: int64
      /// The last batch's loss.
      BatchLoss: float
      /// The running estimate of the loss over this epoch's batches so far.
      RunningLoss: float
      /// The mean loss over the validation set (epoch reports with validation data).
      ValidationLoss: float option
      /// The fraction of the validation set classified correctly (epoch reports, classifiers).
      ValidationAccuracy: float option
      /// The learning rate of the last step, where the optimizer has one.
      LearningRate: float option
      /// Time since training began.
      Elapsed: TimeSpan }

/// How to train. Make one with TrainingOptions.create and change fields with `with`.
type TrainingOptions<'T when 'T :> IFloatingPointIeee754<'T>> =
    { /// The cost to minimise.
      Loss: Loss
      /// How the parameters move.
      Optimizer: Optimizer<'T>
      /// The last epoch to run.
      Epochs: int
      /// Examples per update: 1 is stochastic gradient descent (one example at a time, in random
      /// order), the training set's size (or more) is batch gradient descent, anything between
      /// is mini-batch descent (the lecture's three algorithms).
      BatchSize: int
      /// Seeds the shuffle of each epoch, so that a run is reproducible bit for bit.
      Seed: uint64
      /// How many shards each mini-batch is split into, computed at once on as many threads (never
      /// more than the batch has examples); 0, the default, chooses (Shards.automatic: one per
      /// processor with the managed kernel, 1 with a native BLAS, which threads large products
      /// itself). The gradient is the sum of the shards' shares in shard order (see Shards), so a
      /// run is bit-identical from one run to the next for a given count, and counts differ only
      /// by the rounding of that sum. A run computed elsewhere (Execution) needs an explicit count.
      Shards: int
      /// Where the shards are computed: this process's threads, or elsewhere.
      Execution: ShardExecution<'T>
      /// Inputs and targets to measure after each epoch, if any.
      Validation: (Matrix<'T> * Matrix<'T>) option
      /// Reasons to stop early, besides the last epoch.
      Stopping: StoppingRule list
      /// How the running loss is estimated.
      RunningLoss: RunningLoss
      /// How often OnReport is called.
      Reports: ReportFrequency
      /// Receives each report (draw a progress bar, record a learning curve). Runs on the
      /// training thread; keep it short.
      OnReport: TrainingReport -> unit
      /// Stops training between batches.
      Cancellation: CancellationToken
      /// Checkpoints handed out while the run goes on (to save them, say), if any.
      Checkpoints: CheckpointSchedule<'T> option }

/// Making training options.
module TrainingOptions =

    /// Why an epoch count cannot be asked for, if it cannot (at least 1).
    let epochsProblem (epochs: int) : string option =
        if epochs < 1 then Some $"Training needs at least 1 epoch, got {epochs}." else None

    /// Why a batch size cannot be asked for, if it cannot (at least 1).
    let batchSizeProblem (size: int) : string option =
        if size < 1 then Some $"The batch size must be at least 1, got {size}." else None

    /// Why early stopping's patience cannot be asked for, if it cannot (at least 1 epoch).
    let patienceProblem (patience: int) : string option =
        if patience < 1 then Some $"Early stopping's patience must be at least 1 epoch, got {patience}." else None

    /// Why a weight-change threshold ε cannot be asked for, if it cannot (positive).
    let weightChangeProblem (epsilon: float) : string option =
        if not (epsilon > 0.0) then Some $"The weight-change threshold ε must be positive, got {epsilon}." else None

    /// Options with seed 0, the automatic shard count, no validation set, no stopping rule, a running
    /// mean, reports after each epoch to nobody, and no checkpoints on the way.
    let create (loss: Loss) (optimizer: Optimizer<'T>) (epochs: int) (batchSize: int) : TrainingOptions<'T> =
        { Loss = loss
          Optimizer = optimizer
          Epochs = epochs
          BatchSize = batchSize
          Seed = 0UL
          Shards = 0
          Execution = ShardExecution.Local
          Validation = None
          Stopping = []
          RunningLoss = RunningLoss.Mean
          Reports = ReportFrequency.EveryEpoch
          OnReport = ignore
          Cancellation = CancellationToken.None
          Checkpoints = None }

/// What a training run returns.
type TrainingResult<'T when 'T :> IFloatingPointIeee754<'T>> =
    { /// The trained network (under early stopping, the best epoch's).
      Network: Network<'T>
      /// The optimizer's state that goes with it.
      OptimizerState: OptimizerState<'T>
      /// Epochs completed (those of the returned network).
      Epochs: int
      /// Optimizer steps taken (those of the returned network).
      Steps: int64
      /// One report per completed epoch, in order.
      History: TrainingReport list
      /// Why training ended.
      Stopped: StopReason
      /// When the run was cancelled inside an epoch: the running loss over the batches of it
      /// taken (Checkpoint.RunningLoss); None otherwise.
      RunningLoss: float option }

    /// Where to resume from.
    member r.Checkpoint: Checkpoint<'T> =
        { Network = r.Network; OptimizerState = r.OptimizerState; Epoch = r.Epochs; Step = r.Steps; RunningLoss = r.RunningLoss }

/// Thrown when the loss or a parameter stops being finite (a learning rate too large, most
/// often). It carries the last network whose parameters and loss were finite, so nothing learned
/// before the blow-up is lost, and no NaN network is ever returned.
type TrainingDivergedException<'T when 'T :> IFloatingPointIeee754<'T>>(message: string, cause: string, lastFinite: Network<'T>, epoch: int, step: int64, loss: float) =
    inherit Exception(message)

    /// What stopped being finite: "the loss is not finite" or "a parameter is no longer finite".
    member _.Cause = cause

    /// The network before the step that diverged.
    member _.LastFiniteNetwork = lastFinite

    /// The epoch in which it happened, from 1.
    member _.Epoch = epoch

    /// The optimizer step that produced a non-finite value, from 1.
    member _.Step = step

    /// The batch loss at that step (NaN or infinite when the loss itself diverged).
    member _.Loss = loss

