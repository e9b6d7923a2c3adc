namespace FunctionalBackprop.Core

open System
open System.Numerics
open FunctionalBackprop.Core.GenericArithmetic

/// A feed-forward network: layers applied in order, f(x) = ψ_L(… ψ₂(ψ₁(x))). Immutable.
///
/// Layers are numbered from 1 to L (the output layer), as in the lecture; the input x is a⁰.
/// Each layer's shape rule is checked against its input's shape when the network is made. The
/// network also keeps its parameter tensors in one array, layer by layer in each layer's order:
/// every walk over the parameters (Parameters, Gradients, optimizer states, files, the wire) goes
/// through it and never asks what kind a layer is.
type Network<'T when 'T :> IFloatingPointIeee754<'T>> =
    internal
        { layers: Layer<'T> list
          /// The input's shape, then each layer's output shape (L + 1 entries).
          shapes: Shape list
          /// Each layer's input shape (L entries), for the passes.
          inputs: Shape[]
          /// Every parameter tensor, layer by layer, each layer's in its order.
          tensors: Matrix<'T>[]
          /// The value arrays of those tensors (the same arrays).
          arrays: 'T[][]
          /// What each tensor is (name, symbol, shape, whether weight decay applies).
          specs: ParameterSpec[]
          /// The layer (from 0) each tensor belongs to.
          owners: int[]
          /// Every state tensor (running statistics), layer by layer, each layer's in its order.
          state: Matrix<'T>[]
          /// What each state tensor is.
          stateSpecs: ParameterSpec[]
          /// Where each layer's training statistics start in a pass's statistics (L + 1 entries:
          /// the last is their total length).
          statistics: int[] }

    /// The layers, input side first.
    member n.Layers = n.layers

    /// L, the number of layers.
    member n.Depth = n.layers.Length

    /// The shape of an input example.
    member n.InputShape = n.shapes.Head

    /// The number of values in an input example.
    member n.InputWidth = n.shapes.Head.Size

    /// The shape of the output.
    member n.OutputShape = List.last n.shapes

    /// The number of outputs.
    member n.OutputWidth = (List.last n.shapes).Size

    /// The shapes of each layer's input, input side first (layer l's is entry l − 1), then the output's.
    member n.Shapes = n.shapes

    /// The output layer's σ.
    member n.OutputActivation = Layer.activation (List.last n.layers)

    /// The number of parameters (weights, biases, …).
    member n.ParameterCount = n.arrays |> Array.sumBy (fun a -> a.Length)

    /// The state tensors (batch normalisation's running statistics), layer by layer: values that
    /// training updates but gradient descent does not.
    member n.State = List.ofArray n.state

    /// The length of what a training pass reports for the state's update (0 when no layer has state).
    member n.StatisticsLength = n.statistics.[n.statistics.Length - 1]

    /// "784-30-10 (sigmoid, sigmoid) float64": every layer's output width and tag.
    override n.ToString() =
        let widths = n.shapes |> List.map (fun s -> string s.Size)
        let tags = n.layers |> List.map (fun l -> LayerSpec.tag (Layer.spec l))
        $"""{String.Join("-", widths)} ({String.Join(", ", tags)}) {Real.typeName<'T> ()}"""

