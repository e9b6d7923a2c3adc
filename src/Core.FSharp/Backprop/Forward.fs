namespace FunctionalBackprop.Core

open System
open System.Numerics
open FunctionalBackprop.Core.GenericArithmetic

/// What one layer computed in the forward pass, kept for the backward pass: its input aˡ⁻¹,
/// its weighted input zˡ = wˡaˡ⁻¹ + bˡ and its output aˡ = σ(zˡ), one column per example.
type LayerTrace<'T when 'T :> IFloatingPointIeee754<'T>> =
    { /// aˡ⁻¹ (for layer 1, the batch x itself).
      Input: Matrix<'T>
      /// zˡ, the weighted input.
      Z: Matrix<'T>
      /// aˡ = σ(zˡ), the layer's output.
      A: Matrix<'T> }

/// The tape of a forward pass: every layer's trace, input side first. Backprop reads it
/// backwards, which is why the forward pass stores the intermediate values instead of
/// recomputing them (the lecture's "store the repeated derivatives").
type Trace<'T when 'T :> IFloatingPointIeee754<'T>> =
    { /// One entry per layer, input side first.
      Layers: LayerTrace<'T> list }

    /// aᴸ, the network's output.
    member t.Output = (List.last t.Layers).A

/// The forward pass over a whole batch (one example per column).
module Forward =

    /// One layer into given buffers, from its input aˡ⁻¹: zˡ and aˡ.
    [<HotPath>]
    let internal layerInto (layer: Dense<'T>) (input: Matrix<'T>) (z: Matrix<'T>) (a: Matrix<'T>) : unit =
        let rows = layer.weights.rows
        // zˡ = wˡ aˡ⁻¹ + bˡ: each column of z starts as b, then the GEMM adds w·a on top (β = 1)
        for j in 0 .. input.cols - 1 do
            Array.Copy(layer.biases.values, 0, z.values, j * rows, rows)
        Gemm.run false false rows input.cols layer.weights.cols 'T.One layer.weights.values input.values 'T.One z.values
        // aˡ = σ(zˡ)
        Activation.applyInto layer.activation z a

    /// The forward pass into given buffers, from the batch x: every layer's zˡ and aˡ. No checks:
    /// for the library's own buffers.
    [<HotPath>]
    let internal traceInto (network: Network<'T>) (x: Matrix<'T>) (z: Matrix<'T>[]) (a: Matrix<'T>[]) : unit =
        let mutable l = 0
        let mutable input = x
        for layer in network.layers do
            layerInto layer input z.[l] a.[l]
            input <- a.[l]
            l <- l + 1

    /// Buffers for every layer's zˡ (or aˡ) on a batch of `columns` examples, left uninitialised.
    let internal allocate (network: Network<'T>) (columns: int) : Matrix<'T>[] =
        network.layers |> List.map (fun l -> Matrix.wrap l.OutputWidth columns (Matrix.uninitialized (l.OutputWidth * columns))) |> Array.ofList

    /// One layer: zˡ = wˡ aˡ⁻¹ + bˡ, aˡ = σ(zˡ).
    let layer (layer: Dense<'T>) (input: Matrix<'T>) : LayerTrace<'T> =
        if input.rows <> layer.InputWidth then
            invalidArg "input" $"The layer expects inputs with {layer.InputWidth} rows (its fan-in), got a {Matrix.shape input} batch."
        let buffer () = Matrix.wrap layer.OutputWidth input.cols (Matrix.uninitialized (layer.OutputWidth * input.cols))
        let t = { Input = input; Z = buffer (); A = buffer () }
        layerInto layer input t.Z t.A
        t

    /// The forward pass keeping every layer's zˡ and aˡ: the tape backprop reads.
    let trace (network: Network<'T>) (x: Matrix<'T>) : Trace<'T> =
        Network.checkInputs network x
        let z, a = allocate network x.cols, allocate network x.cols
        traceInto network x z a
        { Layers = List.init z.Length (fun l -> { Input = (if l = 0 then x else a.[l - 1]); Z = z.[l]; A = a.[l] }) }

    /// The network's output aᴸ for a batch, f(x) = ψ_L(… ψ₁(x)), keeping nothing else.
    let run (network: Network<'T>) (x: Matrix<'T>) : Matrix<'T> =
        Network.checkInputs network x
        network.layers |> List.fold (fun a l -> (layer l a).A) x

    /// The mean cost C = (1/n) Σₓ Cₓ of the network on a batch, computed stably from zᴸ.
    let cost (loss: Loss) (network: Network<'T>) (x: Matrix<'T>) (y: Matrix<'T>) : 'T =
        let t = trace network x
        Network.checkTargets network loss x y
        let output = List.last t.Layers
        Loss.value loss network.OutputActivation output.Z output.A y
