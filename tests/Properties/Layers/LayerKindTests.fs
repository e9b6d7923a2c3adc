/// The checks every kind of layer must pass, run on each kind in turn: a new kind gets them all by
/// being in LayerSpec (the compiler then asks for its example network below; a kind without one
/// fails `every layer kind has an example`). Each check is a theory over the kinds, so a failure
/// names the kind and the check.
module FunctionalBackprop.Properties.LayerKindTests

open System
open System.IO
open Microsoft.FSharp.Reflection
open Xunit
open FunctionalBackprop.Core
open FunctionalBackprop.Onnx

/// A network around a layer of the given kind (its settings in the spec are not read), with 3
/// softmax outputs, so that the kind sits between layers that have parameters and its gradient
/// reaches both sides: on 4 inputs for the kinds that take vectors, on 2 × 5 × 4 images for
/// those that take images (with padding, strides and kernels that differ across the axes).
let private around (kind: LayerSpec) : Shape * LayerSpec list =
    let dense units activation = LayerSpec.Dense(units, activation, Some Initializer.XavierNormal)
    let window height width : Window = { Height = height; Width = width }
    let conv filters activation = LayerSpec.Conv2D(filters, Window.square 3, Window.square 1, Window.square 1, activation, Some Initializer.XavierNormal)
    let vector, image = Shape.Vector 4, Shape.Image(2, 5, 4)
    match kind with
    | LayerSpec.Dense _ -> vector, [ dense 5 Activation.Tanh; dense 3 Activation.Softmax ]
    | LayerSpec.Activation _ -> vector, [ dense 5 Activation.Identity; LayerSpec.Activation Activation.Tanh; dense 3 Activation.Identity; LayerSpec.Activation Activation.Softmax ]
    | LayerSpec.Dropout _ -> vector, [ dense 5 Activation.Tanh; LayerSpec.Dropout 0.4; dense 3 Activation.Softmax ]
    | LayerSpec.Conv2D _ ->
        image, [ LayerSpec.Conv2D(3, window 3 2, window 2 1, window 1 0, Activation.Tanh, Some Initializer.XavierNormal); conv 2 Activation.Tanh; LayerSpec.Flatten; dense 3 Activation.Softmax ]
    | LayerSpec.MaxPool2D _ -> image, [ conv 3 Activation.Tanh; LayerSpec.MaxPool2D(window 3 2, window 2 1, window 1 0); LayerSpec.Flatten; dense 3 Activation.Softmax ]
    | LayerSpec.AvgPool2D _ -> image, [ conv 3 Activation.Tanh; LayerSpec.AvgPool2D(window 3 2, window 2 1, window 1 1); LayerSpec.Flatten; dense 3 Activation.Softmax ]
    | LayerSpec.Flatten -> image, [ conv 2 Activation.Tanh; LayerSpec.Flatten; dense 3 Activation.Softmax ]
    | LayerSpec.BatchNorm _ ->
        image,
        [ conv 3 Activation.Identity; LayerSpec.BatchNorm(0.1, 1e-5); LayerSpec.Activation Activation.Tanh; LayerSpec.Flatten
          dense 4 Activation.Identity; LayerSpec.BatchNorm(0.1, 1e-5); LayerSpec.Activation Activation.Tanh; dense 3 Activation.Softmax ]

/// Every case of LayerSpec, by name, with its example network's input shape and specs.
let private examples : (string * (Shape * LayerSpec list)) list =
    FSharpType.GetUnionCases(typeof<LayerSpec>)
    |> Array.map (fun case ->
        let fields = case.GetFields() |> Array.map (fun f -> if f.PropertyType.IsValueType then Activator.CreateInstance f.PropertyType else null)
        case.Name, around (FSharpValue.MakeUnion(case, fields) :?> LayerSpec))
    |> List.ofArray

/// The kinds, for the theories.
let kinds: TheoryData<string> = TheoryData<string>(examples |> List.map fst)

let private network<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> (kind: string) : Network<'T> =
    let input, specs = examples |> List.find (fun (name, _) -> name = kind) |> snd
    Network.init 11UL input specs

