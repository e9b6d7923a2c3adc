namespace FunctionalBackprop.Core

open System
open System.Numerics

/// The buffers of one forward and one backward pass over batches of one width: the batch x, every
/// layer's zˡ, aˡ, scratch, ∂C/∂aˡ, δˡ and parameter gradients. The pure functions allocate one
/// per call; the training fold allocates one per batch width and reuses it, as does a
/// GradientBuffer.
type internal Pass<'T when 'T :> IFloatingPointIeee754<'T>> =
    { /// The batch, one example per column (read, never written).
      mutable X: Matrix<'T>
      /// zˡ of every layer, input side first.
      Z: Matrix<'T>[]
      /// aˡ = σ(zˡ) of every layer.
      A: Matrix<'T>[]
      /// What each layer's kind keeps from its forward step for its backward step.
      Scratch: Matrix<'T>[][]
      /// What the layers report in training for their state's update (Network.statisticsOf).
      Statistics: float[]
      /// ∂C/∂aˡ of every layer: the last is where the loss (or the caller) puts what it sends
      /// down; below it, what the layer above sends.
      OutputGradients: Matrix<'T>[]
      /// δˡ = ∂C/∂zˡ of every layer.
      Deltas: Matrix<'T>[]
      /// The gradient of each of layer l's parameter tensors, at index l.
      Gradient: Matrix<'T>[][]
      /// The same gradient as a record (over the same buffers).
      Gradients: Gradients<'T> }

    /// aˡ⁻¹, layer l's input (l from 0): the batch for the first layer.
    member p.Input(l: int) = if l = 0 then p.X else p.A.[l - 1]

/// Backpropagation: the gradient of the cost with respect to every parameter from one forward
/// and one backward pass over a batch, following Nielsen's four equations
///   BP1  δᴸ = ∇ₐC ⊙ σ'(zᴸ)
///   BP2  δˡ = ((wˡ⁺¹)ᵀ δˡ⁺¹) ⊙ σ'(zˡ)
///   BP3  ∂C/∂bˡ = δˡ
///   BP4  ∂C/∂wˡ = δˡ (aˡ⁻¹)ᵀ
/// in matrix form over the mini-batch (columns are examples, so BP3 sums δ over columns and
/// BP4's product sums over examples). The "⊙ σ'" of BP1 and BP2 is applied here, for every
/// layer (for σ that are not element-wise, softmax, it is the vector–Jacobian product of
/// Activation.backward); what each kind does with δˡ — BP3, BP4 and BP2's product for a dense
/// layer, a mask for dropout — is its own backward step (Layer.backwardInto).
module Backprop =

    let private uninitialized<'T when 'T :> IFloatingPointIeee754<'T>> (rows: int) (cols: int) : Matrix<'T> = Matrix.wrap rows cols (Matrix.uninitialized (rows * cols))

    /// Buffers for a pass over the batch x (kept, not copied) with the given zˡ, aˡ and scratch
    /// buffers. The output layer's ∂C/∂aᴸ is `top` when given (the caller's upstream, read and
    /// never written), else a new buffer.
    let internal over
        (network: Network<'T>) (x: Matrix<'T>) (z: Matrix<'T>[]) (a: Matrix<'T>[]) (scratch: Matrix<'T>[][]) (statistics: float[]) (top: Matrix<'T> voption) : Pass<'T> =
        let perLayer () = z |> Array.map (fun m -> uninitialized<'T> m.rows x.cols)
        let outputGradients = perLayer ()
        top |> ValueOption.iter (fun m -> outputGradients.[z.Length - 1] <- m)
        let tensors = network.tensors |> Array.map (fun m -> uninitialized m.rows m.cols)
        let gradients = Gradients.ofTensors network tensors
        { X = x
          Z = z
          A = a
          Scratch = scratch
          Statistics = statistics
          OutputGradients = outputGradients
          Deltas = perLayer ()
          Gradient = gradients.Layers |> List.map (fun l -> Array.ofList l.Tensors) |> Array.ofList
          Gradients = gradients }

    /// All the buffers of a pass over the batch x (kept, not copied).
    let internal allocate (network: Network<'T>) (x: Matrix<'T>) : Pass<'T> =
        over network x (Forward.allocate network x.cols) (Forward.allocate network x.cols) (Forward.allocateScratch network x.cols) (Array.zeroCreate network.StatisticsLength) ValueNone

    /// One layer's step of the backward pass: its δ, then its kind's step (its gradient, and what
    /// it sends below).
    [<HotPath>]
    let private step (network: Network<'T>) (pass: Pass<'T>) (fused: bool) (inputGradient: Matrix<'T> voption) (l: int) (layer: Layer<'T>) : unit =
        let delta =
            if fused && l = pass.Z.Length - 1 then pass.OutputGradients.[l]
            else
                // BP1 at the output layer, BP2's Hadamard product below it: δˡ = ∂C/∂aˡ ⊙ σ'(zˡ)
                Activation.backwardInto (Layer.activation layer) pass.Z.[l] pass.A.[l] pass.OutputGradients.[l] pass.Deltas.[l]
                pass.Deltas.[l]
        let below = if l > 0 then ValueSome pass.OutputGradients.[l - 1] else inputGradient
        Layer.backwardInto layer network.inputs.[l] (pass.Input l) delta pass.Scratch.[l] pass.Gradient.[l] below

    /// The layers from the output down (layer l and those above it): each steps once those above it have.
    [<HotPath>]
    let rec private down (network: Network<'T>) (pass: Pass<'T>) (fused: bool) (inputGradient: Matrix<'T> voption) (l: int) (layers: Layer<'T> list) : unit =
        match layers with
        | [] -> ()
        | layer :: above ->
            down network pass fused inputGradient (l + 1) above
            step network pass fused inputGradient l layer

    /// The backward pass into the pass's buffers, from the output layer down, given what the
    /// output layer received in OutputGradients (δᴸ itself when `fused`); also ∂C/∂x into
    /// inputGradient when one is given (otherwise skipped: for a dense first layer it would cost
    /// a third of the pass).
    [<HotPath>]
    let internal backwardInto (network: Network<'T>) (pass: Pass<'T>) (fused: bool) (inputGradient: Matrix<'T> voption) : unit =
        down network pass fused inputGradient 0 network.layers

    /// One forward pass with the mode's key (Mode.key) and one backward pass into the pass's buffers, for the
    /// batch in its trace and the targets y, as part of a batch of `examples` examples (all of
    /// them, or the shard of a larger batch this pass holds): returns the sum of their costs
    /// Σₓ Cₓ, in float64, and leaves (1/examples)·Σₓ ∇Cₓ in pass.Gradient. No checks: for buffers
    /// the library made for this network.
    [<HotPath>]
    let internal lossAndGradientInto (draws: BatchKey voption) (loss: Loss) (network: Network<'T>) (pass: Pass<'T>) (y: Matrix<'T>) (examples: int) : float =
        Forward.traceInto draws network pass.X pass.Z pass.A pass.Scratch pass.Statistics
        let last = pass.Z.Length - 1
        let total = Loss.total loss network.OutputActivation pass.Z.[last] pass.A.[last] y
        let fused = Loss.upstreamInto loss network.OutputActivation pass.Z.[last] pass.A.[last] y examples pass.OutputGradients.[last].values
        backwardInto network pass fused ValueNone
        total

    let private checkTrace (network: Network<'T>) (trace: Trace<'T>) =
        if trace.Layers.Length <> network.Depth then
            invalidArg "trace" $"The trace has {trace.Layers.Length} layers but the network has {network.Depth}."
        List.iteri2
            (fun i (input: Shape, output: Shape) (t: LayerTrace<'T>) ->
                if t.Input.rows <> input.Size || t.Z.rows <> output.Size || t.A.rows <> output.Size then
                    invalidArg "trace" $"Layer {i + 1} takes {input.Size} values to {output.Size} but its trace holds input {Matrix.shape t.Input}, z {Matrix.shape t.Z}.")
            (List.pairwise network.Shapes) trace.Layers

    /// The backward pass from what the loss (or a function after the network) sends down:
    /// the gradient record of every layer and the gradient with respect to the input ∂C/∂x, so
    /// that networks and other differentiable code compose by the chain rule. Linear in
    /// `upstream`. The trace carries the forward pass's mode (dropout's masks).
    let backward (network: Network<'T>) (trace: Trace<'T>) (upstream: Upstream<'T>) : Gradients<'T> * Matrix<'T> =
        checkTrace network trace
        let layers = Array.ofList trace.Layers
        let input = layers.[0].Input
        let pass =
            over network input (layers |> Array.map (fun t -> t.Z)) (layers |> Array.map (fun t -> t.A)) (layers |> Array.map (fun t -> Array.ofList t.Scratch)) trace.Statistics (ValueSome(Upstream.matrix upstream))
        let dx = uninitialized<'T> input.rows input.cols
        backwardInto network pass (match upstream with Delta _ -> true | OutputGradient _ -> false) (ValueSome dx)
        pass.Gradients, dx

    /// The mean cost C = (1/n) Σₓ Cₓ of the batch in the given mode and its gradient ∇C with
    /// respect to every parameter (the mean of the per-example gradients), from one forward and
    /// one backward pass.
    let lossAndGradient (mode: Mode) (loss: Loss) (network: Network<'T>) (x: Matrix<'T>) (y: Matrix<'T>) : 'T * Gradients<'T> =
        Network.checkInputs network x
        Network.checkTargets network loss x y
        let pass = allocate network x
        let total = lossAndGradientInto (Mode.key mode) loss network pass y x.cols
        Real.ofFloat (total / float x.cols), pass.Gradients

    /// The gradient ∇C of the batch's mean cost in the given mode with respect to every parameter.
    let gradient (mode: Mode) (loss: Loss) (network: Network<'T>) (x: Matrix<'T>) (y: Matrix<'T>) : Gradients<'T> =
        snd (lossAndGradient mode loss network x y)
