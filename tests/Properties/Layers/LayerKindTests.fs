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

/// A network around a layer of the given kind (its settings in the spec are not read), on 4
/// inputs with 3 softmax outputs, so that the kind sits between layers that have parameters
/// and its gradient reaches both sides.
let private around (kind: LayerSpec) : LayerSpec list =
    let dense units activation = LayerSpec.Dense(units, activation, Some Initializer.XavierNormal)
    match kind with
    | LayerSpec.Dense _ -> [ dense 5 Activation.Tanh; dense 3 Activation.Softmax ]
    | LayerSpec.Activation _ -> [ dense 5 Activation.Identity; LayerSpec.Activation Activation.Tanh; dense 3 Activation.Identity; LayerSpec.Activation Activation.Softmax ]
    | LayerSpec.Dropout _ -> [ dense 5 Activation.Tanh; LayerSpec.Dropout 0.4; dense 3 Activation.Softmax ]

/// Every case of LayerSpec, by name, with its example network's specs.
let private examples : (string * LayerSpec list) list =
    FSharpType.GetUnionCases(typeof<LayerSpec>)
    |> Array.map (fun case ->
        let fields = case.GetFields() |> Array.map (fun f -> if f.PropertyType.IsValueType then Activator.CreateInstance f.PropertyType else null)
        case.Name, around (FSharpValue.MakeUnion(case, fields) :?> LayerSpec))
    |> List.ofArray

/// The kinds, for the theories.
let kinds: TheoryData<string> = TheoryData<string>(examples |> List.map fst)

let private network<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> (kind: string) : Network<'T> =
    Network.init 11UL (Shape.Vector 4) (examples |> List.find (fun (name, _) -> name = kind) |> snd)

/// Six examples drawn from a seed, with one-hot targets.
let private batch<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> () =
    Matrix.init 4 6 (fun i j -> Real.ofFloat<'T> (Math.Sin(float (3 * i + 7 * j + 1)))),
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
    let x, y = batch<float> ()
    for mode in [ Mode.Inference; training ] do
        let report = GradientCheck.run mode Loss.CrossEntropy n x y
        Assert.True(report.MaxRelativeError < 1e-6 && report.Resolved = report.Checked && report.AtKinks = 0,
                    $"{kind} in {mode}: max relative error {report.MaxRelativeError:E2} at {report.Worst}, resolved {report.Resolved} of {report.Checked}")

[<Theory; MemberData(nameof kinds)>]
let ``backprop equals reverse mode in training mode`` (kind: string) =
    let n = network<float> kind
    let x, y = batch<float> ()
    let expected = Gradients.toArray (Backprop.gradient training Loss.CrossEntropy n x y)
    let actual = Gradients.toArray (NetworkAutoDiff.reverseGradient training Loss.CrossEntropy n x y)
    Array.iteri2 (fun i e a -> Assert.True(Approx.close 1e-9 1e-15 e a, $"{kind}: entry {i}, backprop {e:R}, reverse mode {a:R}")) expected actual

/// Saved and loaded through a model file: the same layers, parameters and outputs, bit for bit.
let private savedAndLoaded<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> (kind: string) =
    let n = network<'T> kind
    use stream = new MemoryStream()
    ModelFile.write stream (ModelContents.ofNetwork n)
    let back = (ModelFile.read<'T> (new MemoryStream(stream.ToArray()))).Network
    let x, _ = batch<'T> ()
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
    let x, _ = batch<'T> ()
    Assert.Equal<int64[]>(Bits.ofValues ((Forward.run n x).ToArray()), Bits.ofValues ((Forward.run back x).ToArray()))

[<Theory; MemberData(nameof kinds)>]
let ``an ONNX round trip gives the same outputs bit for bit`` (kind: string) =
    throughOnnx<float> kind
    throughOnnx<float32> kind

[<Theory; MemberData(nameof kinds)>]
let ``k shards give the same bits run after run and one shard's gradient within rounding`` (kind: string) =
    let n = network<float> kind
    let x, y = batch<float> ()
    let eps = Real.epsilon<float> ()
    let _, one = Backprop.lossAndGradient training Loss.CrossEntropy n x y
    let bound = RoundingBound.gradient eps training Loss.CrossEntropy n x y
    for k in [ 2; 3; 6 ] do
        let _, g = Shards.lossAndGradient k training Loss.CrossEntropy n x y
        let _, again = Shards.lossAndGradient k training Loss.CrossEntropy n x y
        Assert.Equal<int64[]>(Bits.ofGradients g, Bits.ofGradients again)
        Array.iteri2
            (fun i (a: float) (b: float) -> Assert.True(Math.Abs(a - b) <= 2.0 * eps * bound.[i], $"{kind}, {k} shards: entry {i}, one shard {a:R}, {k} shards {b:R}, bound 2ε·{bound.[i]:R}"))
            (Gradients.toArray one) (Gradients.toArray g)
