namespace FunctionalBackprop.Core

open System
open System.Numerics

/// A layer to be made, or a made layer described without its parameters: its kind and settings.
/// Every kind has one case here and in Layer, and its mathematics in a file of its own.
[<RequireQualifiedAccess>]
type LayerSpec =
    /// A fully connected layer of `units` units with σ; its weights drawn by the initializer, or
    /// when None by the one that suits its activation (Initializer.forActivation; for an identity
    /// σ followed by an activation layer, that layer's σ).
    | Dense of units: int * activation: Activation * initializer: Initializer option
    /// σ on its own.
    | Activation of activation: Activation
    /// Inverted dropout of rate p.
    | Dropout of rate: float

/// One layer of a network, of one of the kinds. Each layer is an operation z = f(a_in) of its own
/// (affine, the identity, a mask, …) followed by an activation a = σ(z) (the identity for the
/// kinds that have none); Forward and Backprop apply σ and its derivative around the kind's own
/// steps, so the loss's fused paths see the last layer's z and σ whatever its kind. Immutable.
[<RequireQualifiedAccess>]
type Layer<'T when 'T :> IFloatingPointIeee754<'T>> =
    /// z = w a_in + b, then σ.
    | Dense of Dense<'T>
    /// z = a_in, then σ.
    | Activation of Activation
    /// z = a_in ⊙ mask in training, a_in in inference.
    | Dropout of Dropout

    /// "dense 784→30 sigmoid", "activation relu", "dropout(p = 0.5)".
    override l.ToString() =
        match l with
        | Dense d -> string d
        | Activation f -> $"activation {Activation.name f}"
        | Dropout d -> string d

/// What each kind of layer is, by its description: shape rule, parameters, σ.
module LayerSpec =

    /// "dense", "activation", "dropout".
    let kind (spec: LayerSpec) : string =
        match spec with
        | LayerSpec.Dense _ -> "dense"
        | LayerSpec.Activation _ -> "activation"
        | LayerSpec.Dropout _ -> "dropout"

    /// Why the settings are out of range, if they are.
    let problem (spec: LayerSpec) : string option =
        match spec with
        | LayerSpec.Dense(units, _, _) when units < 1 -> Some $"A dense layer needs at least one unit, got {units}."
        | LayerSpec.Dense(_, activation, _)
        | LayerSpec.Activation activation -> Activation.problem activation
        | LayerSpec.Dropout rate when not (rate >= 0.0 && rate < 1.0) ->
            Some $"A dropout rate is a probability in [0, 1): the chance that a unit is dropped, got {rate.ToString(Globalization.CultureInfo.InvariantCulture)}."
        | LayerSpec.Dropout _ -> None

    /// The shape of the layer's output for inputs of the given shape.
    let outputShape (spec: LayerSpec) (input: Shape) : Shape =
        match spec with
        | LayerSpec.Dense(units, _, _) -> Dense.outputShape units input
        | LayerSpec.Activation _ -> ActivationLayer.outputShape input
        | LayerSpec.Dropout _ -> Dropout.outputShape input

    /// The layer's parameter tensors on inputs of the given shape, in order.
    let parameterSpecs (spec: LayerSpec) (input: Shape) : ParameterSpec list =
        match spec with
        | LayerSpec.Dense(units, _, _) -> Dense.parameterSpecs units input
        | LayerSpec.Activation _
        | LayerSpec.Dropout _ -> []

    /// The rows of each scratch buffer the layer keeps from its forward step for its backward step
    /// (each one column per example).
    let scratchRows (spec: LayerSpec) (input: Shape) : int list =
        match spec with
        | LayerSpec.Dense _
        | LayerSpec.Activation _ -> []
        | LayerSpec.Dropout _ -> [ input.Size ]

    /// σ, applied after the kind's own step.
    let activation (spec: LayerSpec) : Activation =
        match spec with
        | LayerSpec.Dense(_, activation, _)
        | LayerSpec.Activation activation -> activation
        | LayerSpec.Dropout _ -> Activation.Identity

    /// The short form a network's description lists: σ's name, or "dropout(0.5)".
    let tag (spec: LayerSpec) : string =
        match spec with
        | LayerSpec.Dense(_, activation, _)
        | LayerSpec.Activation activation -> Activation.name activation
        | LayerSpec.Dropout rate -> $"dropout({rate.ToString(Globalization.CultureInfo.InvariantCulture)})"

