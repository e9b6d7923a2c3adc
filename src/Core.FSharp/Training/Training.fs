namespace FunctionalBackprop.Core

open System
open System.Diagnostics
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
      Cancellation: CancellationToken }

/// Making training options.
module TrainingOptions =

    /// Options with seed 0, no validation set, no stopping rule, a running mean, and reports
    /// after each epoch to nobody.
    let create (loss: Loss) (optimizer: Optimizer<'T>) (epochs: int) (batchSize: int) : TrainingOptions<'T> =
        { Loss = loss
          Optimizer = optimizer
          Epochs = epochs
          BatchSize = batchSize
          Seed = 0UL
          Validation = None
          Stopping = []
          RunningLoss = RunningLoss.Mean
          Reports = ReportFrequency.EveryEpoch
          OnReport = ignore
          Cancellation = CancellationToken.None }

/// A point from which training continues exactly as if it had not stopped: resuming from the
/// checkpoint after epoch e repeats the same shuffles and steps as the uninterrupted run.
type Checkpoint<'T when 'T :> IFloatingPointIeee754<'T>> =
    { /// The parameters.
      Network: Network<'T>
      /// The optimizer's state.
      OptimizerState: OptimizerState<'T>
      /// Epochs completed.
      Epoch: int
      /// Optimizer steps taken.
      Step: int64 }

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
      Stopped: StopReason }

    /// Where to resume from.
    member r.Checkpoint: Checkpoint<'T> =
        { Network = r.Network; OptimizerState = r.OptimizerState; Epoch = r.Epochs; Step = r.Steps }

/// Thrown when the loss or a parameter stops being finite (a learning rate too large, most
/// often). It carries the last network whose parameters and loss were finite, so nothing learned
/// before the blow-up is lost, and no NaN network is ever returned.
type TrainingDivergedException<'T when 'T :> IFloatingPointIeee754<'T>>(message: string, lastFinite: Network<'T>, epoch: int, step: int64, loss: float) =
    inherit Exception(message)

    /// The network before the step that diverged.
    member _.LastFiniteNetwork = lastFinite

    /// The epoch in which it happened, from 1.
    member _.Epoch = epoch

    /// The optimizer step that produced a non-finite value, from 1.
    member _.Step = step

    /// The batch loss at that step (NaN or infinite when the loss itself diverged).
    member _.Loss = loss

