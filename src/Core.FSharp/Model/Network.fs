namespace FunctionalBackprop.Core

open System
open System.Numerics
open FunctionalBackprop.Core.GenericArithmetic

/// One layer of a network to be made: its width, activation and initialiser.
type LayerSpec =
    { /// Number of units (the layer's output width).
      Units: int
      /// σ.
      Activation: Activation
      /// How the first weights and biases are drawn.
      Initializer: Initializer }

/// A feed-forward network: dense layers applied in order, f(x) = ψ_L(… ψ₂(ψ₁(x))). Immutable.
///
/// Layers are numbered from 1 (the first layer with weights) to L (the output layer), as in the
/// lecture; the input x is a⁰. Consecutive widths are checked when the network is made.
type Network<'T when 'T :> IFloatingPointIeee754<'T>> =
    internal { layers: Dense<'T> list }

    /// The layers, input side first.
    member n.Layers = n.layers

    /// L, the number of layers with weights.
    member n.Depth = n.layers.Length

    /// The width of an input example.
    member n.InputWidth = n.layers.Head.InputWidth

    /// The width of the output layer.
    member n.OutputWidth = (List.last n.layers).OutputWidth

    /// The output layer's activation.
    member n.OutputActivation = (List.last n.layers).Activation

    /// The number of weights and biases.
    member n.ParameterCount = n.layers |> List.sumBy (fun l -> l.ParameterCount)

    /// "784-30-10 (sigmoid, sigmoid) float64".
    override n.ToString() =
        let widths = n.InputWidth :: (n.layers |> List.map (fun l -> l.OutputWidth)) |> List.map string
        let activations = n.layers |> List.map (fun l -> Activation.name l.Activation)
        $"""{String.Join("-", widths)} ({String.Join(", ", activations)}) {Real.typeName<'T> ()}"""

/// Making networks and checking data against them.
module Network =

    /// A network of the given layers, input side first. Throws ArgumentException for an empty
    /// list or when a layer's input width is not the previous layer's output width.
    let ofLayers (layers: seq<Dense<'T>>) : Network<'T> =
        if isNull layers then nullArg "layers"
        let layers = List.ofSeq layers
        if layers.IsEmpty then invalidArg "layers" "A network needs at least one layer; the list is empty."
        layers |> List.iteri (fun i l -> if isNull (box l) then invalidArg "layers" $"Layer {i + 1} is null.")
        layers |> List.pairwise |> List.iteri (fun i (below, above) ->
            if above.InputWidth <> below.OutputWidth then
                invalidArg "layers" $"Layer {i + 2} expects {above.InputWidth} inputs but layer {i + 1} has {below.OutputWidth} units (weights {Matrix.shape above.Weights} after {Matrix.shape below.Weights}).")
        { layers = layers }

    /// A network on inputs of width inputWidth, with one layer per spec and parameters drawn from
    /// the seed (layer l, from 1, from Random.derive seed (l − 1), so each layer's draw is independent).
    let init<'T when 'T :> IFloatingPointIeee754<'T>> (seed: uint64) (inputWidth: int) (specs: seq<LayerSpec>) : Network<'T> =
        if isNull specs then nullArg "specs"
        if inputWidth <= 0 then raise (ArgumentOutOfRangeException("inputWidth", inputWidth, "The input width must be at least 1."))
        let specs = List.ofSeq specs
        if specs.IsEmpty then invalidArg "specs" "A network needs at least one layer; the list of layer specs is empty."
        specs |> List.iteri (fun i s ->
            if s.Units <= 0 then invalidArg "specs" $"Layer {i + 1} has zero width ({s.Units} units); every layer needs at least one unit."
            match Activation.problem s.Activation with
            | Some why -> invalidArg "specs" $"Layer {i + 1}: {why}"
            | None -> ())
        let layers =
            specs
            |> List.mapFold (fun fanIn (s: LayerSpec) -> (fanIn, s), s.Units) inputWidth
            |> fst
            |> List.mapi (fun i (fanIn, s) -> Dense.init (Random.derive seed (uint64 i)) fanIn s.Units s.Activation s.Initializer)
        ofLayers layers

    /// The same network with each layer replaced by f applied to it (shapes must be kept).
    let internal mapLayers (f: int -> Dense<'T> -> Dense<'T>) (network: Network<'T>) : Network<'T> =
        { layers = List.mapi f network.layers }

    /// The same network in another real type (float ↔ float32).
    let convert<'T, 'U when 'T :> IFloatingPointIeee754<'T> and 'U :> IFloatingPointIeee754<'U>> (network: Network<'T>) : Network<'U> =
        { layers = network.layers |> List.map Dense.convert }

    /// Throws ArgumentException unless x is a batch of finite inputs for the network.
    [<HotPath>]
    let checkInputs (network: Network<'T>) (x: Matrix<'T>) : unit =
        if isNull (box x) then nullArg "x"
        if x.rows <> network.InputWidth then
            invalidArg "x" $"Layer 1 expects inputs with {network.InputWidth} rows (its fan-in), but the batch is {Matrix.shape x} ({x.rows} rows, one column per example)."
        match Matrix.tryFindNonFinite x with
        | Some(i, j, v) -> invalidArg "x" $"Inputs must be finite: row {i} of example (column) {j} is {v}."
        | None -> ()

    /// Throws ArgumentException unless y holds one target column per input example, as tall as the
    /// output layer, valid for the loss, and the loss suits the output activation.
    [<HotPath>]
    let checkTargets (network: Network<'T>) (loss: Loss) (x: Matrix<'T>) (y: Matrix<'T>) : unit =
        if isNull (box y) then nullArg "y"
        if y.rows <> network.OutputWidth then
            invalidArg "y" $"Layer {network.Depth} (the output layer) has {network.OutputWidth} units, but the targets are {Matrix.shape y} ({y.rows} rows)."
        if y.cols <> x.cols then
            invalidArg "y" $"The inputs hold {x.cols} examples (columns) but the targets hold {y.cols}; they must match one to one."
        Loss.checkPairing loss network.OutputActivation
        Loss.checkTargets loss y

    /// Whether the network's outputs are class scores: a sigmoid, softmax or step output layer.
    /// Its predicted class is then the arg-max of the outputs, or for one output, 1 when it is at
    /// least ½ (Evaluation.classes), and accuracy is defined.
    let isClassifier (network: Network<'T>) : bool =
        match network.OutputActivation with
        | Activation.Sigmoid | Activation.Softmax | Activation.Step -> true
        | _ -> false

    /// The loss that suits the output layer when none is chosen: cross-entropy for softmax (the
    /// fused δ = a − y); binary cross-entropy for sigmoid, each output a yes/no decision
    /// (Nielsen's chapter 3 cross-entropy, also δ = a − y); quadratic for every other output
    /// (identity, tanh, ReLU, leaky ReLU, step), whose values need not lie in (0, 1).
    let defaultLoss (network: Network<'T>) : Loss =
        match network.OutputActivation with
        | Activation.Softmax -> Loss.CrossEntropy
        | Activation.Sigmoid -> Loss.BinaryCrossEntropy
        | _ -> Loss.Quadratic