/// Layers of every kind: each function dispatches to the kind's own file.
module Layer =

    /// The layer's description without its parameters (a dense layer's initializer is None).
    let spec (layer: Layer<'T>) : LayerSpec =
        match layer with
        | Layer.Dense d -> LayerSpec.Dense(d.OutputWidth, d.Activation, None)
        | Layer.Activation f -> LayerSpec.Activation f
        | Layer.Dropout d -> LayerSpec.Dropout d.Rate

    /// "dense", "activation", "dropout" (LayerSpec.kind's names, without allocating).
    let kind (layer: Layer<'T>) : string =
        match layer with
        | Layer.Dense _ -> "dense"
        | Layer.Activation _ -> "activation"
        | Layer.Dropout _ -> "dropout"

    /// σ, applied after the kind's own step.
    let activation (layer: Layer<'T>) : Activation =
        match layer with
        | Layer.Dense d -> d.Activation
        | Layer.Activation f -> f
        | Layer.Dropout _ -> Activation.Identity

    /// The parameter tensors, in the order of LayerSpec.parameterSpecs.
    let parameters (layer: Layer<'T>) : Matrix<'T> list =
        match layer with
        | Layer.Dense d -> Dense.parameters d
        | Layer.Activation _
        | Layer.Dropout _ -> []

    /// The layer made from its description and parameter tensors (in order) for inputs of the
    /// given shape. Throws ArgumentException when the settings are out of range or a tensor's
    /// shape or value is not what the layer needs.
    let ofParameters (spec: LayerSpec) (input: Shape) (tensors: Matrix<'T> list) : Layer<'T> =
        match LayerSpec.problem spec with
        | Some why -> invalidArg "spec" why
        | None -> ()
        let expected = LayerSpec.parameterSpecs spec input
        if tensors.Length <> expected.Length then
            invalidArg "tensors" $"A {LayerSpec.kind spec} layer has {expected.Length} parameter tensors, got {tensors.Length}."
        List.iter2
            (fun (p: ParameterSpec) (m: Matrix<'T>) ->
                if isNull (box m) then nullArg "tensors"
                if m.rows <> p.Rows || m.cols <> p.Columns then
                    invalidArg "tensors" $"On inputs of shape {input}, a {LayerSpec.kind spec} layer's {p.Name} is {p.Rows}×{p.Columns}, got {Matrix.shape m}.")
            expected tensors
        match spec with
        | LayerSpec.Dense(_, activation, _) -> Layer.Dense(Dense.ofParameters activation tensors)
        | LayerSpec.Activation f -> Layer.Activation f
        | LayerSpec.Dropout rate -> Layer.Dropout(Dropout.create rate)

    /// The layer on inputs of the given shape with its parameters drawn from the seed, by the
    /// spec's initializer or the one that suits the σ they feed (`next` is the spec after it).
    let init<'T when 'T :> IFloatingPointIeee754<'T>> (seed: uint64) (input: Shape) (spec: LayerSpec) (next: LayerSpec option) : Layer<'T> =
        match LayerSpec.problem spec with
        | Some why -> invalidArg "spec" why
        | None -> ()
        match spec with
        | LayerSpec.Dense(units, activation, chosen) ->
            // The σ the weights feed: the layer's own, or for an identity σ, that of an
            // activation layer right after it (so that Dense(n, ReLU) and Dense(n) then
            // Activation(ReLU) draw the same weights).
            let feeds =
                match activation, next with
                | Activation.Identity, Some(LayerSpec.Activation following) -> following
                | _ -> activation
            let initializer = chosen |> Option.defaultWith (fun () -> Initializer.forActivation feeds)
            Layer.Dense(Dense.init seed input.Size units activation initializer)
        | LayerSpec.Activation f -> Layer.Activation f
        | LayerSpec.Dropout rate -> Layer.Dropout(Dropout.create rate)

    /// The same layer over the given tensors, of the shapes of its own (no checks: for the
    /// library's own copies and updates).
    let internal withParameters (tensors: Matrix<'T> list) (layer: Layer<'T>) : Layer<'T> =
        match layer with
        | Layer.Dense d -> Layer.Dense(Dense.withParameters tensors d)
        | Layer.Activation _
        | Layer.Dropout _ -> layer

    /// The same layer in another real type (float ↔ float32).
    let convert<'T, 'U when 'T :> IFloatingPointIeee754<'T> and 'U :> IFloatingPointIeee754<'U>> (layer: Layer<'T>) : Layer<'U> =
        match layer with
        | Layer.Dense d -> Layer.Dense(Dense.convert d)
        | Layer.Activation f -> Layer.Activation f
        | Layer.Dropout d -> Layer.Dropout d

    /// The kind's own forward step into z, from the input (one example per column), with the
    /// mode's key (Mode.key: none in inference); `index` is the layer's position in the network
    /// (from 1), scratch its buffers.
    [<HotPath>]
    let internal forwardInto (layer: Layer<'T>) (draws: BatchKey voption) (index: int) (input: Matrix<'T>) (z: Matrix<'T>) (scratch: Matrix<'T>[]) : unit =
        match layer with
        | Layer.Dense d -> Dense.forwardInto d input z
        | Layer.Activation _ -> ActivationLayer.forwardInto input z
        | Layer.Dropout d -> Dropout.forwardInto d draws index input z scratch.[0]

    /// The kind's own backward step from δ = ∂C/∂z: the gradient of each parameter tensor into
    /// gradient (in order), and ∂C/∂a_in into inputGradient when one is wanted.
    [<HotPath>]
    let internal backwardInto
        (layer: Layer<'T>) (input: Matrix<'T>) (delta: Matrix<'T>) (scratch: Matrix<'T>[]) (gradient: Matrix<'T>[]) (inputGradient: Matrix<'T> voption) : unit =
        match layer with
        | Layer.Dense d -> Dense.backwardInto d input delta gradient inputGradient
        | Layer.Activation _ -> ActivationLayer.backwardInto delta inputGradient
        | Layer.Dropout _ -> Dropout.backwardInto delta scratch.[0] inputGradient

    /// The kind's own step for example `example` of the batch, one scalar at a time, given its
    /// parameter tensors as column-major arrays of scalars (for automatic differentiation).
    let scalarForward (s: ScalarArithmetic<'S>) (layer: Layer<'T>) (mode: Mode) (index: int) (example: int) (tensors: 'S[][]) (input: 'S[]) : 'S[] =
        match layer with
        | Layer.Dense _ -> Dense.scalarForward s tensors input
        | Layer.Activation _ -> input
        | Layer.Dropout d -> Dropout.scalarForward s d mode index example input
