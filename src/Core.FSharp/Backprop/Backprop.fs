namespace FunctionalBackprop.Core

open System
open System.Numerics

/// The buffers of one forward and one backward pass over batches of one width: the batch x, every
/// layer's zˡ, aˡ, ∂C/∂aˡ, δˡ and gradient. The pure functions allocate one per call; the training
/// fold allocates one per batch width and reuses it, as does a GradientBuffer.
type internal Pass<'T when 'T :> IFloatingPointIeee754<'T>> =
    { /// The batch, one example per column (read, never written).
      mutable X: Matrix<'T>
      /// zˡ of every layer, input side first.
      Z: Matrix<'T>[]
      /// aˡ = σ(zˡ) of every layer.
      A: Matrix<'T>[]
      /// ∂C/∂aˡ of every layer: the last is where the loss (or the caller) puts what it sends
      /// down; below it, BP2's product from the layer above.
      OutputGradients: Matrix<'T>[]
      /// δˡ = ∂C/∂zˡ of every layer.
      Deltas: Matrix<'T>[]
      /// ∂C/∂wˡ and ∂C/∂bˡ of every layer.
      Gradient: LayerGradient<'T>[]
      /// The same gradient as a record (over the same buffers).
      Gradients: Gradients<'T> }

    /// aˡ⁻¹, layer l's input (l from 0): the batch for the first layer.
    member p.Input(l: int) = if l = 0 then p.X else p.A.[l - 1]

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

    let private uninitialized<'T when 'T :> IFloatingPointIeee754<'T>> (rows: int) (cols: int) : Matrix<'T> = Matrix.wrap rows cols (Matrix.uninitialized (rows * cols))

    /// Buffers for a pass over the batch x (kept, not copied) with the given zˡ and aˡ buffers.
    /// The output layer's ∂C/∂aᴸ is `top` when given (the caller's upstream, read and never
    /// written), else a new buffer.
    let internal over (network: Network<'T>) (x: Matrix<'T>) (z: Matrix<'T>[]) (a: Matrix<'T>[]) (top: Matrix<'T> voption) : Pass<'T> =
        let layers = Array.ofList network.layers
        let perLayer () = layers |> Array.map (fun l -> uninitialized<'T> l.OutputWidth x.cols)
        let outputGradients = perLayer ()
        top |> ValueOption.iter (fun m -> outputGradients.[layers.Length - 1] <- m)
        let gradient = layers |> Array.map (fun l -> { dW = uninitialized l.OutputWidth l.InputWidth; db = uninitialized l.OutputWidth 1 })
        { X = x
          Z = z
          A = a
          OutputGradients = outputGradients
          Deltas = perLayer ()
          Gradient = gradient
          Gradients = { Layers = List.ofArray gradient } }

    /// All the buffers of a pass over the batch x (kept, not copied).
    let internal allocate (network: Network<'T>) (x: Matrix<'T>) : Pass<'T> =
        over network x (Forward.allocate network x.cols) (Forward.allocate network x.cols) ValueNone

    /// One layer's step of the backward pass: its δ, its gradient, and what it sends below.
    [<HotPath>]
    let private step (pass: Pass<'T>) (fused: bool) (inputGradient: Matrix<'T> voption) (l: int) (layer: Dense<'T>) : unit =
        let delta =
            if fused && l = pass.Z.Length - 1 then pass.OutputGradients.[l]
            else
                // BP1 at the output layer, BP2's Hadamard product below it: δˡ = ∂C/∂aˡ ⊙ σ'(zˡ)
                Activation.backwardInto layer.activation pass.Z.[l] pass.A.[l] pass.OutputGradients.[l] pass.Deltas.[l]
                pass.Deltas.[l]
        let g = pass.Gradient.[l]
        // BP3: ∂C/∂bˡ = δˡ, summed over the examples (columns)
        Matrix.sumColumnsInto delta g.db.values
        // BP4: ∂C/∂wˡ = δˡ (aˡ⁻¹)ᵀ
        Gemm.run false true layer.OutputWidth layer.InputWidth delta.cols 'T.One delta.values (pass.Input l).values 'T.Zero g.dW.values
        // BP2's product for the layer below: ∂C/∂aˡ⁻¹ = (wˡ)ᵀ δˡ
        match (if l > 0 then ValueSome pass.OutputGradients.[l - 1] else inputGradient) with
        | ValueSome below -> Gemm.run true false layer.InputWidth delta.cols layer.OutputWidth 'T.One layer.weights.values delta.values 'T.Zero below.values
        | ValueNone -> ()

    /// The layers from the output down (layer l and those above it): each steps once those above it have.
    [<HotPath>]
    let rec private down (pass: Pass<'T>) (fused: bool) (inputGradient: Matrix<'T> voption) (l: int) (layers: Dense<'T> list) : unit =
        match layers with
        | [] -> ()
        | layer :: above ->
            down pass fused inputGradient (l + 1) above
            step pass fused inputGradient l layer

    /// The backward pass into the pass's buffers, from the output layer down, given what the
    /// output layer received in OutputGradients (δᴸ itself when `fused`); also ∂C/∂x = (w¹)ᵀ δ¹
    /// into inputGradient when one is given (otherwise skipped: it would cost a third of the pass).
    [<HotPath>]
    let internal backwardInto (network: Network<'T>) (pass: Pass<'T>) (fused: bool) (inputGradient: Matrix<'T> voption) : unit =
        down pass fused inputGradient 0 network.layers

    /// One forward and one backward pass into the pass's buffers, for the batch in its trace and
    /// the targets y, as part of a batch of `examples` examples (all of them, or the shard of a
    /// larger batch this pass holds): returns the sum of their costs Σₓ Cₓ, in float64, and leaves
    /// (1/examples)·Σₓ ∇Cₓ in pass.Gradient. No checks: for buffers the library made for this network.
    [<HotPath>]
    let internal lossAndGradientInto (loss: Loss) (network: Network<'T>) (pass: Pass<'T>) (y: Matrix<'T>) (examples: int) : float =
        Forward.traceInto network pass.X pass.Z pass.A
        let last = pass.Z.Length - 1
        let total = Loss.total loss network.OutputActivation pass.Z.[last] pass.A.[last] y
        let fused = Loss.upstreamInto loss network.OutputActivation pass.Z.[last] pass.A.[last] y examples pass.OutputGradients.[last].values
        backwardInto network pass fused ValueNone
        total

    let private checkTrace (network: Network<'T>) (trace: Trace<'T>) =
        if trace.Layers.Length <> network.Depth then
            invalidArg "trace" $"The trace has {trace.Layers.Length} layers but the network has {network.Depth}."
        List.iteri2
            (fun i (l: Dense<'T>) (t: LayerTrace<'T>) ->
                if t.Z.rows <> l.OutputWidth || t.Input.rows <> l.InputWidth || t.A.rows <> l.OutputWidth then
                    invalidArg "trace" $"Layer {i + 1} is {l.InputWidth}→{l.OutputWidth} but its trace holds input {Matrix.shape t.Input}, z {Matrix.shape t.Z}.")
            network.Layers trace.Layers

    /// The backward pass from what the loss (or a function after the network) sends down:
    /// the gradient record of every layer and the gradient with respect to the input,
    /// ∂C/∂x = (w¹)ᵀ δ¹, so that networks and other differentiable code compose by the chain
    /// rule. Linear in `upstream`.
    let backward (network: Network<'T>) (trace: Trace<'T>) (upstream: Upstream<'T>) : Gradients<'T> * Matrix<'T> =
        checkTrace network trace
        let layers = Array.ofList trace.Layers
        let input = layers.[0].Input
        let pass = over network input (layers |> Array.map (fun t -> t.Z)) (layers |> Array.map (fun t -> t.A)) (ValueSome(Upstream.matrix upstream))
        let dx = uninitialized<'T> input.rows input.cols
        backwardInto network pass (match upstream with Delta _ -> true | OutputGradient _ -> false) (ValueSome dx)
        pass.Gradients, dx

    /// The mean cost C = (1/n) Σₓ Cₓ of the batch and its gradient ∇C with respect to every
    /// parameter (the mean of the per-example gradients), from one forward and one backward pass.
    let lossAndGradient (loss: Loss) (network: Network<'T>) (x: Matrix<'T>) (y: Matrix<'T>) : 'T * Gradients<'T> =
        Network.checkInputs network x
        Network.checkTargets network loss x y
        let pass = allocate network x
        let total = lossAndGradientInto loss network pass y x.cols
        Real.ofFloat (total / float x.cols), pass.Gradients

    /// The gradient ∇C of the batch's mean cost with respect to every parameter.
    let gradient (loss: Loss) (network: Network<'T>) (x: Matrix<'T>) (y: Matrix<'T>) : Gradients<'T> =
        snd (lossAndGradient loss network x y)
