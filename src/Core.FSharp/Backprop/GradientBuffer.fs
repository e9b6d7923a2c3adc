namespace FunctionalBackprop.Core

open System
open System.Numerics

/// Buffers for a network's gradient on batches of one size, computed again and again without
/// allocating: for training loops of one's own and repeated gradient checks. Made once for the
/// network's shapes and the batch size; each call writes over the previous results, so copy what
/// must outlive the next call. One buffer per thread.
[<Sealed>]
type GradientBuffer<'T when 'T :> IFloatingPointIeee754<'T>>(network: Network<'T>, batchSize: int) =
    do
        if isNull (box network) then nullArg "network"
        if batchSize < 1 then raise (ArgumentOutOfRangeException("batchSize", batchSize, $"A batch needs at least 1 example, got {batchSize}."))
    // What the buffers' sizes depend on: the shapes, each layer's kind, each tensor's shape.
    let shapes = Array.ofList network.Shapes
    let kinds = network.Layers |> List.map Layer.kind |> Array.ofList
    let tensors = network.tensors |> Array.map (fun m -> struct (m.rows, m.cols))
    let pass = Backprop.allocate network (Matrix.zeros network.InputWidth batchSize)

    /// Whether n has the layout the buffers were made for (walked without allocating).
    let fits (n: Network<'T>) =
        let mutable same = n.Depth = kinds.Length && n.tensors.Length = tensors.Length
        let mutable i = 0
        for s in n.Shapes do
            same <- same && i < shapes.Length && s.Equals(shapes.[i])
            i <- i + 1
        i <- 0
        for l in n.Layers do
            same <- same && i < kinds.Length && String.Equals(Layer.kind l, kinds.[i])
            i <- i + 1
        for k in 0 .. (if same then tensors.Length - 1 else -1) do
            let struct (rows, cols) = tensors.[k]
            same <- same && n.tensors.[k].rows = rows && n.tensors.[k].cols = cols
        same

    [<HotPath>]
    let check (loss: Loss) (n: Network<'T>) (x: Matrix<'T>) (y: Matrix<'T>) =
        if isNull (box n) then nullArg "network"
        if not (fits n) then
            invalidArg "network" $"The buffer was made for a network laid out as {network}, not {n}."
        Network.checkInputs n x
        if x.cols <> batchSize then
            invalidArg "x" $"The buffer was made for batches of {batchSize} examples, but x holds {x.cols} (one column per example)."
        Network.checkTargets n loss x y

    /// The batch size the buffer was made for.
    member _.BatchSize = batchSize

    /// Whether the buffers fit the network: the shapes, kinds and parameter tensors of the one
    /// the buffer was made for.
    member _.Fits(n: Network<'T>) : bool = not (isNull (box n)) && fits n

    /// The network layout the buffer was made for, as the network describes itself.
    member _.Layout: string = string network

    /// The gradient of every parameter tensor from the last LossAndGradient, over the buffer's
    /// own arrays (written over by the next call).
    member _.Gradient: Gradients<'T> = pass.Gradients

    /// What the last pass in training mode reported for the layers' state (Network.updateState),
    /// written over by the next call.
    member _.Statistics: float[] = pass.Statistics

    /// The network's output aᴸ on the last batch (written over by the next call).
    member _.Output: Matrix<'T> = pass.A.[pass.A.Length - 1]

    /// The batch's mean cost C = (1/n) Σₓ Cₓ in the given mode and, in Gradient, its gradient
    /// ∇C: what Backprop.lossAndGradient computes, bit for bit, with no allocation. The network
    /// must have the layout the buffer was made for, and x the batch size.
    [<HotPath>]
    member _.LossAndGradient(mode: Mode, loss: Loss, network: Network<'T>, x: Matrix<'T>, y: Matrix<'T>) : 'T =
        check loss network x y
        pass.X <- x
        Real.ofFloat (Backprop.lossAndGradientInto (Mode.key mode) loss network pass y x.cols / float x.cols)

    /// The batch's mean cost alone, from a forward pass in the buffer's arrays: what Forward.cost
    /// computes, bit for bit, with no allocation.
    [<HotPath>]
    member _.Loss(mode: Mode, loss: Loss, network: Network<'T>, x: Matrix<'T>, y: Matrix<'T>) : 'T =
        check loss network x y
        Forward.traceInto (Mode.key mode) network x pass.Z pass.A pass.Scratch pass.Statistics
        let last = pass.Z.Length - 1
        Loss.value loss network.OutputActivation pass.Z.[last] pass.A.[last] y
