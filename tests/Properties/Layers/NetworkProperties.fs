/// Dense layers and networks: how they are made from a seed, what they report about their shapes,
/// how they convert between float and float32, and how they refuse bad layers and bad data, in the
/// caller's terms (layers counted from 1, entries by row and example, shapes written out).
module FunctionalBackprop.Properties.NetworkProperties

open System
open Xunit
open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open FunctionalBackprop.Core
open FunctionalBackprop.Properties.Messages

/// Every activation, step included, leaky ReLU with slopes in (0, 1).
let private activation =
    Gen.oneof
        [ Gen.elements [ Activation.Identity; Activation.Step; Activation.Sigmoid; Activation.Tanh; Activation.ReLU; Activation.Softmax ]
          Gen.choose (1, 99) |> Gen.map (fun k -> Activation.LeakyReLU(float k / 100.0)) ]

let private initializer =
    Gen.elements
        [ Initializer.Zeros; Initializer.SmallUniform; Initializer.StandardNormal; Initializer.ScaledNormal
          Initializer.XavierUniform; Initializer.XavierNormal; Initializer.HeNormal ]

/// The initialisers that draw random weights (all but Zeros).
let private drawing = initializer |> Gen.map (fun i -> if i = Initializer.Zeros then Initializer.HeNormal else i)

let private seed64 = Gen.map2 (fun (a: int) (b: int) -> (uint64 a <<< 32) ||| uint64 b) (Gen.choose (0, Int32.MaxValue)) (Gen.choose (0, Int32.MaxValue))

/// A dense layer spec's units, activation and initializer.
let private parts (spec: LayerSpec) =
    match spec with
    | LayerSpec.Dense(units, activation, Some initializer) -> units, activation, initializer
    | other -> invalidArg "spec" $"The tests here draw dense layers with an initializer, not {other}."

let private unitsOf spec = let u, _, _ = parts spec in u
let private activationOf spec = let _, a, _ = parts spec in a
let private initializerOf spec = let _, _, i = parts spec in i
let private withUnits units spec = let _, a, i = parts spec in LayerSpec.Dense(units, a, Some i)
let private withActivation activation spec = let u, _, i = parts spec in LayerSpec.Dense(u, activation, Some i)
let private withInitializer initializer spec = let u, a, _ = parts spec in LayerSpec.Dense(u, a, Some initializer)

/// A network to make: a seed, an input width and 1–5 layer specs of 1–8 units.
type Architecture =
    { Seed: uint64; InputWidth: int; Specs: LayerSpec list }
    member a.Network<'T when 'T :> Numerics.IFloatingPointIeee754<'T>>() : Network<'T> = Network.init a.Seed (Shape.Vector a.InputWidth) a.Specs
    /// n⁰ (the input width), n¹, …, nᴸ.
    member a.Widths = a.InputWidth :: (a.Specs |> List.map unitsOf)

/// L ≥ 2 layers of equal shape w×w drawn by the same random initialiser.
type Repeated = { Seed: uint64; Width: int; Depth: int; Initializer: Initializer }

/// A position in a network of `Depth` layers (1-based) and a bad value to put there.
type Fault = { Architecture: Architecture; Layer: int; Offset: int }

/// An entry of a matrix (row, column) and a non-finite value for it.
type Poison = { Row: int; Column: int; Value: float }

let private architecture =
    gen {
        let! seed = seed64
        let! inputWidth = Gen.choose (1, 8)
        let! depth = Gen.choose (1, 5)
        let! specs =
            Gen.listOfLength depth (Gen.map3 (fun u a i -> LayerSpec.Dense(u, a, Some(i))) (Gen.choose (1, 8)) activation initializer)
        return { Seed = seed; InputWidth = inputWidth; Specs = specs }
    }

