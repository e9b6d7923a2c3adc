namespace FunctionalBackprop.Core

open System
open System.Numerics
open System.Numerics.Tensors

/// The buffers for batches of one width: one set per shard computed here (none when an executor
/// computes them elsewhere), each shard's cost total, share and statistics, and the batch's
/// gradient and statistics (with one shard, that shard's own).
type internal BatchBuffers<'T when 'T :> IFloatingPointIeee754<'T>> =
    { Shards: ShardBuffers<'T>[]
      Totals: float[]
      Shares: Gradients<'T>[]
      /// Each shard's statistics for the layers' state (Pass.Statistics).
      Statistics: float[][]
      /// The batch's: the shards' added in shard order.
      StatisticsTotal: float[]
      /// StatisticsTotal, then the shards' statistics, shaped for the ordered sum.
      StatisticsSum: float[][] * float[][][]
      Gradient: Gradients<'T>
      /// The arrays of Gradient, then of each share, for the ordered sum.
      Sum: 'T[][] * 'T[][][] }

/// The private working memory of one training run, allocated once and reused by every step: two
/// sets of parameters, the buffers of each shard's forward and backward passes, and the threads
/// that run the shards at once. Every computation is the pure functions' own
/// (Backprop.lossAndGradientInto, Shards' ordered sum, Parameters.addScaledInto), run on these
/// buffers, so the training fold gives the pure functions' bits by construction.
///
/// Where and why mutation is safe here: every array in a workspace is created by it and handed
/// to nobody outside the training fold. The fold reads the network Current only to
/// evaluate it (validation, line searches) while no step runs, and copies the parameters (Materialize)
/// before anything leaves the run: reports carry no arrays, results and the best network under
/// early stopping are copies. The caller's network and optimizer state are copied in at the start
/// and never written. So no caller ever sees a value change, and the public functions stay pure.
///
/// The parameters live in two sets used in turn: a step writes w + Δ into the spare set and then
/// swaps, so the parameters before the last step are still intact if that step diverged.
type internal Workspace<'T when 'T :> IFloatingPointIeee754<'T>>(loss: Loss, network: Network<'T>, batchSize: int, remainder: int, shards: int, executor: IShardExecutor<'T> option) =
    let mutable current = Parameters.copy network
    let mutable spare = Parameters.copy network
    let buffersFor (width: int) =
        let k = Shards.count width shards
        let shardBuffers i =
            let struct (_, size) = Shards.range width shards i
            Shards.buffers network size
        let parts = if executor.IsSome then [||] else Array.init k shardBuffers
        let shares = if executor.IsSome then Array.init k (fun _ -> Gradients.zero network) else parts |> Array.map (fun p -> p.Pass.Gradients)
        let gradient = if k = 1 then shares.[0] else Gradients.zero network
        let statistics = if executor.IsSome then Array.init k (fun _ -> Array.zeroCreate network.StatisticsLength) else parts |> Array.map (fun p -> p.Pass.Statistics)
        let statisticsTotal = if k = 1 then statistics.[0] else Array.zeroCreate network.StatisticsLength
        { Shards = parts; Totals = Array.zeroCreate k; Shares = shares; Statistics = statistics
          StatisticsTotal = statisticsTotal; StatisticsSum = [| statisticsTotal |], statistics |> Array.map (fun s -> [| s |])
          Gradient = gradient; Sum = Gradients.arrays gradient, Array.map Gradients.arrays shares }
    let full = buffersFor batchSize
    let partial = if remainder > 0 then Some(buffersFor remainder) else None
    // The batch being computed: its buffers, examples, size and data.
    let mutable batch = full
    let mutable indices: int[] = [||]
    let mutable first = 0
    let mutable count = 0
    let mutable inputs = Unchecked.defaultof<Matrix<'T>>
    let mutable targets = Unchecked.defaultof<Matrix<'T>>
    let mutable key = { Seed = 0UL; Step = 0L; First = 0 }

    /// Shard k of the batch: gathers its examples and runs its forward and backward passes.
    [<HotPath>]
    let shard (k: int) =
        if k < batch.Shards.Length then
            let struct (start, size) = Shards.range count shards k
            let draws = ValueSome { key with First = key.First + start }
            batch.Totals.[k] <- Shards.shareInto draws loss current batch.Shards.[k] (ReadOnlySpan(indices, first + start, size)) inputs targets count

    let workers = if full.Shards.Length > 1 then Some(new ShardWorkers(full.Shards.Length, shard)) else None

    /// The parameters now. Private arrays: read, never hand out (see Materialize).
    member _.Current = current

    /// The gradient of the last batch, in buffers that the next step overwrites.
    member _.Gradient = batch.Gradient

    /// The last batch's key (for a line search's cost, in the batch's own mode).
    member _.Key = key

    /// The last batch's inputs and targets, gathered whole (for a line search's cost).
    member _.Batch =
        if executor.IsNone && batch.Shards.Length = 1 then batch.Shards.[0].Pass.X, batch.Shards.[0].Y
        else Matrix.selectColumns indices.[first .. first + count - 1] inputs, Matrix.selectColumns indices.[first .. first + count - 1] targets

    /// A copy of the current parameters that nothing here will ever change.
    member _.Materialize() = Parameters.copy current

    /// A copy of the parameters before the last step.
    member _.MaterializePrevious() = Parameters.copy spare

    /// Runs the forward and backward passes in training mode with the batch's key on the examples
    /// at indices[start .. start + n − 1] of x and y, shards at once (on this process's threads,
    /// or through the executor), adds the shards' shares (and statistics) in shard order into
    /// Gradient and returns the batch's mean cost.
    [<HotPath>]
    member _.Compute(order: int[], start: int, n: int, x: Matrix<'T>, y: Matrix<'T>, batchKey: BatchKey) : 'T =
        batch <- (if n = batchSize then full else partial.Value)
        indices <- order
        first <- start
        count <- n
        inputs <- x
        targets <- y
        key <- batchKey
        match executor, workers with
        | Some e, _ -> e.Compute(current, batchKey, ReadOnlyMemory(order, start, n), batch.Totals, batch.Shares, batch.Statistics)
        | None, Some w when batch.Shards.Length > 1 -> w.Run()
        | None, _ -> shard 0
        let gradient, parts = batch.Sum
        // ∇C = share₀ + share₁ + …, in shard order (with one shard, its share is the gradient)
        if parts.Length > 1 then
            Shards.sumInto gradient parts
            if batch.StatisticsTotal.Length > 0 then Shards.sumInto (fst batch.StatisticsSum) (snd batch.StatisticsSum)
        Real.ofFloat (Shards.total batch.Totals / float n)

    /// w ← w + α·Δ and the state updated by the last batch's statistics, written into the spare
    /// set, which then becomes the current one.
    member _.Step(alpha: 'T, delta: Gradients<'T>) : unit =
        Parameters.addScaledInto alpha (Gradients.arrays delta) current spare
        Network.updateStateInto current batch.StatisticsTotal spare
        let previous = current
        current <- spare
        spare <- previous

    interface IDisposable with
        member _.Dispose() =
            workers |> Option.iter (fun w -> (w :> IDisposable).Dispose())
            executor |> Option.iter (fun e -> e.Dispose())
