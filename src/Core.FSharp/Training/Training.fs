namespace FunctionalBackprop.Core

open System
open System.Diagnostics
open System.Numerics

/// The network of the best epoch so far under early stopping, and its validation loss.
type internal BestEpoch<'T when 'T :> IFloatingPointIeee754<'T>> = { Checkpoint: Checkpoint<'T>; ValidationLoss: float }

/// What the fold over epochs carries from one epoch to the next.
type internal FoldProgress<'T when 'T :> IFloatingPointIeee754<'T>> =
    { /// Epochs completed.
      Epoch: int
      /// Optimizer steps taken.
      Step: int64
      /// The batches of epoch Epoch + 1 already taken: a resumed checkpoint's, else 0.
      Within: int
      /// Their running loss, when the checkpoint kept it.
      RunningLoss: float option
      /// The epoch reports so far, newest first.
      History: TrainingReport list
      /// Early stopping's best epoch, if it has one.
      Best: BestEpoch<'T> option
      /// Epochs since the best one.
      SinceBest: int }

/// How one epoch's fold over its batches ended (or where it stands).
[<Struct>]
type internal EpochOutcome =
    { /// Optimizer steps taken.
      Steps: int64
      /// Batches of the epoch taken, those before a resume included.
      Batches: int
      /// The last batch's loss.
      LastLoss: float
      /// The running loss over the last Counted batches.
      RunningLoss: float
      /// How many batches the running loss covers: all of them, unless the epoch was resumed
      /// from a checkpoint that did not keep the running loss of those before.
      Counted: int
      Cancelled: bool }

