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
    let widths = network.InputWidth :: (network.Layers |> List.map (fun l -> l.OutputWidth))
    let pass = Backprop.allocate network (Matrix.zeros network.InputWidth batchSize)

    [<HotPath>]
    let check (loss: Loss) (n: Network<'T>) (x: Matrix<'T>) (y: Matrix<'T>) =
        if isNull (box n) then nullArg "network"
        let mutable same = n.InputWidth = widths.Head && n.Depth = widths.Length - 1
        let mutable rest = widths.Tail
        for l in n.Layers do
            if same then
                same <- l.OutputWidth = rest.Head
                rest <- rest.Tail
        if not same then
            invalidArg "network" $"The buffer was made for a {String.Join('-', widths)} network, not {n}."
        Network.checkInputs n x
        if x.cols <> batchSize then
            invalidArg "x" $"The buffer was made for batches of {batchSize} examples, but x holds {x.cols} (one column per example)."
        Network.checkTargets n loss x y

    /// The batch size the buffer was made for.
    member _.BatchSize = batchSize

    /// ∂C/∂w and ∂C/∂b of the last LossAndGradient, over the buffer's own arrays (written over by
    /// the next call).
    member _.Gradient: Gradients<'T> = pass.Gradients

    /// The network's output aᴸ on the last batch (written over by the next call).
    member _.Output: Matrix<'T> = pass.A.[pass.A.Length - 1]

    /// The batch's mean cost C = (1/n) Σₓ Cₓ and, in Gradient, its gradient ∇C: what
    /// Backprop.lossAndGradient computes, bit for bit, with no allocation. The network must have
    /// the shapes the buffer was made for, and x the batch size.
    [<HotPath>]
    member _.LossAndGradient(loss: Loss, network: Network<'T>, x: Matrix<'T>, y: Matrix<'T>) : 'T =
        check loss network x y
        pass.X <- x
        Real.ofFloat (Backprop.lossAndGradientInto loss network pass y x.cols / float x.cols)

    /// The batch's mean cost alone, from a forward pass in the buffer's arrays: what Forward.cost
    /// computes, bit for bit, with no allocation.
    [<HotPath>]
    member _.Loss(loss: Loss, network: Network<'T>, x: Matrix<'T>, y: Matrix<'T>) : 'T =
        check loss network x y
        Forward.traceInto network x pass.Z pass.A
        let last = pass.Z.Length - 1
        Loss.value loss network.OutputActivation pass.Z.[last] pass.A.[last] y