type NetworkArbitraries =
    static member Architecture() = Arb.fromGen architecture
    static member Initializer() = Arb.fromGen initializer

    static member Repeated() =
        Gen.map4 (fun s w d i -> { Seed = s; Width = w; Depth = d; Initializer = i }) seed64 (Gen.choose (1, 6)) (Gen.choose (2, 4)) drawing
        |> Arb.fromGen

    static member Fault() =
        gen {
            let! a = architecture
            let! layer = Gen.choose (1, a.Specs.Length)
            let! offset = Gen.elements [ -3; -2; -1; 1; 2; 3 ]
            return { Architecture = a; Layer = layer; Offset = offset }
        }
        |> Arb.fromGen

    static member Poison() =
        Gen.map3 (fun r c v -> { Row = r; Column = c; Value = v }) (Gen.choose (0, 100)) (Gen.choose (0, 100)) (Gen.elements [ nan; infinity; -infinity ])
        |> Arb.fromGen

let private bits (m: Matrix<'T>) = Bits.ofValues (m.ToArray())
let private layerBits (l: Layer<'T>) = Layer.parameters l |> List.map bits

let private shapeOf (rows: int) (cols: int) = $"{rows}×{cols}"

/// A layer of the given shape with parameters from the seed (He-normal, so no entry is zero).
let private layer (seed: uint64) (fanIn: int) (units: int) = Dense.init<float> seed fanIn units Activation.Tanh Initializer.HeNormal

[<Properties(Arbitrary = [| typeof<NetworkArbitraries> |], MaxTest = 100)>]
module Making =

    [<Property>]
    let ``init's layer l is Dense.init from Random.derive seed (l − 1) on the previous layer's width, every time`` (a: Architecture) =
        let network, again = a.Network<float> (), a.Network<float> ()
        let widths = a.Widths
        (List.map layerBits network.Layers = List.map layerBits again.Layers |> Prop.label "the same seed, the same bits")
        .&. (a.Specs
             |> List.mapi (fun i spec ->
                 let units, activation, initializer = parts spec
                 let expected = Layer.Dense(Dense.init<float> (Random.derive a.Seed (uint64 i)) widths.[i] units activation initializer)
                 let actual = Generators.denseLayers(network).[i]
                 let spec = {| Units = units; Activation = activation |}
                 (layerBits (Layer.Dense actual) = layerBits expected && actual.Activation = spec.Activation
                  && (actual.Weights.Rows, actual.Weights.Cols, actual.Biases.Rows, actual.Biases.Cols) = (spec.Units, widths.[i], spec.Units, 1))
                 |> Prop.label $"layer {i + 1}")
             |> List.reduce (.&.))

    [<Property>]
    let ``layers draw independent streams: layers of one shape and initialiser differ`` (r: Repeated) =
        // Every layer is w×w with the same distribution; drawn from one stream they would be equal.
        let network = Network.init<float> r.Seed (Shape.Vector r.Width) [ for _ in 1 .. r.Depth -> LayerSpec.Dense(r.Width, Activation.ReLU, Some(r.Initializer)) ]
        let weights = Generators.denseLayers network |> List.map (fun l -> bits l.Weights)
        (List.distinct weights).Length = r.Depth

    [<Property>]
    let ``changing one layer's initialiser or activation leaves every other layer's parameters`` (f: Fault) (other: Initializer) =
        let a = f.Architecture
        let changed = { a with Specs = a.Specs |> List.mapi (fun i s -> if i = f.Layer - 1 then s |> withInitializer other |> withActivation Activation.Identity else s) }
        List.zip (a.Network<float>().Layers) (changed.Network<float>().Layers)
        |> List.indexed
        |> List.filter (fun (i, _) -> i <> f.Layer - 1)
        |> List.forall (fun (_, (l, l')) -> layerBits l = layerBits l')

    [<Property>]
    let ``depth, widths and parameter count follow from the layer widths`` (a: Architecture) =
        let network = a.Network<float> ()
        let widths = a.Widths
        // Layer l has nˡ·nˡ⁻¹ weights and nˡ biases.
        let count = List.pairwise widths |> List.sumBy (fun (fanIn, units) -> units * fanIn + units)
        (network.Depth = a.Specs.Length |> Prop.label "Depth")
        .&. (network.InputWidth = a.InputWidth |> Prop.label "InputWidth")
        .&. (network.OutputWidth = List.last widths |> Prop.label "OutputWidth")
        .&. (network.OutputActivation = activationOf (List.last a.Specs) |> Prop.label "OutputActivation")
        .&. (network.ParameterCount = count |> Prop.label $"ParameterCount {network.ParameterCount}, expected {count}")
        .&. ((Parameters.toArray network).Length = count |> Prop.label "Parameters.toArray")
        .&. (Generators.denseLayers network
             |> List.forall (fun l -> l.ParameterCount = l.OutputWidth * l.InputWidth + l.OutputWidth && l.InputWidth = l.Weights.Cols && l.OutputWidth = l.Weights.Rows)
             |> Prop.label "each layer")

    [<Property>]
    let ``convert rounds each parameter to the nearest float32 and widens float32 exactly, keeping shapes and activations`` (a: Architecture) =
        let n64 = a.Network<float> ()
        let n32: Network<float32> = Network.convert n64
        let back: Network<float> = Network.convert n32
        let structure (n: Network<'T>) = Generators.denseLayers n |> List.map (fun l -> l.Weights.Rows, l.Weights.Cols, l.Biases.Rows, l.Activation)
        let f32Bits (n: Network<float32>) = Parameters.toArray n |> Array.map BitConverter.SingleToInt32Bits
        (f32Bits n32 = (Parameters.toArray n64 |> Array.map (fun v -> BitConverter.SingleToInt32Bits(float32 v))) |> Prop.label "nearest float32")
        .&. ((Parameters.toArray back |> Array.map BitConverter.DoubleToInt64Bits) = (Parameters.toArray n32 |> Array.map (fun v -> BitConverter.DoubleToInt64Bits(float v))) |> Prop.label "exact widening")
        .&. (f32Bits (Network.convert<float, float32> back) = f32Bits n32 |> Prop.label "float32 → float → float32")
        .&. ((structure n32 = structure n64 && structure back = structure n64) |> Prop.label "shapes and activations")
        .&. (layerBits (Layer.Dense(Dense.convert<float32, float> (Generators.denseLayers n32).Head)) = layerBits back.Layers.Head |> Prop.label "Dense.convert")

    [<Property>]
    let ``isClassifier is true exactly for sigmoid, step and softmax outputs (softmax over two units or more), whatever the hidden layers`` (a: Architecture) =
        // The outputs are class scores for a probability per output (sigmoid), a distribution
        // (softmax) or a hard decision (step); not for real-valued outputs, nor for softmax over
        // one unit, which is the constant 1.
        let network output =
            let specs = a.Specs |> List.mapi (fun i s -> if i = a.Specs.Length - 1 then withActivation output s else s)
            Network.init<float> a.Seed (Shape.Vector a.InputWidth) specs
        [ Activation.Identity, false; Activation.Step, true; Activation.Sigmoid, true; Activation.Tanh, false
          Activation.ReLU, false; Activation.LeakyReLU 0.1, false ]
        |> List.map (fun (output, expected) -> Network.isClassifier (network output) = expected |> Prop.label (Activation.name output))
        |> List.reduce (.&.)
        .&. (let softmax = network Activation.Softmax
             Network.isClassifier softmax = (softmax.OutputWidth > 1) |> Prop.label $"softmax over {softmax.OutputWidth}")

[<Fact>]
let ``a network and a layer describe themselves by widths, activations and type`` () =
    let specs = [ LayerSpec.Dense(4, Activation.Tanh, Some(Initializer.XavierNormal)); LayerSpec.Dense(2, Activation.Softmax, Some(Initializer.XavierNormal)) ]
    Assert.Equal("3-4-2 (tanh, softmax) float64", (Network.init<float> 1UL (Shape.Vector 3) specs).ToString())
    Assert.Equal("3-4-2 (tanh, softmax) float32", (Network.init<float32> 1UL (Shape.Vector 3) specs).ToString())
    Assert.Equal("dense 3→4 tanh", (Network.init<float> 1UL (Shape.Vector 3) specs).Layers.Head.ToString())

[<Properties(Arbitrary = [| typeof<NetworkArbitraries> |], MaxTest = 100)>]
module RefusingLayers =

    [<Property>]
    let ``ofDense refuses a layer whose fan-in is not the width below, naming both layers and their shapes`` (f: Fault) =
        // Widths n⁰ … nᴸ with L ≥ 2; layer k ≥ 2 takes nᵏ⁻¹ + offset inputs (at least one, and
        // never nᵏ⁻¹); every other layer fits.
        let widths = if f.Architecture.Widths.Length < 3 then f.Architecture.Widths @ [ 3 ] else f.Architecture.Widths
        let k = Math.Max(f.Layer, 2)
        let wrong = let w = Math.Max(1, widths.[k - 1] + f.Offset) in if w = widths.[k - 1] then w + 1 else w
        let fanIn l = if l = k then wrong else widths.[l - 1]
        let layers = [ for l in 1 .. widths.Length - 1 -> layer (uint64 l) (fanIn l) widths.[l] ]
        let e = refused<ArgumentException> (fun () -> box (Network.ofDense layers))
        names "layers" e
        .&. mentions e.Message
                [ $"Layer {k} (dense {fanIn k}→{widths.[k]}"; $"the output of layer {k - 1} of shape {widths.[k - 1]}"
                  $"its weight is {shapeOf widths.[k] (fanIn k)}"; $"must be {shapeOf widths.[k] widths.[k - 1]}" ]

    [<Property>]
    let ``ofDense refuses a null layer and an empty list, naming the layer`` (f: Fault) =
        let widths = f.Architecture.Widths
        let layers = [ for l in 1 .. widths.Length - 1 -> if l = f.Layer then Unchecked.defaultof<Dense<float>> else layer (uint64 l) widths.[l - 1] widths.[l] ]
        let e = refused<ArgumentException> (fun () -> box (Network.ofDense layers))
        mentions e.Message [ $"Layer {f.Layer} is null" ]
        .&. names "layers" (refused<ArgumentException> (fun () -> box (Network.ofDense ([]: Dense<float> list))))
        .&. names "layers" (refused<ArgumentNullException> (fun () -> box (Network.ofDense (null: Dense<float> seq))))

    [<Property>]
    let ``init refuses a layer of no units, naming the layer and its width`` (f: Fault) =
        let a = f.Architecture
        let units = Math.Min(0, f.Offset)
        let specs = a.Specs |> List.mapi (fun i s -> if i = f.Layer - 1 then withUnits units s else s)
        let e = refused<ArgumentException> (fun () -> box (Network.init<float> a.Seed (Shape.Vector a.InputWidth) specs))
        names "specs" e .&. mentions e.Message [ $"Layer {f.Layer}"; "at least one unit"; $"got {units}" ]

    // Failed before Network.init checked each spec's activation beside its width: the error came
    // from Activation.validate through Dense.create, naming neither the layer nor "specs".
    [<Property>]
    let ``init refuses a leaky ReLU slope outside (0, 1), naming the layer`` (f: Fault) =
        let a = f.Architecture
        let slope = [| 0.0; -0.5; 1.0; 1.5; nan; infinity |].[(f.Offset + 3) % 6]
        let specs = a.Specs |> List.mapi (fun i s -> if i = f.Layer - 1 then withActivation (Activation.LeakyReLU slope) s else s)
        let e = refused<ArgumentException> (fun () -> box (Network.init<float> a.Seed (Shape.Vector a.InputWidth) specs))
        names "specs" e .&. mentions e.Message [ $"Layer {f.Layer}"; "slope" ]

    [<Property>]
    let ``init refuses no layers and input widths below 1`` (a: Architecture) (k: NonNegativeInt) =
        let width = -(k.Get % 3)
        let e = refused<ArgumentOutOfRangeException> (fun () -> box (Network.init<float> a.Seed (Shape.Vector width) a.Specs))
        names "input" e
        .&. names "specs" (refused<ArgumentException> (fun () -> box (Network.init<float> a.Seed (Shape.Vector a.InputWidth) [])))
        .&. names "specs" (refused<ArgumentNullException> (fun () -> box (Network.init<float> a.Seed (Shape.Vector a.InputWidth) null)))

    [<Property>]
    let ``Dense.create refuses empty weights and biases of another shape, naming the shapes`` (f: Fault) =
        let units, fanIn = unitsOf f.Architecture.Specs.Head, f.Architecture.InputWidth
        let w = Matrix.zeros<float> units fanIn
        // Biases of any shape but units×1: a wrong height, or more than one column.
        let bRows, bCols = if f.Offset > 0 then units + f.Offset, 1 else units, 1 - f.Offset
        let wrongBiases = refused<ArgumentException> (fun () -> box (Dense.create w (Matrix.zeros bRows bCols) Activation.ReLU))
        let noUnits = refused<ArgumentException> (fun () -> box (Dense.create (Matrix.zeros<float> 0 fanIn) (Matrix.zeros 0 1) Activation.ReLU))
        let noInputs = refused<ArgumentException> (fun () -> box (Dense.create (Matrix.zeros<float> units 0) (Matrix.zeros units 1) Activation.ReLU))
        names "biases" wrongBiases
        .&. mentions wrongBiases.Message [ shapeOf units fanIn; shapeOf units 1; shapeOf bRows bCols ]
        .&. names "weights" noUnits .&. mentions noUnits.Message [ "0 rows" ]
        .&. names "weights" noInputs .&. mentions noInputs.Message [ "0 columns" ]
        .&. names "weights" (refused<ArgumentNullException> (fun () -> box (Dense.create (Unchecked.defaultof<Matrix<float>>) (Matrix.zeros units 1) Activation.ReLU)))
        .&. names "biases" (refused<ArgumentNullException> (fun () -> box (Dense.create w (Unchecked.defaultof<Matrix<float>>) Activation.ReLU)))

    [<Property>]
    let ``Dense.create refuses a non-finite weight or bias, naming the entry`` (a: Architecture) (p: Poison) =
        let units, fanIn = unitsOf a.Specs.Head, a.InputWidth
        let i, j = p.Row % units, p.Column % fanIn
        let w = Matrix.init units fanIn (fun r c -> if (r, c) = (i, j) then p.Value else 1.0)
        let b = Matrix.init units 1 (fun r _ -> if r = i then p.Value else 1.0)
        let badWeights = refused<ArgumentException> (fun () -> box (Dense.create w (Matrix.zeros units 1) Activation.Sigmoid))
        let badBiases = refused<ArgumentException> (fun () -> box (Dense.create (Matrix.zeros units fanIn) b Activation.Sigmoid))
        names "weights" badWeights .&. mentions badWeights.Message [ $"entry ({i}, {j})"; "finite" ]
        .&. names "biases" badBiases .&. mentions badBiases.Message [ $"entry ({i}, 0)"; "finite" ]

/// A batch of `n` examples for the network: inputs and targets valid for every loss the output
/// suits (targets in [0, 1], each column summing to at most 1).
let private batch (network: Network<float>) (n: int) =
    Matrix.init network.InputWidth n (fun i j -> float (i - j) / 4.0), Matrix.init network.OutputWidth n (fun i j -> if i = j % network.OutputWidth then 1.0 else 0.0)

/// A loss suited to the network's output layer.
let private suitedLoss (network: Network<float>) =
    match network.OutputActivation with
    | Activation.Sigmoid -> Loss.BinaryCrossEntropy
    | Activation.Softmax -> Loss.CrossEntropy
    | _ -> Loss.Quadratic

[<Properties(Arbitrary = [| typeof<NetworkArbitraries> |], MaxTest = 100)>]
module CheckingData =

    [<Property>]
    let ``valid inputs and targets pass`` (a: Architecture) (n: PositiveInt) =
        let network = a.Network<float> ()
        let x, y = batch network (n.Get % 20 + 1)
        Network.checkInputs network x
        Network.checkTargets network (suitedLoss network) x y

    [<Property>]
    let ``checkInputs names layer 1's fan-in and the batch's shape when the heights differ`` (f: Fault) (n: PositiveInt) =
        let network = f.Architecture.Network<float> ()
        let n = n.Get % 20 + 1
        let rows = Math.Max(0, network.InputWidth + f.Offset)
        let x = Matrix.zeros<float> rows n
        let e = refused<ArgumentException> (fun () -> Network.checkInputs network x; null)
        names "x" e .&. mentions e.Message [ "Layer 1"; $"{network.InputWidth} rows"; shapeOf rows n ]

    [<Property>]
    let ``checkInputs names the row and example of the first non-finite input`` (a: Architecture) (p: Poison) (q: Poison) (n: PositiveInt) =
        let network = a.Network<float> ()
        let n = n.Get % 20 + 1
        let x, _ = batch network n
        // Two poisoned entries: the first in column-major order (example by example) is named.
        let at (p: Poison) = p.Row % x.Rows, p.Column % n
        let first = List.minBy (fun (i, j) -> j, i) [ at p; at q ]
        let poisoned = Matrix.init x.Rows n (fun i j -> if (i, j) = at p then p.Value elif (i, j) = at q then q.Value else x.[i, j])
        let e = refused<ArgumentException> (fun () -> Network.checkInputs network poisoned; null)
        mentions e.Message [ $"row {fst first} of example (column) {snd first}" ]

    [<Property>]
    let ``checkTargets names the output layer and the targets' shape, or both example counts`` (f: Fault) (n: PositiveInt) =
        let network = f.Architecture.Network<float> ()
        let n = n.Get % 20 + 1
        let x, _ = batch network n
        let rows = Math.Max(0, network.OutputWidth + f.Offset)
        let tall = refused<ArgumentException> (fun () -> Network.checkTargets network Loss.Quadratic x (Matrix.zeros rows n); null)
        let cols = n + Math.Abs f.Offset
        let wide = refused<ArgumentException> (fun () -> Network.checkTargets network Loss.Quadratic x (Matrix.zeros network.OutputWidth cols); null)
        let units = if network.OutputWidth = 1 then "1 unit," else $"{network.OutputWidth} units,"
        mentions tall.Message [ $"Layer {network.Depth} (the output layer) has {units}"; shapeOf rows n ]
        .&. mentions wide.Message [ $"{n} examples"; $"hold {cols}" ]

    [<Property>]
    let ``checkTargets names the first bad target and refuses losses the output does not suit`` (a: Architecture) (p: Poison) (n: PositiveInt) =
        let network = a.Network<float> ()
        let n = n.Get % 20 + 1
        let x, y = batch network n
        let i, j = p.Row % y.Rows, p.Column % n
        let withTarget (v: float) = Matrix.init y.Rows n (fun r c -> if (r, c) = (i, j) then v else y.[r, c])
        let message loss (y: Matrix<float>) = (refused<ArgumentException> (fun () -> Network.checkTargets network loss x y; null)).Message
        let place = $"row {i}, column {j}"
        let output = network.OutputActivation
        mentions (message Loss.Quadratic (withTarget p.Value)) [ place; "finite" ]
        .&. (match output with
             | Activation.Softmax | Activation.Sigmoid -> mentions (message Loss.CrossEntropy (withTarget -0.5)) [ place; "within [0, 1]" ]
             | other -> mentions (message Loss.CrossEntropy y) [ Activation.name other ])
        .&. (match output with
             | Activation.Sigmoid -> mentions (message Loss.BinaryCrossEntropy (withTarget 1.5)) [ place; "[0, 1]" ]
             | other -> mentions (message Loss.BinaryCrossEntropy y) [ Activation.name other ])