/// Making networks and checking data against them.
module Network =

    /// The network of these layers on inputs of that shape, with its shapes and tensors laid out
    /// (no checks: for layers already known to fit).
    let internal build (input: Shape) (layers: Layer<'T> list) : Network<'T> =
        let shapes = layers |> List.scan (fun shape l -> LayerSpec.outputShape (Layer.spec l) shape) input
        let inputs = List.take layers.Length shapes
        let specsOf (describe: LayerSpec -> Shape -> ParameterSpec list) =
            List.zip layers inputs |> List.mapi (fun i (l, shape) -> describe (Layer.spec l) shape |> List.map (fun p -> i, p)) |> List.concat
        let specs = specsOf LayerSpec.parameterSpecs
        let tensors = layers |> List.collect Layer.parameters |> Array.ofList
        { layers = layers
          shapes = shapes
          inputs = Array.ofList inputs
          tensors = tensors
          arrays = tensors |> Array.map (fun m -> m.values)
          specs = specs |> List.map snd |> Array.ofList
          owners = specs |> List.map fst |> Array.ofList
          state = layers |> List.collect Layer.state |> Array.ofList
          stateSpecs = specsOf LayerSpec.stateSpecs |> List.map snd |> Array.ofList
          statistics = List.zip layers inputs |> List.scan (fun at (l, shape) -> at + LayerSpec.statisticsLength (Layer.spec l) shape) 0 |> Array.ofList }

    /// What layer i + 1 (i from 0) takes, in messages: "the network's input" or "the output of layer i".
    let private source (i: int) : string = if i = 0 then "the network's input" else $"the output of layer {i}"

    /// Where layer i's (from 0) statistics lie in a pass's statistics.
    [<HotPath>]
    let internal statisticsOf (network: Network<'T>) (statistics: float[]) (i: int) : ArraySegment<float> =
        ArraySegment(statistics, network.statistics.[i], network.statistics.[i + 1] - network.statistics.[i])

    /// The network of the given layers, input side first, on inputs of the given shape. Throws
    /// ArgumentException for an empty list, or when a layer's settings are out of range or its
    /// parameters do not fit the shape of its input (the output of the layer before).
    let create (input: Shape) (layers: seq<Layer<'T>>) : Network<'T> =
        if isNull layers then nullArg "layers"
        Shape.check "input" input
        let layers = List.ofSeq layers
        if layers.IsEmpty then invalidArg "layers" "A network needs at least one layer; the list is empty."
        layers |> List.iteri (fun i l -> if isNull (box l) then invalidArg "layers" $"Layer {i + 1} is null.")
        let check (i: int) (shape: Shape) (l: Layer<'T>) =
            let spec = Layer.spec l
            match LayerSpec.problem spec with
            | Some why -> invalidArg "layers" $"Layer {i + 1}: {why}"
            | None -> ()
            match LayerSpec.inputProblem spec shape with
            | Some why -> invalidArg "layers" $"Layer {i + 1} ({l}) cannot take {source i}, of shape {shape}: {why}"
            | None -> ()
            let fits (expected: ParameterSpec list) (tensors: Matrix<'T> list) =
                List.iter2
                    (fun (p: ParameterSpec) (m: Matrix<'T>) ->
                        if m.rows <> p.Rows || m.cols <> p.Columns then
                            invalidArg "layers" $"Layer {i + 1} ({l}) does not fit its input, {source i} of shape {shape}: its {p.Name} is {Matrix.shape m}, but on that input it must be {p.Rows}×{p.Columns}.")
                    expected tensors
            fits (LayerSpec.parameterSpecs spec shape) (Layer.parameters l)
            fits (LayerSpec.stateSpecs spec shape) (Layer.state l)
            LayerSpec.outputShape spec shape
        layers |> List.indexed |> List.fold (fun shape (i, l) -> check i shape l) input |> ignore
        build input layers

    /// A network of dense layers, input side first, on vectors of the first layer's input width.
    let ofDense (layers: seq<Dense<'T>>) : Network<'T> =
        if isNull layers then nullArg "layers"
        let layers = List.ofSeq layers
        layers |> List.iteri (fun i l -> if isNull (box l) then invalidArg "layers" $"Layer {i + 1} is null.")
        match layers with
        | [] -> invalidArg "layers" "A network needs at least one layer; the list is empty."
        | first :: _ -> create (Shape.Vector first.InputWidth) (layers |> List.map Layer.Dense)

    /// A network on inputs of the given shape, with one layer per spec and parameters drawn from
    /// the seed: the k-th layer that has parameters (from 0) draws from Random.derive seed k, so
    /// each draw is independent, and adding layers without parameters (dropout, activations)
    /// changes no weight.
    let init<'T when 'T :> IFloatingPointIeee754<'T>> (seed: uint64) (input: Shape) (specs: seq<LayerSpec>) : Network<'T> =
        if isNull specs then nullArg "specs"
        Shape.check "input" input
        let specs = List.ofSeq specs
        if specs.IsEmpty then invalidArg "specs" "A network needs at least one layer; the list of layer specs is empty."
        specs |> List.iteri (fun i s ->
            match LayerSpec.problem s with
            | Some why -> invalidArg "specs" $"Layer {i + 1}: {why}"
            | None -> ())
        specs
        |> List.indexed
        |> List.fold
            (fun shape (i, spec) ->
                match LayerSpec.inputProblem spec shape with
                | Some why -> invalidArg "specs" $"Layer {i + 1} ({LayerSpec.kind spec}) cannot take {source i}, of shape {shape}: {why}"
                | None -> LayerSpec.outputShape spec shape)
            input
        |> ignore
        let nexts = (specs |> List.tail |> List.map Some) @ [ None ]
        let layers, _ =
            List.zip specs nexts
            |> List.mapFold
                (fun (shape, drawn) (spec, next) ->
                    let layer = Layer.init (Random.derive seed (uint64 drawn)) shape spec next
                    let drawn = if (LayerSpec.parameterSpecs spec shape).IsEmpty then drawn else drawn + 1
                    layer, (LayerSpec.outputShape spec shape, drawn))
                (input, 0)
        build input layers

    /// The same network with each layer replaced by f applied to its index (from 0) and itself
    /// (shapes must be kept).
    let internal mapLayers (f: int -> Layer<'T> -> Layer<'T>) (network: Network<'T>) : Network<'T> =
        build network.InputShape (List.mapi f network.layers)

    /// target's state (a network of the same layers: the training fold's other copy) ← the
    /// network's state updated by a training pass that reported `statistics` (batch
    /// normalisation's running statistics; nothing for the other kinds).
    [<HotPath>]
    let internal updateStateInto (network: Network<'T>) (statistics: float[]) (target: Network<'T>) : unit =
        if network.state.Length > 0 then
            let mutable i = 0
            let mutable into = target.layers
            for l in network.layers do
                Layer.updateStateInto l (statisticsOf network statistics i) into.Head
                into <- into.Tail
                i <- i + 1

    /// The network after a training pass that reported `statistics` (a trace's, or the sum of a
    /// batch's shards' in shard order): each layer's state updated (batch normalisation's running
    /// statistics), in new arrays; the parameters are shared. Pure.
    let updateState (statistics: float[]) (network: Network<'T>) : Network<'T> =
        if isNull statistics then nullArg "statistics"
        if statistics.Length <> network.StatisticsLength then
            invalidArg "statistics" $"The network's layers report {network.StatisticsLength} statistics per training pass, got {statistics.Length}."
        if network.state.Length = 0 then network
        else
            let target = network |> mapLayers (fun _ l -> Layer.withTensors (Layer.parameters l) (Layer.state l |> List.map Matrix.copy) l)
            updateStateInto network statistics target
            target

    /// The same network in another real type (float ↔ float32).
    let convert<'T, 'U when 'T :> IFloatingPointIeee754<'T> and 'U :> IFloatingPointIeee754<'U>> (network: Network<'T>) : Network<'U> =
        build network.InputShape (network.layers |> List.map Layer.convert)

    /// Throws ArgumentException unless x is a batch of finite inputs for the network.
    [<HotPath>]
    let checkInputs (network: Network<'T>) (x: Matrix<'T>) : unit =
        if isNull (box x) then nullArg "x"
        if x.rows <> network.InputWidth then
            let per = match network.InputShape with Shape.Vector _ -> "" | shape -> $", an example of {shape} values"
            invalidArg "x" $"Layer 1 expects inputs with {network.InputWidth} rows (its fan-in{per}), but the batch is {Matrix.shape x} ({x.rows} rows, one column per example)."
        match Matrix.tryFindNonFinite x with
        | Some(i, j, v) -> invalidArg "x" $"Inputs must be finite: row {i} of example (column) {j} is {v}."
        | None -> ()

    /// Throws ArgumentException unless y holds one target column per input example, as tall as the
    /// output layer, valid for the loss, and the loss suits the output activation.
    [<HotPath>]
    let checkTargets (network: Network<'T>) (loss: Loss) (x: Matrix<'T>) (y: Matrix<'T>) : unit =
        if isNull (box y) then nullArg "y"
        if y.rows <> network.OutputWidth then
            invalidArg "y" $"""Layer {network.Depth} (the output layer) has {Wording.count network.OutputWidth "unit"}, but the targets are {Matrix.shape y} ({Wording.count y.rows "row"})."""
        if y.cols <> x.cols then
            invalidArg "y" $"The inputs hold {x.cols} examples (columns) but the targets hold {y.cols}; they must match one to one."
        Loss.checkPairing loss network.OutputActivation
        Loss.checkTargets loss y

    /// Why gradient descent cannot train the network, if it cannot: a layer applies the step
    /// activation, whose derivative is 0 wherever it exists, so no gradient passes through it.
    let untrainable (network: Network<'T>) : string option =
        network.layers
        |> List.indexed
        |> List.tryPick (fun (i, l) ->
            if Layer.activation l = Activation.Step then
                Some $"Layer {i + 1} uses the step activation, whose derivative is 0 wherever it exists: no gradient passes through it, so gradient descent cannot train this network. Use sigmoid (a smooth step) for training; step is for inference and perceptron demonstrations."
            else None)

    /// Whether the network's outputs are class scores: a sigmoid or step output layer, or softmax
    /// over two units or more (over one it is the constant 1, which tells no class). Its
    /// predicted class is then the arg-max of the outputs, or for one output, 1 when it is at
    /// least ½ (Evaluation.classes), and accuracy is defined.
    let isClassifier (network: Network<'T>) : bool =
        match network.OutputActivation with
        | Activation.Softmax -> network.OutputWidth > 1
        | Activation.Sigmoid | Activation.Step -> true
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