/// Training as a fold: epochs are a fold over shuffled mini-batches, each batch one pure
/// optimizer step on backprop's gradient.
module Training =

    let private parametersFinite (network: Network<'T>) =
        network.Layers |> List.forall (fun l -> Array.forall (fun (v: 'T) -> 'T.IsFinite(v)) l.Weights.values && Array.forall (fun (v: 'T) -> 'T.IsFinite(v)) l.Biases.values)

    let private isClassifier (network: Network<'T>) =
        match network.OutputActivation with
        | Activation.Sigmoid | Activation.Softmax | Activation.Step -> true
        | _ -> false

    let private validate (options: TrainingOptions<'T>) (network: Network<'T>) (x: Matrix<'T>) (y: Matrix<'T>) =
        if isNull (box options.Optimizer) then nullArg "Optimizer"
        if options.Epochs < 1 then raise (ArgumentOutOfRangeException("Epochs", options.Epochs, $"Training needs at least 1 epoch, got {options.Epochs}."))
        if options.BatchSize < 1 then raise (ArgumentOutOfRangeException("BatchSize", options.BatchSize, $"The batch size must be at least 1, got {options.BatchSize}."))
        if x.cols = 0 then invalidArg "x" "The training set is empty: there is nothing to learn from."
        if y.cols <> x.cols then invalidArg "y" $"The inputs hold {x.cols} examples but the targets hold {y.cols}; they must match one to one."
        Network.checkInputs network x
        Network.checkTargets network options.Loss x y
        network.Layers |> List.iteri (fun i l ->
            if l.Activation = Activation.Step then
                invalidArg "network" $"Layer {i + 1} uses the step activation, whose derivative is 0 wherever it exists: no gradient passes through it, so gradient descent cannot train this network. Use sigmoid (a smooth step) for training; step is for inference and perceptron demonstrations.")
        RunningLoss.validate options.RunningLoss
        for rule in options.Stopping do
            match rule with
            | StoppingRule.WeightChange epsilon when not (epsilon > 0.0) ->
                raise (ArgumentOutOfRangeException("WeightChange", epsilon, $"The weight-change threshold ε must be positive, got {epsilon}."))
            | StoppingRule.EarlyStopping patience when patience < 1 ->
                raise (ArgumentOutOfRangeException("EarlyStopping", patience, $"Early stopping's patience must be at least 1 epoch, got {patience}."))
            | StoppingRule.EarlyStopping _ when options.Validation.IsNone ->
                invalidArg "Stopping" "Early stopping watches the validation loss, so it needs validation data (TrainingOptions.Validation)."
            | _ -> ()
        match options.Validation with
        | Some(vx, vy) ->
            Network.checkInputs network vx
            Network.checkTargets network options.Loss vx vy
            if vx.cols = 0 then invalidArg "Validation" "The validation set is empty."
        | None -> ()

    /// Runs epochs start.Epoch + 1 … options.Epochs from the checkpoint.
    let private run (options: TrainingOptions<'T>) (start: Checkpoint<'T>) (x: Matrix<'T>) (y: Matrix<'T>) : TrainingResult<'T> =
        validate options start.Network x y
        let n = x.cols
        let m = Math.Min(options.BatchSize, n)
        let batchCount = (n + m - 1) / m
        let clock = Stopwatch.StartNew()
        let classifier = isClassifier start.Network
        let measure (network: Network<'T>) =
            match options.Validation with
            | Some(vx, vy) ->
                Some(Evaluation.loss options.Loss network vx vy), (if classifier then Some(Evaluation.accuracy network vx vy) else None)
            | None -> None, None
        let report kind epoch batch step batchLoss running state (validationLoss, validationAccuracy) =
            { Kind = kind
              Epoch = epoch
              Batch = batch
              BatchesPerEpoch = batchCount
              Step = step
              BatchLoss = batchLoss
              RunningLoss = running
              ValidationLoss = validationLoss
              ValidationAccuracy = validationAccuracy
              LearningRate = Optimizer.learningRate options.Optimizer state
              Elapsed = clock.Elapsed }
        let diverged (network: Network<'T>) epoch step (loss: float) (what: string) =
            raise (TrainingDivergedException<'T>($"Training diverged at epoch {epoch}, step {step}: {what} (batch loss {loss}). The last finite network is kept; try a smaller learning rate ({options.Optimizer.Name}).", network, epoch, step, loss))

        // The run's private buffers (see Workspace): the step below allocates nothing but a few
        // small objects. The optimizer's state is copied in, then updated in place, unless the
        // optimizer evaluates the cost (a line search), which needs fresh arrays.
        let workspace = Workspace<'T>(options.Loss, start.Network, m, (if m < n then n % m else 0))
        let target = if Optimizer.usesObjective options.Optimizer then Fresh else InPlace
        let mutable state = OptimizerState.copy start.OptimizerState

        // The epoch in which the last step was taken (the previous one, when a new epoch has not
        // taken a step yet).
        let epochOfLastStep = ref start.Epoch

        // A non-finite cost at step t: if the current parameters are finite the loss itself
        // overflowed and they are the last finite network; otherwise step t − 1 produced them,
        // and the parameters before it (kept in the workspace's spare set) are.
        let divergedAt epoch (step: int64) (loss: float) =
            if parametersFinite workspace.Current then diverged (workspace.Materialize()) epoch step loss "the loss is not finite"
            else diverged (workspace.MaterializePrevious()) epochOfLastStep.Value (step - 1L) loss "a parameter is no longer finite"

        // One epoch: a fold over its shuffled mini-batches. Returns the step count, the last
        // batch loss and the running loss, and whether it was cancelled part-way.
        // The cost of the batch being stepped on (for line searches), made once for the run: it
        // reads the workspace's batch buffers when called, during a step.
        let objective = Some(fun w -> let xb, yb = workspace.Batch in Forward.cost options.Loss w xb yb)

        let epochFold (epoch: int) (step: int64) =
            let order =
                if m >= n then Array.init n id
                else Random.permutation (Random.derive options.Seed (uint64 epoch)) n
            let rec batches b step lastLoss running =
                if b = batchCount then step, lastLoss, running, false
                elif options.Cancellation.IsCancellationRequested then step, lastLoss, running, true
                else
                    let start = b * m
                    let loss = Real.toFloat (workspace.Compute(order, start, Math.Min(start + m, n) - start, x, y))
                    if not (Double.IsFinite loss) then divergedAt epoch (step + 1L) loss
                    let context = { Network = workspace.Current; Gradient = workspace.Gradient; Objective = objective }
                    let state' =
                        match Optimizer.changeScaled target options.Optimizer context state with
                        | Some(u, factor, state') ->
                            workspace.ApplyScaled(u, factor)
                            state'
                        | None ->
                            let delta, state' = Optimizer.change target options.Optimizer context state
                            workspace.Apply delta
                            state'
                    state <- state'
                    epochOfLastStep.Value <- epoch
                    let running' = RunningLoss.update options.RunningLoss running (int64 (b + 1)) loss
                    if options.Reports = ReportFrequency.EveryBatch then
                        options.OnReport (report ReportKind.Batch epoch (b + 1) (step + 1L) loss running' state' (None, None))
                    batches (b + 1) (step + 1L) loss running'
            batches 0 step nan nan

        let finish (network, state, epochs, steps) history stopped =
            { Network = network; OptimizerState = state; Epochs = epochs; Steps = steps; History = List.rev history; Stopped = stopped }

        // The fold over epochs. best holds (network, state, epochs, steps, validation loss) under
        // early stopping, as copies; sinceBest counts epochs without improvement.
        let rec epochs epoch step history best sinceBest =
            let here () = workspace.Materialize(), OptimizerState.copy state
            if epoch > options.Epochs then
                if not (parametersFinite workspace.Current) then divergedAt (epoch - 1) (step + 1L) nan
                let network, state = here ()
                finish (network, state, epoch - 1, step) history StopReason.Completed
            else
                let before = if options.Stopping |> List.exists (function StoppingRule.WeightChange _ -> true | _ -> false) then Some(workspace.Materialize()) else None
                let step', lastLoss, running, cancelled = epochFold epoch step
                if cancelled then
                    let network, state = here ()
                    finish (network, state, epoch - 1, step') history StopReason.Cancelled
                else
                    let metrics = measure workspace.Current
                    match fst metrics with
                    | Some v when not (Double.IsFinite v) -> divergedAt epoch (step' + 1L) v
                    | _ -> ()
                    let epochReport = report ReportKind.Epoch epoch batchCount step' lastLoss running state metrics
                    options.OnReport epochReport
                    let history = epochReport :: history
                    let converged =
                        options.Stopping |> List.exists (function
                            | StoppingRule.WeightChange epsilon ->
                                Real.toFloat (Gradients.norm (Gradients.subtract (Gradients.ofNetwork workspace.Current) (Gradients.ofNetwork before.Value))) <= epsilon
                            | StoppingRule.EarlyStopping _ -> false)
                    let patience = options.Stopping |> List.tryPick (function StoppingRule.EarlyStopping p -> Some p | _ -> None)
                    let best, sinceBest =
                        match patience, fst metrics with
                        | Some _, Some loss ->
                            match best with
                            | Some(_, _, _, _, bestLoss) when bestLoss <= loss -> best, sinceBest + 1
                            | _ -> let network, state = here () in Some(network, state, epoch, step', loss), 0
                        | _ -> best, sinceBest
                    match patience, best with
                    | Some p, Some(bn, bs, be, bsteps, _) when sinceBest >= p ->
                        finish (bn, bs, be, bsteps) (history |> List.filter (fun r -> r.Epoch <= be)) StopReason.NoImprovement
                    | _ when converged ->
                        let network, state = here ()
                        finish (network, state, epoch, step') history StopReason.WeightsConverged
                    | _ -> epochs (epoch + 1) step' history best sinceBest

        epochs (start.Epoch + 1) start.Step [] None 0

    /// Trains the network on inputs x and targets y (one example per column) from a fresh
    /// optimizer state. Pure: the network passed in is unchanged. Throws ArgumentException for
    /// unusable options or data, TrainingDivergedException when the loss blows up.
    let train (options: TrainingOptions<'T>) (network: Network<'T>) (x: Matrix<'T>) (y: Matrix<'T>) : TrainingResult<'T> =
        if isNull (box network) then nullArg "network"
        run options { Network = network; OptimizerState = Optimizer.init options.Optimizer network; Epoch = 0; Step = 0L } x y

    /// Continues training from a checkpoint up to options.Epochs, exactly as the uninterrupted
    /// run would have (same options, same data).
    let resume (options: TrainingOptions<'T>) (checkpoint: Checkpoint<'T>) (x: Matrix<'T>) (y: Matrix<'T>) : TrainingResult<'T> =
        if isNull (box checkpoint) then nullArg "checkpoint"
        if checkpoint.Epoch < 0 then raise (ArgumentOutOfRangeException("checkpoint", checkpoint.Epoch, "A checkpoint's epoch cannot be negative."))
        run options checkpoint x y
