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

    /// zˡ = wˡ aˡ⁻¹ + bˡ into z: each column of z starts as b, then the GEMM adds w·a on top
    /// (β = 1), which saves a separate pass for the bias.
    let internal weightedInputInto (layer: Dense<'T>) (input: 'T[]) (columns: int) (z: 'T[]) : unit =
        let rows = layer.weights.rows
        for j in 0 .. columns - 1 do
            Array.Copy(layer.biases.values, 0, z, j * rows, rows)
        Gemm.run false false rows columns layer.weights.cols 'T.One layer.weights.values input 'T.One z

    /// One layer: zˡ = wˡ aˡ⁻¹ + bˡ, aˡ = σ(zˡ).
    let layer (layer: Dense<'T>) (input: Matrix<'T>) : LayerTrace<'T> =
        if input.rows <> layer.InputWidth then
            invalidArg "input" $"The layer expects inputs with {layer.InputWidth} rows (its fan-in), got a {Matrix.shape input} batch."
        let z = Matrix.uninitialized (layer.OutputWidth * input.cols)
        weightedInputInto layer input.values input.cols z
        let z = Matrix.wrap layer.OutputWidth input.cols z
        { Input = input; Z = z; A = Activation.apply layer.activation z }

    /// The forward pass keeping every layer's zˡ and aˡ: the tape backprop reads.
    let trace (network: Network<'T>) (x: Matrix<'T>) : Trace<'T> =
        Network.checkInputs network x
        let traces, _ = network.layers |> List.mapFold (fun a l -> let t = layer l a in t, t.A) x
        { Layers = traces }

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
