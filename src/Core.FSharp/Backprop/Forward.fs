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

    /// One layer into the buffers of its trace, from t.Input: zˡ and aˡ.
    let internal layerInto (layer: Dense<'T>) (t: LayerTrace<'T>) : unit =
        let rows = layer.weights.rows
        // zˡ = wˡ aˡ⁻¹ + bˡ: each column of z starts as b, then the GEMM adds w·a on top (β = 1)
        for j in 0 .. t.Input.cols - 1 do
            Array.Copy(layer.biases.values, 0, t.Z.values, j * rows, rows)
        Gemm.run false false rows t.Input.cols layer.weights.cols 'T.One layer.weights.values t.Input.values 'T.One t.Z.values
        // aˡ = σ(zˡ)
        Activation.applyInto layer.activation t.Z t.A

    /// The forward pass into the trace's buffers, from the batch in its first layer's Input (each
    /// later layer's Input is the A of the layer below). No checks: for the library's own buffers.
    let internal traceInto (network: Network<'T>) (trace: LayerTrace<'T>[]) : unit =
        let mutable l = 0
        for layer in network.layers do
            layerInto layer trace.[l]
            l <- l + 1

    /// Buffers for one layer's trace on a batch of `columns` examples, left uninitialised.
    let internal allocateLayer (layer: Dense<'T>) (input: Matrix<'T>) : LayerTrace<'T> =
        let buffer () = Matrix.wrap layer.OutputWidth input.cols (Matrix.uninitialized (layer.OutputWidth * input.cols))
        { Input = input; Z = buffer (); A = buffer () }

    /// Buffers for a whole trace whose batch is x (read, never written).
    let internal allocate (network: Network<'T>) (x: Matrix<'T>) : LayerTrace<'T>[] =
        network.layers |> List.mapFold (fun input l -> let t = allocateLayer l input in t, t.A) x |> fst |> Array.ofList

    /// One layer: zˡ = wˡ aˡ⁻¹ + bˡ, aˡ = σ(zˡ).
    let layer (layer: Dense<'T>) (input: Matrix<'T>) : LayerTrace<'T> =
        if input.rows <> layer.InputWidth then
            invalidArg "input" $"The layer expects inputs with {layer.InputWidth} rows (its fan-in), got a {Matrix.shape input} batch."
        let t = allocateLayer layer input
        layerInto layer t
        t

    /// The forward pass keeping every layer's zˡ and aˡ: the tape backprop reads.
    let trace (network: Network<'T>) (x: Matrix<'T>) : Trace<'T> =
        Network.checkInputs network x
        let layers = allocate network x
        traceInto network layers
        { Layers = List.ofArray layers }

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
