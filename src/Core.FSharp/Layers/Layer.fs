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
    /// A 2-D convolution of `filters` filters of the kernel's size, with the stride and zero
    /// padding, then σ; weights drawn as for a dense layer, by fan-in C·kₕ·k_w.
    | Conv2D of filters: int * kernel: Window * stride: Window * padding: Window * activation: Activation * initializer: Initializer option
    /// Max pooling over windows of the kernel's size, with the stride and (−∞) padding.
    | MaxPool2D of kernel: Window * stride: Window * padding: Window
    /// Average pooling over windows of the kernel's size, with the stride and zero padding
    /// (counted in the divisor).
    | AvgPool2D of kernel: Window * stride: Window * padding: Window
    /// An image's values as a vector, in C-H-W order.
    | Flatten
    /// Batch normalisation over channels (images) or units (vectors), with the running
    /// statistics' momentum and ε.
    | BatchNorm of momentum: float * epsilon: float

/// One layer of a network, of one of the kinds. Each layer is an operation z = f(a_in) of its own
/// (affine, a convolution, the identity, a mask, a pooling, a normalisation) followed by an
/// activation a = σ(z) (the identity for the kinds that have none); Forward and Backprop apply σ
/// and its derivative around the kind's own steps, so the loss's fused paths see the last layer's
/// z and σ whatever its kind. Immutable.
[<RequireQualifiedAccess>]
type Layer<'T when 'T :> IFloatingPointIeee754<'T>> =
    /// z = w a_in + b, then σ.
    | Dense of Dense<'T>
    /// z = a_in, then σ.
    | Activation of Activation
    /// z = a_in ⊙ mask in training, a_in in inference.
    | Dropout of Dropout
    /// z = w ⋆ a_in + b, then σ.
    | Conv2D of Conv2D<'T>
    /// z = the largest value of each window.
    | MaxPool2D of MaxPool2D
    /// z = the mean of each window.
    | AvgPool2D of AvgPool2D
    /// z = a_in as a vector.
    | Flatten
    /// z = γ·(a_in − μ)/√(σ² + ε) + β.
    | BatchNorm of BatchNorm<'T>

    /// "dense 784→30 sigmoid", "activation relu", "dropout(p = 0.5)", "conv 1→6 5×5 stride 1×1 relu", ….
    override l.ToString() =
        match l with
        | Dense d -> string d
        | Activation f -> $"activation {Activation.name f}"
        | Dropout d -> string d
        | Conv2D c -> string c
        | MaxPool2D p -> string p
        | AvgPool2D p -> string p
        | Flatten -> "flatten"
        | BatchNorm b -> string b

