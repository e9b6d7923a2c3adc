namespace FunctionalBackprop.Core

open System
open System.Numerics
open System.Numerics.Tensors
open FunctionalBackprop.Core.GenericArithmetic

/// The buffers for batches of one width: the gathered batch and every layer's zˡ, aˡ, δˡ and
/// ∂C/∂aˡ, one column per example.
type internal BatchBuffers<'T when 'T :> IFloatingPointIeee754<'T>> =
    { X: Matrix<'T>
      Y: Matrix<'T>
      Z: Matrix<'T>[]
      A: Matrix<'T>[]
      Delta: Matrix<'T>[]
      Up: Matrix<'T>[] }

/// The private working memory of one training run, allocated once and reused by every step.
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
/// Every kernel is the one the pure path uses (Forward.weightedInputInto, Activation.applyInto,
/// Loss.value and upstreamInto, Activation.backwardInto, Matrix.sumColumnsInto, Gemm.run, and the
/// optimizer's transforms), with the same arguments in the same order, so the two paths give the
/// same bits.
type internal Workspace<'T when 'T :> IFloatingPointIeee754<'T>>(loss: Loss, network: Network<'T>, batchSize: int, remainder: int) =
    let copy (n: Network<'T>) =
        Network.mapLayers (fun _ l -> Dense.withParameters (Matrix.wrap l.Weights.rows l.Weights.cols (Array.copy l.Weights.values)) (Matrix.wrap l.Biases.rows 1 (Array.copy l.Biases.values)) l) n
    let mutable current = copy network
    let mutable spare = copy network
    // The layers of both sets as arrays, swapped with them, so a step indexes them without
    // building lists or tuples.
    let mutable currentLayers = Array.ofList current.layers
    let mutable spareLayers = Array.ofList spare.layers
    let depth = network.Depth
    let widths = network.Layers |> List.map (fun l -> l.OutputWidth) |> Array.ofList
    let activations = network.Layers |> List.map (fun l -> l.Activation) |> Array.ofList
    let gradient = Gradients.zero network
    let gradientLayers = Array.ofList gradient.Layers
    let buffersFor (width: int) =
        let matrices () = widths |> Array.map (fun units -> Matrix.zeros<'T> units width)
        { X = Matrix.zeros network.InputWidth width
          Y = Matrix.zeros network.OutputWidth width
          Z = matrices ()
          A = matrices ()
          Delta = matrices ()
          Up = matrices () }
    let full = buffersFor batchSize
    let partial = if remainder > 0 then Some(buffersFor remainder) else None
    let mutable batch = full

    /// The parameters now. Private arrays: read, never hand out (see Materialize).
    member _.Current = current

    /// The parameters before the last step.
    member _.Previous = spare

    /// The gradient of the last batch, in buffers that the next step overwrites.
    member _.Gradient = gradient

    /// The last batch's inputs and targets (buffers).
    member _.Batch = batch.X, batch.Y

    /// A copy of the current parameters that nothing here will ever change.
    member _.Materialize() = copy current

    /// A copy of the parameters before the last step.
    member _.MaterializePrevious() = copy spare

    /// Gathers the examples at `indices` from x and y, runs the forward and backward passes, and
    /// returns the batch's mean cost; the gradient is left in Gradient.
    member this.Compute(indices: int[], x: Matrix<'T>, y: Matrix<'T>) : 'T = this.Compute(indices, 0, indices.Length, x, y)

    /// As Compute, for the examples at indices[start .. start + count − 1] (no slice is made).
    member _.Compute(indices: int[], start: int, count: int, x: Matrix<'T>, y: Matrix<'T>) : 'T =
        batch <- (if count = batchSize then full else partial.Value)
        let b = batch
        for k in 0 .. count - 1 do
            let j = indices.[start + k]
            Array.Copy(x.values, j * x.rows, b.X.values, k * x.rows, x.rows)
            Array.Copy(y.values, j * y.rows, b.Y.values, k * y.rows, y.rows)
        let layers = current.layers
        // Forward, as Forward.layer: zˡ = wˡaˡ⁻¹ + bˡ, aˡ = σ(zˡ).
        let mutable input = b.X
        let mutable l = 0
        for layer in layers do
            Forward.weightedInputInto layer input.values input.cols b.Z.[l].values
            Activation.applyInto (layer.activation, widths.[l], ReadOnlySpan b.Z.[l].values, Span b.A.[l].values)
            input <- b.A.[l]
            l <- l + 1
        let last = depth - 1
        let cost = Loss.value loss activations.[last] b.Z.[last] b.A.[last] b.Y
        // BP1 (or the fused δᴸ), as Backprop.lossAndGradient.
        let mutable delta =
            if Loss.upstreamInto loss activations.[last] b.Z.[last] b.A.[last] b.Y b.Up.[last].values then b.Up.[last]
            else
                Activation.backwardInto (activations.[last], widths.[last], ReadOnlySpan b.Z.[last].values, ReadOnlySpan b.A.[last].values, ReadOnlySpan b.Up.[last].values, Span b.Delta.[last].values)
                b.Delta.[last]
        // The backward fold, as Backprop's step, from the output layer down.
        for l in last .. -1 .. 0 do
            let layer = currentLayers.[l]
            let aIn = if l = 0 then b.X else b.A.[l - 1]
            let g = gradientLayers.[l]
            // BP3: ∂C/∂bˡ = δˡ, summed over the examples
            Matrix.sumColumnsInto delta g.db.values
            // BP4: ∂C/∂wˡ = δˡ (aˡ⁻¹)ᵀ
            Gemm.run false true widths.[l] layer.InputWidth delta.cols 'T.One delta.values aIn.values 'T.Zero g.dW.values
            if l > 0 then
                // BP2: δˡ⁻¹ = ((wˡ)ᵀ δˡ) ⊙ σ'(zˡ⁻¹)
                Gemm.run true false layer.InputWidth delta.cols widths.[l] 'T.One layer.weights.values delta.values 'T.Zero b.Up.[l - 1].values
                Activation.backwardInto (activations.[l - 1], widths.[l - 1], ReadOnlySpan b.Z.[l - 1].values, ReadOnlySpan b.A.[l - 1].values, ReadOnlySpan b.Up.[l - 1].values, Span b.Delta.[l - 1].values)
                delta <- b.Delta.[l - 1]
        cost

    /// Makes the spare set the current one (after a step wrote into it).
    member private _.Swap() =
        let previous, previousLayers = current, currentLayers
        current <- spare
        currentLayers <- spareLayers
        spare <- previous
        spareLayers <- previousLayers

    /// w ← w + factor·u, in one pass into the spare set, which then becomes the current one.
    member this.ApplyScaled(u: Gradients<'T>, factor: 'T) : unit =
        let mutable l = 0
        for d in u.Layers do
            let w, target = currentLayers.[l], spareLayers.[l]
            TensorPrimitives.MultiplyAdd(ReadOnlySpan d.dW.values, factor, ReadOnlySpan w.weights.values, Span target.weights.values)
            TensorPrimitives.MultiplyAdd(ReadOnlySpan d.db.values, factor, ReadOnlySpan w.biases.values, Span target.biases.values)
            l <- l + 1
        this.Swap()

    /// w ← w + Δ, written into the spare set, which then becomes the current one.
    member this.Apply(change: Gradients<'T>) : unit =
        let mutable l = 0
        for d in change.Layers do
            let w, target = currentLayers.[l], spareLayers.[l]
            TensorPrimitives.Add(ReadOnlySpan w.weights.values, ReadOnlySpan d.dW.values, Span target.weights.values)
            TensorPrimitives.Add(ReadOnlySpan w.biases.values, ReadOnlySpan d.db.values, Span target.biases.values)
            l <- l + 1
        this.Swap()
