/// Networks of every kind of layer (dense layers fused or split into an activation layer, hidden
/// layers followed by dropout): the theorems of backprop hold for them in training mode, and in
/// inference they compute what their dense form computes.
module FunctionalBackprop.Properties.LayerProperties

open System
open System.IO
open Xunit
open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open FunctionalBackprop.Core
open FunctionalBackprop.Properties.Generators

/// float32's machine epsilon, 2⁻²³.
let private eps32 = 1.1920928955078125e-07

/// Every parameter's gradient, then the input's, as floats.
let private gradientAndInput (mode: Mode) (loss: Loss) (network: Network<'T>) (x: Matrix<'T>) (y: Matrix<'T>) =
    let trace = Forward.trace mode network x
    let last = List.last trace.Layers
    let g, dx = Backprop.backward network trace (Upstream.ofLoss loss network.OutputActivation last.Z last.A y)
    Array.append (Gradients.toArray g) (dx.ToArray()) |> Array.map Real.toFloat

[<Properties(Arbitrary = [| typeof<Arbitraries> |], MaxTest = 100)>]
module Properties =

    [<Property>]
    let ``in inference dropout and activation layers change nothing: outputs, cost and gradient are the dense form's, bit for bit`` (l: LayeredCase) (p: Provider) =
        p.Run(fun () ->
            let c = l.Case
            let dense, layered = c.Network<float> (), l.Network<float> ()
            let x, y = c.Inputs<float> (), c.TargetMatrix<float> ()
            let cost, g = Backprop.lossAndGradient Mode.Inference c.Loss dense x y
            let cost', g' = Backprop.lossAndGradient Mode.Inference c.Loss layered x y
            (Bits.ofNetwork layered = Bits.ofNetwork dense |> Prop.label "parameters")
            .&. (Bits.ofValues ((Forward.run layered x).ToArray()) = Bits.ofValues ((Forward.run dense x).ToArray()) |> Prop.label "outputs")
            .&. (Bits.ofValues [| cost' |] = Bits.ofValues [| cost |] |> Prop.label "cost")
            .&. (Bits.ofGradients g' = Bits.ofGradients g |> Prop.label "gradient")
            .&. (Bits.ofValues (gradientAndInput Mode.Inference c.Loss layered x y) = Bits.ofValues (gradientAndInput Mode.Inference c.Loss dense x y) |> Prop.label "∂C/∂x")
            |> Prop.label (string l))

    [<Property>]
    let ``backprop equals central differences on networks of every kind in training mode`` (l: LayeredCase) (p: Provider) =
        p.Run(fun () ->
            let network = l.Network<float> ()
            Checks.gradientCheck network (GradientCheck.run l.Mode l.Case.Loss network (l.Case.Inputs<float> ()) (l.Case.TargetMatrix<float> ()))
            |> Prop.label (string l))

    [<Property>]
    let ``backprop equals reverse mode on networks of every kind in training mode`` (l: LayeredCase) =
        let network, x, y = l.Network<float> (), l.Case.Inputs<float> (), l.Case.TargetMatrix<float> ()
        let expected = Gradients.toArray (Backprop.gradient l.Mode l.Case.Loss network x y)
        let actual = Gradients.toArray (NetworkAutoDiff.reverseGradient l.Mode l.Case.Loss network x y)
        // As for dense networks (NetworkAutoDiffProperties): 10⁻⁹ relative, with a floor of 10⁻¹²
        // of the gradient's scale for entries that are zero up to rounding.
        Approx.allClose "∇C, backprop vs reverse mode" 1e-9 (1e-12 * (1.0 + Approx.scale expected)) expected actual
        |> Prop.label (string l)

    [<Property>]
    let ``float32 backprop on networks of every kind in training mode equals float64 within its rounding bound`` (l: LayeredCase) (p: Provider) =
        p.Run(fun () ->
            let c = l.Case
            let n32, x32, y32 = l.Network<float32> (), c.Inputs<float32> (), c.TargetMatrix<float32> ()
            let n64, x64, y64 = Network.convert<float32, float> n32, Matrix.convert<float32, float> x32, Matrix.convert<float32, float> y32
            let g32 = gradientAndInput l.Mode c.Loss n32 x32 y32
            let g64 = gradientAndInput l.Mode c.Loss n64 x64 y64
            let bound = RoundingBound.gradient eps32 l.Mode c.Loss n64 x64 y64
            // Below float32's smallest normal number rounding is absolute (see PrecisionProperties).
            match Array.init g32.Length id |> Array.tryFind (fun i -> Math.Abs(g32.[i] - g64.[i]) - 1e-36 > eps32 * bound.[i]) with
            | None -> true |> Prop.ofTestable
            | Some i -> false |> Prop.label $"entry {i}: float32 {g32.[i]:R}, float64 {g64.[i]:R}, bound ε₃₂·{bound.[i]:R}; {l}")

    [<Property>]
    let ``a model file gives back every layer, its settings and its parameters bit for bit`` (l: LayeredCase) (f32: bool) =
        let roundTrip (network: Network<'T>) =
            use stream = new MemoryStream()
            ModelFile.write stream (ModelContents.ofNetwork network)
            let bytes = stream.ToArray()
            let back = (ModelFile.read<'T> (new MemoryStream(bytes))).Network
            let onlyDense = network.Layers |> List.forall (fun layer -> Layer.kind layer = "dense")
            (List.map Layer.spec back.Layers = List.map Layer.spec network.Layers |> Prop.label "layers")
            .&. (Bits.ofNetwork back = Bits.ofNetwork network |> Prop.label "parameters")
            .&. (int bytes.[4] = (if onlyDense then 1 else 3) |> Prop.label $"version {bytes.[4]}: 1 for dense layers alone, else 3")
        if f32 then roundTrip (l.Network<float32> ()) else roundTrip (l.Network<float> ())

    [<Property>]
    let ``each layer's input shape is the previous layer's output shape by its shape rule`` (l: LayeredCase) =
        let network = l.Network<float> ()
        let expected = l.Specs |> List.scan (fun shape spec -> LayerSpec.outputShape spec shape) (Shape.Vector l.Case.InputWidth)
        (network.Shapes = expected |> Prop.label "Shapes")
        .&. (network.OutputWidth = fst (List.last l.Case.Layers) |> Prop.label "OutputWidth")

[<Fact>]
let ``shapes describe themselves and refuse empty dimensions`` () =
    Assert.Equal("784", string (Shape.Vector 784))
    Assert.Equal("1×28×28", string (Shape.Image(1, 28, 28)))
    Assert.Equal(784, (Shape.Image(1, 28, 28)).Size)
    Assert.True((Shape.problem (Shape.Vector 0)).IsSome)
    Assert.True((Shape.problem (Shape.Image(1, 0, 3))).IsSome)
    Assert.True((Shape.problem (Shape.Image(1 <<< 11, 1 <<< 10, 1 <<< 10))).IsSome)
    Assert.True((Shape.problem (Shape.Image(3, 32, 32))).IsNone)

[<Fact>]
let ``a part of a batch keeps its examples' places in the epoch`` () =
    let key = { Seed = 5UL; Step = 9L; First = 40 }
    Assert.Equal(Mode.Training { key with First = 47 }, Mode.part 7 (Mode.Training key))
    Assert.Equal(Mode.Inference, Mode.part 7 Mode.Inference)
