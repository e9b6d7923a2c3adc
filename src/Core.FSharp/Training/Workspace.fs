namespace FunctionalBackprop.Core

open System
open System.Numerics

/// The buffers for batches of one width: the gathered inputs (the pass's batch) and targets,
/// and the pass's own buffers.
type internal BatchBuffers<'T when 'T :> IFloatingPointIeee754<'T>> = { X: Matrix<'T>; Y: Matrix<'T>; Pass: Pass<'T> }

/// The private working memory of one training run, allocated once and reused by every step: two
/// sets of parameters and the buffers of the forward and backward passes. Every computation is
/// the pure functions' own (Backprop.lossAndGradientInto, Parameters.addScaledInto), run on these
/// buffers, so the training fold gives the pure functions' bits by construction.
///
/// Where and why mutation is safe here: every array in a workspace is created by it and handed
/// to nobody outside the training fold. The fold reads the networks Current and Previous only to
/// evaluate them (validation, line searches) while no step runs, and copies them (Materialize)
/// before anything leaves the run: reports carry no arrays, results and the best network under
/// early stopping are copies. The caller's network and optimizer state are copied in at the start
/// and never written. So no caller ever sees a value change, and the public functions stay pure.
///
/// The parameters live in two sets used in turn: a step writes w + Δ into the spare set and then
/// swaps, so the parameters before the last step are still intact if that step diverged.
type internal Workspace<'T when 'T :> IFloatingPointIeee754<'T>>(loss: Loss, network: Network<'T>, batchSize: int, remainder: int) =
    let mutable current = Parameters.copy network
    let mutable spare = Parameters.copy network
    let buffersFor (width: int) =
        let x = Matrix.zeros network.InputWidth width
        { X = x; Y = Matrix.zeros network.OutputWidth width; Pass = Backprop.allocate network (Forward.allocate network x) ValueNone }
    let full = buffersFor batchSize
    let partial = if remainder > 0 then Some(buffersFor remainder) else None
    let mutable batch = full

    /// The parameters now. Private arrays: read, never hand out (see Materialize).
    member _.Current = current

    /// The parameters before the last step.
    member _.Previous = spare

    /// The gradient of the last batch, in buffers that the next step overwrites.
    member _.Gradient = batch.Pass.Gradients

    /// The last batch's inputs and targets (buffers).
    member _.Batch = batch.X, batch.Y

    /// A copy of the current parameters that nothing here will ever change.
    member _.Materialize() = Parameters.copy current

    /// A copy of the parameters before the last step.
    member _.MaterializePrevious() = Parameters.copy spare

    /// Gathers the examples at indices[start .. start + count − 1] of x and y into the batch
    /// buffers, runs the forward and backward passes, and returns the batch's mean cost; the
    /// gradient is left in Gradient.
    member _.Compute(indices: int[], start: int, count: int, x: Matrix<'T>, y: Matrix<'T>) : 'T =
        batch <- (if count = batchSize then full else partial.Value)
        for k in 0 .. count - 1 do
            let j = indices.[start + k]
            Array.Copy(x.values, j * x.rows, batch.X.values, k * x.rows, x.rows)
            Array.Copy(y.values, j * y.rows, batch.Y.values, k * y.rows, y.rows)
        Backprop.lossAndGradientInto loss current batch.Pass batch.Y

    /// w ← w + α·Δ, written into the spare set, which then becomes the current one.
    member _.Step(alpha: 'T, delta: Gradients<'T>) : unit =
        Parameters.addScaledInto alpha delta current spare
        let previous = current
        current <- spare
        spare <- previous