/// What each kind of layer is, by its description: shape rule, parameters, state, σ.
module LayerSpec =

    let private invariant (x: float) = x.ToString(Globalization.CultureInfo.InvariantCulture)

    /// "dense", "activation", "dropout", "conv2d", "maxpool2d", "avgpool2d", "flatten", "batchnorm".
    let kind (spec: LayerSpec) : string =
        match spec with
        | LayerSpec.Dense _ -> "dense"
        | LayerSpec.Activation _ -> "activation"
        | LayerSpec.Dropout _ -> "dropout"
        | LayerSpec.Conv2D _ -> "conv2d"
        | LayerSpec.MaxPool2D _ -> "maxpool2d"
        | LayerSpec.AvgPool2D _ -> "avgpool2d"
        | LayerSpec.Flatten -> "flatten"
        | LayerSpec.BatchNorm _ -> "batchnorm"

    /// Why the settings are out of range, if they are.
    let problem (spec: LayerSpec) : string option =
        match spec with
        | LayerSpec.Dense(units, _, _) when units < 1 -> Some $"A dense layer needs at least one unit, got {units}."
        | LayerSpec.Dense(_, activation, _)
        | LayerSpec.Activation activation -> Activation.problem activation
        | LayerSpec.Dropout rate when not (rate >= 0.0 && rate < 1.0) ->
            Some $"A dropout rate is a probability in [0, 1): the chance that a unit is dropped, got {invariant rate}."
        | LayerSpec.Dropout _ -> None
        | LayerSpec.Conv2D(filters, kernel, stride, padding, activation, _) ->
            Conv2D.settingsProblem filters kernel stride padding |> Option.orElse (Activation.problem activation)
        | LayerSpec.MaxPool2D(kernel, stride, padding) -> Windows.settingsProblem "max pooling" true kernel stride padding
        | LayerSpec.AvgPool2D(kernel, stride, padding) -> Windows.settingsProblem "average pooling" true kernel stride padding
        | LayerSpec.Flatten -> None
        | LayerSpec.BatchNorm(momentum, epsilon) -> BatchNorm.settingsProblem momentum epsilon

    /// Why the layer cannot take inputs of the given shape, if it cannot (convolution and
    /// pooling take images large enough for a window; every other kind takes any shape).
    let inputProblem (spec: LayerSpec) (input: Shape) : string option =
        match spec with
        | LayerSpec.Conv2D(_, kernel, _, padding, _, _) -> Windows.inputProblem "convolution" kernel padding input
        | LayerSpec.MaxPool2D(kernel, _, padding) -> Windows.inputProblem "max pooling" kernel padding input
        | LayerSpec.AvgPool2D(kernel, _, padding) -> Windows.inputProblem "average pooling" kernel padding input
        | LayerSpec.Dense _
        | LayerSpec.Activation _
        | LayerSpec.Dropout _
        | LayerSpec.Flatten
        | LayerSpec.BatchNorm _ -> None

    /// The shape of the layer's output for inputs of the given shape.
    let outputShape (spec: LayerSpec) (input: Shape) : Shape =
        match spec with
        | LayerSpec.Dense(units, _, _) -> Dense.outputShape units input
        | LayerSpec.Activation _ -> ActivationLayer.outputShape input
        | LayerSpec.Dropout _ -> Dropout.outputShape input
        | LayerSpec.Conv2D(filters, kernel, stride, padding, _, _) -> Conv2D.outputShape filters kernel stride padding input
        | LayerSpec.MaxPool2D(kernel, stride, padding) -> MaxPool2D.outputShape kernel stride padding input
        | LayerSpec.AvgPool2D(kernel, stride, padding) -> AvgPool2D.outputShape kernel stride padding input
        | LayerSpec.Flatten -> Flatten.outputShape input
        | LayerSpec.BatchNorm _ -> BatchNorm.outputShape input

    /// The layer's parameter tensors on inputs of the given shape, in order.
    let parameterSpecs (spec: LayerSpec) (input: Shape) : ParameterSpec list =
        match spec with
        | LayerSpec.Dense(units, _, _) -> Dense.parameterSpecs units input
        | LayerSpec.Conv2D(filters, kernel, _, _, _, _) -> Conv2D.parameterSpecs filters kernel input
        | LayerSpec.BatchNorm _ -> BatchNorm.parameterSpecs input
        | LayerSpec.Activation _
        | LayerSpec.Dropout _
        | LayerSpec.MaxPool2D _
        | LayerSpec.AvgPool2D _
        | LayerSpec.Flatten -> []

    /// The layer's state tensors on inputs of the given shape, in order: values that training
    /// changes but gradient descent does not (batch normalisation's running statistics).
    let stateSpecs (spec: LayerSpec) (input: Shape) : ParameterSpec list =
        match spec with
        | LayerSpec.BatchNorm _ -> BatchNorm.stateSpecs input
        | LayerSpec.Dense _
        | LayerSpec.Activation _
        | LayerSpec.Dropout _
        | LayerSpec.Conv2D _
        | LayerSpec.MaxPool2D _
        | LayerSpec.AvgPool2D _
        | LayerSpec.Flatten -> []

    /// The length of what a training step of the layer reports for its state's update (batch
    /// normalisation's count, Σx and Σx²), 0 for kinds without state.
    let statisticsLength (spec: LayerSpec) (input: Shape) : int =
        match spec with
        | LayerSpec.BatchNorm _ -> BatchNorm.statisticsLength input
        | LayerSpec.Dense _
        | LayerSpec.Activation _
        | LayerSpec.Dropout _
        | LayerSpec.Conv2D _
        | LayerSpec.MaxPool2D _
        | LayerSpec.AvgPool2D _
        | LayerSpec.Flatten -> 0

    /// Whether each example's output depends on that example alone in every mode (false for batch
    /// normalisation in training, which normalises by the batch's statistics).
    let isPerExample (spec: LayerSpec) : bool =
        match spec with
        | LayerSpec.BatchNorm _ -> false
        | LayerSpec.Dense _
        | LayerSpec.Activation _
        | LayerSpec.Dropout _
        | LayerSpec.Conv2D _
        | LayerSpec.MaxPool2D _
        | LayerSpec.AvgPool2D _
        | LayerSpec.Flatten -> true

    /// The rows of each scratch buffer the layer keeps from its forward step for its backward step
    /// (each one column per example).
    let scratchRows (spec: LayerSpec) (input: Shape) : int list =
        match spec with
        | LayerSpec.Dropout _ -> [ input.Size ]
        | LayerSpec.Conv2D(filters, kernel, stride, padding, _, _) -> Conv2D.scratchRows filters kernel stride padding input
        | LayerSpec.BatchNorm _ -> BatchNorm.scratchRows input
        | LayerSpec.Dense _
        | LayerSpec.Activation _
        | LayerSpec.MaxPool2D _
        | LayerSpec.AvgPool2D _
        | LayerSpec.Flatten -> []

    /// σ, applied after the kind's own step.
    let activation (spec: LayerSpec) : Activation =
        match spec with
        | LayerSpec.Dense(_, activation, _)
        | LayerSpec.Activation activation
        | LayerSpec.Conv2D(_, _, _, _, activation, _) -> activation
        | LayerSpec.Dropout _
        | LayerSpec.MaxPool2D _
        | LayerSpec.AvgPool2D _
        | LayerSpec.Flatten
        | LayerSpec.BatchNorm _ -> Activation.Identity

    /// The short form a network's description lists: σ's name, or "dropout(0.5)", "max(2×2)", ….
    let tag (spec: LayerSpec) : string =
        match spec with
        | LayerSpec.Dense(_, activation, _)
        | LayerSpec.Activation activation -> Activation.name activation
        | LayerSpec.Dropout rate -> $"dropout({invariant rate})"
        | LayerSpec.Conv2D(_, kernel, _, _, activation, _) -> $"conv({kernel}) {Activation.name activation}"
        | LayerSpec.MaxPool2D(kernel, _, _) -> $"max({kernel})"
        | LayerSpec.AvgPool2D(kernel, _, _) -> $"avg({kernel})"
        | LayerSpec.Flatten -> "flatten"
        | LayerSpec.BatchNorm _ -> "batchnorm"