/// Six examples for the network drawn from a seed, with one-hot targets.
let private batch<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> (n: Network<'T>) =
    Matrix.init n.InputWidth 6 (fun i j -> Real.ofFloat<'T> (Math.Sin(float (3 * i + 7 * j + 1)))),
    Matrix.init 3 6 (fun i j -> if i = j % 3 then 'T.One else 'T.Zero)

/// Training mode at some step of some epoch.
let private training = Mode.Training { Seed = 2UL; Step = 17L; First = 48 }

[<Fact>]
let ``every layer kind has an example that holds a layer of that kind`` () =
    for kind, _ in examples do
        let layers = (network<float> kind).Layers |> List.map Layer.kind
        Assert.True(List.contains (kind.ToLowerInvariant()) layers, $"The example network for {kind} holds no {kind} layer: {layers}.")
    Assert.Equal<string list>(FSharpType.GetUnionCases(typeof<Layer<float>>) |> Array.map (fun c -> c.Name) |> List.ofArray, List.map fst examples)

[<Theory; MemberData(nameof kinds)>]
let ``backprop equals central differences in inference and training mode`` (kind: string) =
    let n = network<float> kind
    let x, y = batch n
    for mode in [ Mode.Inference; training ] do
        let report = GradientCheck.run mode Loss.CrossEntropy n x y
        Assert.True(report.MaxRelativeError < 1e-6 && report.Resolved = report.Checked && report.AtKinks = 0,
                    $"{kind} in {mode}: max relative error {report.MaxRelativeError:E2} at {report.Worst}, resolved {report.Resolved} of {report.Checked}")

[<Theory; MemberData(nameof kinds)>]
let ``backprop equals reverse mode in training mode`` (kind: string) =
    let n = network<float> kind
    let x, y = batch n
    let expected = Gradients.toArray (Backprop.gradient training Loss.CrossEntropy n x y)
    let actual = Gradients.toArray (NetworkAutoDiff.reverseGradient training Loss.CrossEntropy n x y)
    Array.iteri2 (fun i e a -> Assert.True(Approx.close 1e-9 1e-15 e a, $"{kind}: entry {i}, backprop {e:R}, reverse mode {a:R}")) expected actual

/// Saved and loaded through a model file: the same layers, parameters and outputs, bit for bit.
let private savedAndLoaded<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> (kind: string) =
    let n = network<'T> kind
    use stream = new MemoryStream()
    ModelFile.write stream (ModelContents.ofNetwork n)
    let back = (ModelFile.read<'T> (new MemoryStream(stream.ToArray()))).Network
    let x, _ = batch n
    Assert.Equal<LayerSpec list>(List.map Layer.spec n.Layers, List.map Layer.spec back.Layers)
    Assert.Equal<int64[]>(Bits.ofNetwork n, Bits.ofNetwork back)
    Assert.Equal<int64[]>(Bits.ofValues ((Forward.run n x).ToArray()), Bits.ofValues ((Forward.run back x).ToArray()))

[<Theory; MemberData(nameof kinds)>]
let ``a model file round trip gives the same network bit for bit`` (kind: string) =
    savedAndLoaded<float> kind
    savedAndLoaded<float32> kind

/// Exported to ONNX and imported back: the same outputs, bit for bit (the structure may differ:
/// dropout writes no node, and an activation layer after a dense one of identity σ reads back
/// as one dense layer).
let private throughOnnx<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> (kind: string) =
    let n = network<'T> kind
    use stream = new MemoryStream()
    OnnxNetwork.Save(n, stream)
    let back = OnnxNetwork.Load<'T>(new MemoryStream(stream.ToArray()))
    let x, _ = batch n
    Assert.Equal<int64[]>(Bits.ofValues ((Forward.run n x).ToArray()), Bits.ofValues ((Forward.run back x).ToArray()))

[<Theory; MemberData(nameof kinds)>]
let ``an ONNX round trip gives the same outputs bit for bit`` (kind: string) =
    throughOnnx<float> kind
    throughOnnx<float32> kind

/// A batch split into k shards is the sum of the shards' shares, each the gradient of the shard
/// as a batch of its own weighted by its size (batch normalisation in training normalises each
/// shard by its own statistics, as PyTorch's data-parallel training does): that, within the
/// rounding of each shard's gradient and of the weighting and sum; and in inference mode, and for
/// kinds whose outputs depend on their own example alone, within rounding of one shard.
[<Theory; MemberData(nameof kinds)>]
let ``k shards give the same bits run after run and the shards' own batches' gradients within rounding`` (kind: string) =
    let n = network<float> kind
    let x, y = batch n
    let eps = Real.epsilon<float> ()
    let perExample = n.Layers |> List.forall (fun l -> LayerSpec.isPerExample (Layer.spec l))
    for mode in [ Mode.Inference; training ] do
        let _, one = Backprop.lossAndGradient mode Loss.CrossEntropy n x y
        let bound = RoundingBound.gradient eps mode Loss.CrossEntropy n x y
        for k in [ 2; 3; 6 ] do
            let _, g = Shards.lossAndGradient k mode Loss.CrossEntropy n x y
            let _, again = Shards.lossAndGradient k mode Loss.CrossEntropy n x y
            Assert.Equal<int64[]>(Bits.ofGradients g, Bits.ofGradients again)
            let parts =
                [ for i in 0 .. k - 1 ->
                      let struct (first, size) = Shards.range x.Cols k i
                      let xs, ys = Matrix.sliceColumns first size x, Matrix.sliceColumns first size y
                      let weight = float size / float x.Cols
                      let _, own = Backprop.lossAndGradient (Mode.part first mode) Loss.CrossEntropy n xs ys
                      let ownBound = RoundingBound.gradient eps (Mode.part first mode) Loss.CrossEntropy n xs ys
                      Gradients.toArray own |> Array.map ((*) weight), Array.sub ownBound 0 n.ParameterCount |> Array.map ((*) weight) ]
            let expected = parts |> List.map fst |> List.reduce (Array.map2 (+))
            let magnitude = parts |> List.map (fst >> Array.map abs) |> List.reduce (Array.map2 (+))
            let tolerance = parts |> List.map snd |> List.reduce (Array.map2 (+))
            Array.iteri
                (fun i (b: float) ->
                    let allowed = 2.0 * eps * tolerance.[i] + float (k + 2) * eps * magnitude.[i]
                    Assert.True(Math.Abs(expected.[i] - b) <= allowed, $"{kind} in {mode}, {k} shards: entry {i}, the shards' own batches {expected.[i]:R}, {k} shards {b:R}, allowed {allowed:E2}"))
                (Gradients.toArray g)
            if perExample || mode = Mode.Inference then
                Array.iteri2
                    (fun i (a: float) (b: float) -> Assert.True(Math.Abs(a - b) <= 2.0 * eps * bound.[i], $"{kind} in {mode}, {k} shards: entry {i}, one shard {a:R}, {k} shards {b:R}, bound 2ε·{bound.[i]:R}"))
                    (Gradients.toArray one) (Gradients.toArray g)