/// A training run in progress: its buffers, and the optimizer state that its steps update in
/// place (both private to the run, see Workspace).
type internal TrainingRun<'T when 'T :> IFloatingPointIeee754<'T>>(options: TrainingOptions<'T>, start: Checkpoint<'T>, x: Matrix<'T>, y: Matrix<'T>) =
    let n = x.Cols
    let m = Math.Min(options.BatchSize, n)
    let batchCount = Batches.perEpoch n options.BatchSize
    // The order of the examples in the current epoch, rewritten by each.
    let order: int[] = Array.zeroCreate n
    let clock = Stopwatch.StartNew()
    let classifier = Network.isClassifier start.Network
    let executor =
        match options.Execution with
        | ShardExecution.Local -> None
        | ShardExecution.Remote start -> Some(start x y options.Shards)
    let workspace = new Workspace<'T>(options.Loss, start.Network, m, (if m < n then n % m else 0), Shards.resolveFor start.Network options.Shards, executor)
    // The optimizer at work, on its own copy of the state.
    let stages = Optimizer.start options.Optimizer start.OptimizerState
    // A line search needs the true gradient beside the updates: the chain then runs on a copy.
    let updates = if Optimizer.usesObjective options.Optimizer then Some(Gradients.zero start.Network) else None
    // The epoch in which the last step was taken: the checkpoint's next when it stands inside it.
    let mutable epochOfLastStep = if Checkpoint.batchesDone batchCount start > 0L then start.Epoch + 1 else start.Epoch
    // The cost of the batch being stepped on, for line searches: reads the batch buffers when called.
    let objective = Some(fun w -> let xb, yb = workspace.Batch in Forward.cost (Mode.Training workspace.Key) options.Loss w xb yb)
    // The step's context for each pair of parameter set and gradient buffer the run uses (the two
    // sets in turn, the full and the last batch's buffers), made once so that a step allocates
    // nothing.
    let contexts = Collections.Generic.List<StepContext<'T>>(4)
    let contextFor (network: Network<'T>) (gradient: Gradients<'T>) =
        let mutable found = Unchecked.defaultof<StepContext<'T>>
        for i in 0 .. contexts.Count - 1 do
            let c = contexts.[i]
            if obj.ReferenceEquals(c.Network, network) && obj.ReferenceEquals(c.Gradient, gradient) then found <- c
        if isNull (box found) then
            found <- { Network = network; Gradient = gradient; Objective = objective }
            contexts.Add found
        found

    member _.BatchCount = batchCount

    /// The parameters now (the run's private buffers).
    member _.Current = workspace.Current

    /// A report of where the run stands.
    member _.Report(kind: ReportKind, epoch: int, batch: int, step: int64, batchLoss: float, running: float, validationLoss: float option, validationAccuracy: float option) =
        { Kind = kind
          Epoch = epoch
          Batch = batch
          BatchesPerEpoch = batchCount
          Step = step
          BatchLoss = batchLoss
          RunningLoss = running
          ValidationLoss = validationLoss
          ValidationAccuracy = validationAccuracy
          LearningRate = Optimizer.learningRate options.Optimizer (Optimizer.stateOf stages)
          Elapsed = clock.Elapsed }

    /// The network and optimizer state now, copied: what may leave the run.
    member _.Snapshot(epochs: int, steps: int64, running: float option) : Checkpoint<'T> =
        { Network = workspace.Materialize(); OptimizerState = OptimizerState.copy (Optimizer.stateOf stages); Epoch = epochs; Step = steps; RunningLoss = running }

    /// The running loss a checkpoint keeps where an epoch stands: inside it, when the estimate
    /// covers every batch taken; None at its start or end.
    member _.Carried(outcome: EpochOutcome) : float option =
        if outcome.Batches > 0 && outcome.Batches < batchCount && outcome.Counted = outcome.Batches then Some outcome.RunningLoss else None

    /// Hands options.Checkpoints the checkpoint of now when one is due (`epochs` complete,
    /// `outcome` the epoch begun or just ended).
    member this.Offer(epochs: int, outcome: EpochOutcome) : unit =
        match options.Checkpoints with
        | Some schedule when CheckpointInterval.isDue schedule.Every epochs outcome.Steps (outcome.Batches = batchCount) ->
            schedule.Save(this.Snapshot(epochs, outcome.Steps, this.Carried outcome))
        | _ -> ()

    /// Throws TrainingDivergedException for a non-finite value met at a step: if the current
    /// parameters are finite the loss itself overflowed and they are the last finite network;
    /// otherwise the previous step produced them, and the parameters before it are.
    member _.Diverged(epoch: int, step: int64, loss: float) : unit =
        let network, epoch, step, what =
            if Parameters.isFinite workspace.Current then workspace.Materialize(), epoch, step, "the loss is not finite"
            else workspace.MaterializePrevious(), epochOfLastStep, step - 1L, "a parameter is no longer finite"
        let message = $"Training diverged at epoch {epoch}, step {step}: {what} (batch loss {loss}). The last finite network is kept; try a smaller learning rate ({options.Optimizer.Name})."
        raise (TrainingDivergedException<'T>(message, what, network, epoch, step, loss))

    /// One mini-batch, examples order[b·m …], as step `step` + 1: the gradient, the optimizer's
    /// change and w ← w + Δ. Returns the batch's loss.
    [<HotPath>]
    member this.Batch(epoch: int, b: int, step: int64) : float =
        let first = b * m
        // The key of the batch's random draws: the run's seed, the step it is for, its place in the epoch.
        let key = { Seed = options.Seed; Step = step + 1L; First = first }
        let loss = Real.toFloat (workspace.Compute(order, first, Math.Min(first + m, n) - first, x, y, key))
        if not (Double.IsFinite loss) then this.Diverged(epoch, step + 1L, loss)
        let context = contextFor workspace.Current workspace.Gradient
        let u =
            match updates with
            | Some u ->
                Parameters.copyInto (Gradients.arrays workspace.Gradient) (Gradients.arrays u)
                u
            | None -> workspace.Gradient
        workspace.Step(Optimizer.stepInPlace stages context u, u)
        epochOfLastStep <- epoch
        loss

    /// One epoch: a fold over its shuffled mini-batches from batch `first` (0, or where a resumed
    /// checkpoint stands, with the running loss of the batches before it if it kept it) and
    /// optimizer step `step`, stopped between batches by cancellation. Hands out the checkpoints
    /// due between its batches.
    [<HotPath>]
    member this.Epoch(epoch: int, step: int64, first: int, before: float option) : EpochOutcome =
        if m >= n then
            for i in 0 .. n - 1 do order.[i] <- i
        else Random.permutationInto (Random.derive options.Seed (uint64 epoch)) order
        let mutable outcome =
            { Steps = step; Batches = first; LastLoss = nan; RunningLoss = defaultArg before nan
              Counted = (if before.IsSome then first else 0); Cancelled = false }
        while outcome.Batches < batchCount && not outcome.Cancelled do
            if options.Cancellation.IsCancellationRequested then outcome <- { outcome with Cancelled = true }
            else
                let b = outcome.Batches
                let loss = this.Batch(epoch, b, outcome.Steps)
                let running = RunningLoss.update options.RunningLoss outcome.RunningLoss (int64 (outcome.Counted + 1)) loss
                outcome <- { outcome with Steps = outcome.Steps + 1L; Batches = b + 1; LastLoss = loss; RunningLoss = running; Counted = outcome.Counted + 1 }
                if options.Reports = ReportFrequency.EveryBatch then
                    options.OnReport (this.Report(ReportKind.Batch, epoch, b + 1, outcome.Steps, loss, running, None, None))
                if outcome.Batches < batchCount then this.Offer(epoch - 1, outcome)
        outcome

    /// The validation loss and, for classifiers, accuracy of the current parameters.
    member _.Validate() : float option * float option =
        match options.Validation with
        | Some(vx, vy) ->
            let current = workspace.Current
            Some(Evaluation.loss options.Loss current vx vy), (if classifier then Some(Evaluation.accuracy current vx vy) else None)
        | None -> None, None

    interface IDisposable with
        member _.Dispose() = (workspace :> IDisposable).Dispose()

/// Training as a fold: epochs are a fold over shuffled mini-batches, each batch one pure
/// optimizer step on backprop's gradient.
module Training =

    let private validate (options: TrainingOptions<'T>) (network: Network<'T>) (x: Matrix<'T>) (y: Matrix<'T>) =
        if isNull (box options.Optimizer) then nullArg "Optimizer"
        let refuse (name: string) (value: obj) (problem: string option) =
            match problem with
            | Some why -> raise (ArgumentOutOfRangeException(name, value, why))
            | None -> ()
        refuse "Epochs" options.Epochs (TrainingOptions.epochsProblem options.Epochs)
        refuse "BatchSize" options.BatchSize (TrainingOptions.batchSizeProblem options.BatchSize)
        refuse "Shards" options.Shards (Shards.problem options.Shards)
        match options.Execution with
        | ShardExecution.Remote _ when options.Shards = 0 ->
            raise (ArgumentOutOfRangeException("Shards", 0, "A run whose shards are computed elsewhere needs an explicit shard count: it decides the bits of the result."))
        | _ -> ()
        if x.cols = 0 then invalidArg "x" "The training set is empty: there is nothing to learn from."
        if y.cols <> x.cols then invalidArg "y" $"The inputs hold {x.cols} examples but the targets hold {y.cols}; they must match one to one."
        Network.checkInputs network x
        Network.checkTargets network options.Loss x y
        match Network.untrainable network with
        | Some why -> invalidArg "network" why
        | None -> ()
        RunningLoss.validate options.RunningLoss
        match options.Checkpoints with
        | Some schedule ->
            refuse "Checkpoints" schedule.Every (CheckpointInterval.problem schedule.Every)
            if isNull (box schedule.Save) then nullArg "Save"
        | None -> ()
        for rule in options.Stopping do
            match rule with
            | StoppingRule.WeightChange epsilon -> refuse "WeightChange" epsilon (TrainingOptions.weightChangeProblem epsilon)
            | StoppingRule.EarlyStopping patience ->
                refuse "EarlyStopping" patience (TrainingOptions.patienceProblem patience)
                if options.Validation.IsNone then
                    invalidArg "Stopping" "Early stopping watches the validation loss, so it needs validation data (TrainingOptions.Validation)."
        match options.Validation with
        | Some(vx, vy) ->
            Network.checkInputs network vx
            Network.checkTargets network options.Loss vx vy
            if vx.cols = 0 then invalidArg "Validation" "The validation set is empty."
        | None -> ()

    let private result (c: Checkpoint<'T>) (history: TrainingReport list) (stopped: StopReason) : TrainingResult<'T> =
        { Network = c.Network; OptimizerState = c.OptimizerState; Epochs = c.Epoch; Steps = c.Step; History = List.rev history; Stopped = stopped
          RunningLoss = c.RunningLoss }

    /// Early stopping's record after an epoch whose validation loss is `loss`: a new best (a
    /// snapshot of now), or one more epoch without improvement.
    let private track (run: TrainingRun<'T>) (progress: FoldProgress<'T>) (loss: float) : BestEpoch<'T> option * int =
        match progress.Best with
        | Some best when best.ValidationLoss <= loss -> progress.Best, progress.SinceBest + 1
        | _ -> Some { Checkpoint = run.Snapshot(progress.Epoch, progress.Step, None); ValidationLoss = loss }, 0

    /// The stopping decision after an epoch (progress already counts it): a result, or None to go
    /// on. `before` is the network at the epoch's start, when the weight-change rule watches it.
    let private stopAfter (options: TrainingOptions<'T>) (run: TrainingRun<'T>) (before: Network<'T> option) (progress: FoldProgress<'T>) : TrainingResult<'T> option =
        let converged =
            options.Stopping |> List.exists (function
                | StoppingRule.WeightChange epsilon -> before |> Option.exists (fun w -> Real.toFloat (Parameters.distance run.Current w) <= epsilon)
                | StoppingRule.EarlyStopping _ -> false)
        let patience = options.Stopping |> List.tryPick (function StoppingRule.EarlyStopping p -> Some p | _ -> None)
        match patience, progress.Best with
        | Some p, Some best when progress.SinceBest >= p ->
            let c = best.Checkpoint
            Some(result c (progress.History |> List.filter (fun r -> r.Epoch <= c.Epoch)) StopReason.NoImprovement)
        | _ when converged -> Some(result (run.Snapshot(progress.Epoch, progress.Step, None)) progress.History StopReason.WeightsConverged)
        | _ -> None

    /// Epoch progress.Epoch + 1 and what follows it: the fold over epochs.
    let rec private epochs (options: TrainingOptions<'T>) (run: TrainingRun<'T>) (progress: FoldProgress<'T>) : TrainingResult<'T> =
        let epoch = progress.Epoch + 1
        if epoch > options.Epochs then
            if not (Parameters.isFinite run.Current) then run.Diverged(progress.Epoch, progress.Step + 1L, nan)
            result (run.Snapshot(progress.Epoch, progress.Step, progress.RunningLoss)) progress.History StopReason.Completed
        else
            let watchesWeights = options.Stopping |> List.exists (function StoppingRule.WeightChange _ -> true | _ -> false)
            // The weight-change rule compares whole epochs: an epoch resumed part-way has no start
            // to compare with, so the rule first judges the epoch after it.
            let before = if watchesWeights && progress.Within = 0 then Some(Parameters.copy run.Current) else None
            let outcome = run.Epoch(epoch, progress.Step, progress.Within, progress.RunningLoss)
            if outcome.Cancelled then result (run.Snapshot(progress.Epoch, outcome.Steps, run.Carried outcome)) progress.History StopReason.Cancelled
            else
                let validationLoss, validationAccuracy = run.Validate()
                match validationLoss with
                | Some v when not (Double.IsFinite v) -> run.Diverged(epoch, outcome.Steps + 1L, v)
                | _ -> ()
                let report = run.Report(ReportKind.Epoch, epoch, run.BatchCount, outcome.Steps, outcome.LastLoss, outcome.RunningLoss, validationLoss, validationAccuracy)
                options.OnReport report
                let progress = { progress with Epoch = epoch; Step = outcome.Steps; Within = 0; RunningLoss = None; History = report :: progress.History }
                let watchesValidation = options.Stopping |> List.exists (function StoppingRule.EarlyStopping _ -> true | _ -> false)
                let progress =
                    match validationLoss with
                    | Some loss when watchesValidation -> let best, since = track run progress loss in { progress with Best = best; SinceBest = since }
                    | _ -> progress
                run.Offer(epoch, outcome)
                match stopAfter options run before progress with
                | Some finished -> finished
                | None -> epochs options run progress

    /// Runs epochs start.Epoch + 1 … options.Epochs from the checkpoint, the first from the batch
    /// after the checkpoint's.
    let private run (options: TrainingOptions<'T>) (start: Checkpoint<'T>) (x: Matrix<'T>) (y: Matrix<'T>) : TrainingResult<'T> =
        validate options start.Network x y
        match Checkpoint.positionProblem x.cols options.BatchSize start.Epoch start.Step with
        | Some why -> invalidArg "checkpoint" why
        | None -> ()
        let within = int (Checkpoint.batchesDone (Batches.perEpoch x.cols options.BatchSize) start)
        let progress =
            { Epoch = start.Epoch; Step = start.Step; Within = within; RunningLoss = (if within > 0 then start.RunningLoss else None)
              History = []; Best = None; SinceBest = 0 }
        use fold = new TrainingRun<'T>(options, start, x, y)
        epochs options fold progress

    /// Trains the network on inputs x and targets y (one example per column) from a fresh
    /// optimizer state. Pure: the network passed in is unchanged. Throws ArgumentException for
    /// unusable options or data, TrainingDivergedException when the loss blows up.
    let train (options: TrainingOptions<'T>) (network: Network<'T>) (x: Matrix<'T>) (y: Matrix<'T>) : TrainingResult<'T> =
        if isNull (box network) then nullArg "network"
        run options { Network = network; OptimizerState = Optimizer.init options.Optimizer network; Epoch = 0; Step = 0L; RunningLoss = None } x y

    /// Continues training from a checkpoint up to options.Epochs, exactly as the uninterrupted
    /// run would have (same options, same data): from the batch after the checkpoint's, in the
    /// same shuffled order. Throws ArgumentException for a checkpoint whose step does not fit
    /// the options' batches (Checkpoint.positionProblem).
    let resume (options: TrainingOptions<'T>) (checkpoint: Checkpoint<'T>) (x: Matrix<'T>) (y: Matrix<'T>) : TrainingResult<'T> =
        if isNull (box checkpoint) then nullArg "checkpoint"
        if checkpoint.Epoch < 0 then raise (ArgumentOutOfRangeException("checkpoint", checkpoint.Epoch, "A checkpoint's epoch cannot be negative."))
        run options checkpoint x y