/// Layers of every kind: each function dispatches to the kind's own file.
module Layer =

    /// The layer's description without its parameters (an initializer is None).
    let spec (layer: Layer<'T>) : LayerSpec =
        match layer with
        | Layer.Dense d -> LayerSpec.Dense(d.OutputWidth, d.Activation, None)
        | Layer.Activation f -> LayerSpec.Activation f
        | Layer.Dropout d -> LayerSpec.Dropout d.Rate
        | Layer.Conv2D c -> LayerSpec.Conv2D(c.Filters, c.Kernel, c.Stride, c.Padding, c.Activation, None)
        | Layer.MaxPool2D p -> LayerSpec.MaxPool2D(p.Kernel, p.Stride, p.Padding)
        | Layer.AvgPool2D p -> LayerSpec.AvgPool2D(p.Kernel, p.Stride, p.Padding)
        | Layer.Flatten -> LayerSpec.Flatten
        | Layer.BatchNorm b -> LayerSpec.BatchNorm(b.Momentum, b.Epsilon)

    /// LayerSpec.kind's names, without allocating.
    let kind (layer: Layer<'T>) : string =
        match layer with
        | Layer.Dense _ -> "dense"
        | Layer.Activation _ -> "activation"
        | Layer.Dropout _ -> "dropout"
        | Layer.Conv2D _ -> "conv2d"
        | Layer.MaxPool2D _ -> "maxpool2d"
        | Layer.AvgPool2D _ -> "avgpool2d"
        | Layer.Flatten -> "flatten"
        | Layer.BatchNorm _ -> "batchnorm"

    /// σ, applied after the kind's own step.
    let activation (layer: Layer<'T>) : Activation =
        match layer with
        | Layer.Dense d -> d.Activation
        | Layer.Activation f -> f
        | Layer.Conv2D c -> c.Activation
        | Layer.Dropout _
        | Layer.MaxPool2D _
        | Layer.AvgPool2D _
        | Layer.Flatten
        | Layer.BatchNorm _ -> Activation.Identity

    /// The parameter tensors, in the order of LayerSpec.parameterSpecs.
    let parameters (layer: Layer<'T>) : Matrix<'T> list =
        match layer with
        | Layer.Dense d -> Dense.parameters d
        | Layer.Conv2D c -> Conv2D.parameters c
        | Layer.BatchNorm b -> BatchNorm.parameters b
        | Layer.Activation _
        | Layer.Dropout _
        | Layer.MaxPool2D _
        | Layer.AvgPool2D _
        | Layer.Flatten -> []

    /// The state tensors, in the order of LayerSpec.stateSpecs.
    let state (layer: Layer<'T>) : Matrix<'T> list =
        match layer with
        | Layer.BatchNorm b -> BatchNorm.state b
        | Layer.Dense _
        | Layer.Activation _
        | Layer.Dropout _
        | Layer.Conv2D _
        | Layer.MaxPool2D _
        | Layer.AvgPool2D _
        | Layer.Flatten -> []

    /// Throws ArgumentException unless the tensors have the shapes the specs give.
    let private checkShapes (spec: LayerSpec) (input: Shape) (what: string) (expected: ParameterSpec list) (tensors: Matrix<'T> list) =
        if isNull (box tensors) then nullArg what
        if tensors.Length <> expected.Length then
            invalidArg what $"A {LayerSpec.kind spec} layer has {expected.Length} {what}, got {tensors.Length}."
        List.iter2
            (fun (p: ParameterSpec) (m: Matrix<'T>) ->
                if isNull (box m) then nullArg what
                if m.rows <> p.Rows || m.cols <> p.Columns then
                    invalidArg what $"On inputs of shape {input}, a {LayerSpec.kind spec} layer's {p.Name} is {p.Rows}×{p.Columns}, got {Matrix.shape m}.")
            expected tensors

    /// The layer made from its description, parameter tensors and state tensors (each in order)
    /// for inputs of the given shape. Throws ArgumentException when the settings are out of range,
    /// the layer cannot take that shape, or a tensor's shape or value is not what the layer needs.
    let ofTensors (spec: LayerSpec) (input: Shape) (parameters: Matrix<'T> list) (state: Matrix<'T> list) : Layer<'T> =
        match LayerSpec.problem spec |> Option.orElse (LayerSpec.inputProblem spec input) with
        | Some why -> invalidArg "spec" why
        | None -> ()
        checkShapes spec input "parameters" (LayerSpec.parameterSpecs spec input) parameters
        checkShapes spec input "state" (LayerSpec.stateSpecs spec input) state
        match spec with
        | LayerSpec.Dense(_, activation, _) -> Layer.Dense(Dense.ofParameters activation parameters)
        | LayerSpec.Activation f -> Layer.Activation f
        | LayerSpec.Dropout rate -> Layer.Dropout(Dropout.create rate)
        | LayerSpec.Conv2D(_, kernel, stride, padding, activation, _) -> Layer.Conv2D(Conv2D.create activation parameters.[0] parameters.[1] kernel stride padding)
        | LayerSpec.MaxPool2D(kernel, stride, padding) -> Layer.MaxPool2D(MaxPool2D.create kernel stride padding)
        | LayerSpec.AvgPool2D(kernel, stride, padding) -> Layer.AvgPool2D(AvgPool2D.create kernel stride padding)
        | LayerSpec.Flatten -> Layer.Flatten
        | LayerSpec.BatchNorm(momentum, epsilon) -> Layer.BatchNorm(BatchNorm.create parameters.[0] parameters.[1] state.[0] state.[1] momentum epsilon)

    /// The layer made from its description and parameter tensors, for a kind without state.
    let ofParameters (spec: LayerSpec) (input: Shape) (tensors: Matrix<'T> list) : Layer<'T> = ofTensors spec input tensors []

    /// The layer on inputs of the given shape with its parameters drawn from the seed, by the
    /// spec's initializer or the one that suits the σ they feed (`next` is the spec after it).
    let init<'T when 'T :> IFloatingPointIeee754<'T>> (seed: uint64) (input: Shape) (spec: LayerSpec) (next: LayerSpec option) : Layer<'T> =
        match LayerSpec.problem spec |> Option.orElse (LayerSpec.inputProblem spec input) with
        | Some why -> invalidArg "spec" why
        | None -> ()
        // The σ the weights feed: the layer's own, or for an identity σ, that of an activation
        // layer right after it (so that Dense(n, ReLU) and Dense(n) then Activation(ReLU) draw
        // the same weights).
        let initializerFor (activation: Activation) (chosen: Initializer option) =
            let feeds =
                match activation, next with
                | Activation.Identity, Some(LayerSpec.Activation following) -> following
                | _ -> activation
            chosen |> Option.defaultWith (fun () -> Initializer.forActivation feeds)
        match spec with
        | LayerSpec.Dense(units, activation, chosen) -> Layer.Dense(Dense.init seed input.Size units activation (initializerFor activation chosen))
        | LayerSpec.Activation f -> Layer.Activation f
        | LayerSpec.Dropout rate -> Layer.Dropout(Dropout.create rate)
        | LayerSpec.Conv2D(filters, kernel, stride, padding, activation, chosen) ->
            Layer.Conv2D(Conv2D.init seed input filters kernel stride padding activation (initializerFor activation chosen))
        | LayerSpec.MaxPool2D(kernel, stride, padding) -> Layer.MaxPool2D(MaxPool2D.create kernel stride padding)
        | LayerSpec.AvgPool2D(kernel, stride, padding) -> Layer.AvgPool2D(AvgPool2D.create kernel stride padding)
        | LayerSpec.Flatten -> Layer.Flatten
        | LayerSpec.BatchNorm(momentum, epsilon) -> Layer.BatchNorm(BatchNorm.init input momentum epsilon)

    /// The same layer over the given parameter and state tensors, of the shapes of its own (no
    /// checks: for the library's own copies and updates).
    let internal withTensors (parameters: Matrix<'T> list) (state: Matrix<'T> list) (layer: Layer<'T>) : Layer<'T> =
        match layer with
        | Layer.Dense d -> Layer.Dense(Dense.withParameters parameters d)
        | Layer.Conv2D c -> Layer.Conv2D(Conv2D.withParameters parameters c)
        | Layer.BatchNorm b -> Layer.BatchNorm(BatchNorm.withTensors parameters state b)
        | Layer.Activation _
        | Layer.Dropout _
        | Layer.MaxPool2D _
        | Layer.AvgPool2D _
        | Layer.Flatten -> layer

    /// The same layer in another real type (float ↔ float32).
    let convert<'T, 'U when 'T :> IFloatingPointIeee754<'T> and 'U :> IFloatingPointIeee754<'U>> (layer: Layer<'T>) : Layer<'U> =
        match layer with
        | Layer.Dense d -> Layer.Dense(Dense.convert d)
        | Layer.Activation f -> Layer.Activation f
        | Layer.Dropout d -> Layer.Dropout d
        | Layer.Conv2D c -> Layer.Conv2D(Conv2D.convert c)
        | Layer.MaxPool2D p -> Layer.MaxPool2D p
        | Layer.AvgPool2D p -> Layer.AvgPool2D p
        | Layer.Flatten -> Layer.Flatten
        | Layer.BatchNorm b -> Layer.BatchNorm(BatchNorm.convert b)

    /// The kind's own forward step into z, from the input (one example per column, of the given
    /// shape), with the mode's key (Mode.key: none in inference); `index` is the layer's position
    /// in the network (from 1), scratch its buffers, statistics where a training step reports
    /// what its state's update needs (LayerSpec.statisticsLength values).
    [<HotPath>]
    let internal forwardInto
        (layer: Layer<'T>) (draws: BatchKey voption) (index: int) (shape: Shape) (input: Matrix<'T>) (z: Matrix<'T>) (scratch: Matrix<'T>[]) (statistics: ArraySegment<float>) : unit =
        match layer with
        | Layer.Dense d -> Dense.forwardInto d input z
        | Layer.Activation _ -> ActivationLayer.forwardInto input z
        | Layer.Dropout d -> Dropout.forwardInto d draws index input z scratch.[0]
        | Layer.Conv2D c -> Conv2D.forwardInto c shape input z scratch
        | Layer.MaxPool2D p -> MaxPool2D.forwardInto p shape input z
        | Layer.AvgPool2D p -> AvgPool2D.forwardInto p shape input z
        | Layer.Flatten -> Flatten.forwardInto input z
        | Layer.BatchNorm b -> BatchNorm.forwardInto b draws.IsSome shape input z scratch statistics

    /// The kind's own backward step from δ = ∂C/∂z: the gradient of each parameter tensor into
    /// gradient (in order), and ∂C/∂a_in into inputGradient when one is wanted.
    [<HotPath>]
    let internal backwardInto
        (layer: Layer<'T>) (shape: Shape) (input: Matrix<'T>) (delta: Matrix<'T>) (scratch: Matrix<'T>[]) (gradient: Matrix<'T>[]) (inputGradient: Matrix<'T> voption) : unit =
        match layer with
        | Layer.Dense d -> Dense.backwardInto d input delta gradient inputGradient
        | Layer.Activation _ -> ActivationLayer.backwardInto delta inputGradient
        | Layer.Dropout _ -> Dropout.backwardInto delta scratch.[0] inputGradient
        | Layer.Conv2D c -> Conv2D.backwardInto c shape delta scratch gradient inputGradient
        | Layer.MaxPool2D p -> MaxPool2D.backwardInto p shape input delta inputGradient
        | Layer.AvgPool2D p -> AvgPool2D.backwardInto p shape delta inputGradient
        | Layer.Flatten -> Flatten.backwardInto delta inputGradient
        | Layer.BatchNorm b -> BatchNorm.backwardInto b shape delta scratch gradient inputGradient

    /// The layer's state after a training step that reported `statistics`, written into target's
    /// state arrays (a layer of the same shapes: the training fold's other copy); kinds without
    /// state write nothing.
    let internal updateStateInto (layer: Layer<'T>) (statistics: ArraySegment<float>) (target: Layer<'T>) : unit =
        match layer, target with
        | Layer.BatchNorm b, Layer.BatchNorm t -> BatchNorm.updateInto b statistics t
        | _ -> ()

    /// The kind's own step for a batch of examples (inputs of the given shape), one scalar at a
    /// time, given its parameter tensors as column-major arrays of scalars (for automatic
    /// differentiation).
    let scalarForward (s: ScalarArithmetic<'S>) (layer: Layer<'T>) (mode: Mode) (index: int) (shape: Shape) (tensors: 'S[][]) (examples: 'S[][]) : 'S[][] =
        match layer with
        | Layer.Dense _ -> examples |> Array.map (Dense.scalarForward s tensors)
        | Layer.Activation _
        | Layer.Flatten -> examples
        | Layer.Dropout d -> examples |> Array.mapi (Dropout.scalarForward s d mode index)
        | Layer.Conv2D c -> Conv2D.scalarForward s c.Kernel c.Stride c.Padding shape tensors examples
        | Layer.MaxPool2D p -> MaxPool2D.scalarForward s p shape examples
        | Layer.AvgPool2D p -> AvgPool2D.scalarForward s p shape examples
        | Layer.BatchNorm b -> BatchNorm.scalarForward s b (Mode.key mode).IsSome shape tensors examples
