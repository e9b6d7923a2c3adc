namespace FunctionalBackprop.Core

open System
open System.Numerics

/// Backpropagation: the gradient of the cost with respect to every weight and bias from one
/// forward and one backward pass over a batch, following Nielsen's four equations
///   BP1  δᴸ = ∇ₐC ⊙ σ'(zᴸ)
///   BP2  δˡ = ((wˡ⁺¹)ᵀ δˡ⁺¹) ⊙ σ'(zˡ)
///   BP3  ∂C/∂bˡ = δˡ
///   BP4  ∂C/∂wˡ = δˡ (aˡ⁻¹)ᵀ
/// in matrix form over the mini-batch (columns are examples, so BP3 sums δ over columns and
/// BP4's product sums over examples). For σ that are not element-wise (softmax), "⊙ σ'" is the
/// vector–Jacobian product of Activation.backward.
module Backprop =

    /// One step of the backward fold, from what the layer above sent down to this layer's
    /// gradient and what this layer sends to the layer below.
    let private step (needBelow: bool) (gradients: LayerGradient<'T> list, upstream: Upstream<'T>) (layer: Dense<'T>, t: LayerTrace<'T>) =
        let delta =
            match upstream with
            | Delta d -> d
            // BP1 at the output, BP2's Hadamard product below it: δˡ = ∂C/∂aˡ ⊙ σ'(zˡ)
            | OutputGradient g -> Activation.backward layer.Activation t.Z t.A g
        // BP3: ∂C/∂bˡ = δˡ, summed over the examples (columns)
        let db = Matrix.sumColumns delta
        // BP4: ∂C/∂wˡ = δˡ (aˡ⁻¹)ᵀ
        let dW = Matrix.multiplyTransposeRight delta t.Input
        // BP2's product for the layer below: ∂C/∂aˡ⁻¹ = (wˡ)ᵀ δˡ
        // (skipped for layer 1 when nobody asked for ∂C/∂x: it would cost a third of the pass)
        let below = if needBelow then Matrix.multiplyTransposeLeft layer.Weights delta else delta
        { dW = dW; db = db } :: gradients, OutputGradient below

    let private checkTrace (network: Network<'T>) (trace: Trace<'T>) =
        if trace.Layers.Length <> network.Depth then
            invalidArg "trace" $"The trace has {trace.Layers.Length} layers but the network has {network.Depth}."
        List.iteri2
            (fun i (l: Dense<'T>) (t: LayerTrace<'T>) ->
                if t.Z.rows <> l.OutputWidth || t.Input.rows <> l.InputWidth || t.A.rows <> l.OutputWidth then
                    invalidArg "trace" $"Layer {i + 1} is {l.InputWidth}→{l.OutputWidth} but its trace holds input {Matrix.shape t.Input}, z {Matrix.shape t.Z}.")
            network.Layers trace.Layers

    /// The fold over the reversed trace; the first layer computes (w¹)ᵀδ¹ only when asked.
    let private fold (needInput: bool) (network: Network<'T>) (trace: Trace<'T>) (upstream: Upstream<'T>) =
        checkTrace network trace
        List.zip network.Layers trace.Layers
        |> List.rev
        |> List.indexed
        |> List.fold (fun state (i, pair) -> step (needInput || i < network.Depth - 1) state pair) ([], upstream)

    /// The backward pass from what the loss (or a function after the network) sends down:
    /// the gradient record of every layer and the gradient with respect to the input,
    /// ∂C/∂x = (w¹)ᵀ δ¹, so that networks and other differentiable code compose by the chain
    /// rule. Linear in `upstream`.
    let backward (network: Network<'T>) (trace: Trace<'T>) (upstream: Upstream<'T>) : Gradients<'T> * Matrix<'T> =
        match fold true network trace upstream with
        | gradients, OutputGradient input -> { Layers = gradients }, input
        | gradients, Delta input -> { Layers = gradients }, input

    /// The mean cost C = (1/n) Σₓ Cₓ of the batch and its gradient ∇C with respect to every
    /// parameter (the mean of the per-example gradients), from one forward and one backward pass.
    let lossAndGradient (loss: Loss) (network: Network<'T>) (x: Matrix<'T>) (y: Matrix<'T>) : 'T * Gradients<'T> =
        let trace = Forward.trace network x
        Network.checkTargets network loss x y
        let output = List.last trace.Layers
        let cost = Loss.value loss network.OutputActivation output.Z output.A y
        let upstream = Loss.upstream loss network.OutputActivation output.Z output.A y
        cost, { Layers = fst (fold false network trace upstream) }

    /// The gradient ∇C of the batch's mean cost with respect to every parameter.
    let gradient (loss: Loss) (network: Network<'T>) (x: Matrix<'T>) (y: Matrix<'T>) : Gradients<'T> =
        snd (lossAndGradient loss network x y)
