/// The bridge: backprop is reverse mode applied to a network. On generated small networks the
/// core's Backprop.gradient equals reverse mode on the same network written with tape scalars,
/// and forward mode parameter by parameter.
module FunctionalBackprop.Properties.NetworkAutoDiffProperties

open System
open Xunit
open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open FunctionalBackprop.Core
open FunctionalBackprop.Properties.Generators

/// A generated case of 1–3 layers, every width 1–6 (2–6 for a softmax output) and 1–4 examples:
/// forward mode runs the whole network once per parameter.
type SmallCase = SmallCase of Case

let private smallCase: Gen<SmallCase> =
    gen {
        let! depth = Gen.choose (1, 3)
        let! c = caseOfDepth depth
        let narrow (units: int, activation: Activation) =
            let units = 1 + (units - 1) % 6
            (if activation = Activation.Softmax then max 2 units else units), activation
        return SmallCase { c with InputWidth = 1 + (c.InputWidth - 1) % 6; Layers = List.map narrow c.Layers; BatchSize = 1 + (c.BatchSize - 1) % 4 }
    }

type SmallCases =
    static member SmallCase() : Arbitrary<SmallCase> = Arb.fromGen smallCase

let private setup (c: Case) = c.Network<float> (), c.Inputs<float> (), c.TargetMatrix<float> ()

let private flat (g: Gradients<float>) = Gradients.toArray g

/// Entry by entry within 10⁻⁹ relative, with a floor of 10⁻¹² of the gradient's scale for
/// entries that are zero up to rounding.
let private agree (what: string) (expected: float[]) (actual: float[]) =
    Approx.allClose what 1e-9 (1e-12 * (1.0 + Approx.scale expected)) expected actual

let private backpropIsReverseMode (c: Case) =
    let network, x, y = setup c
    agree "∇C, backprop vs reverse mode" (flat (Backprop.gradient Mode.Inference c.Loss network x y)) (flat (NetworkAutoDiff.reverseGradient Mode.Inference c.Loss network x y))
    |> Prop.label (string c)

[<Properties(Arbitrary = [| typeof<SmallCases> |], MaxTest = 100)>]
module Properties =

    [<Property>]
    let ``backprop equals reverse mode applied to the network written with tape scalars`` (SmallCase c) = backpropIsReverseMode c

    /// Reverse mode is cheap enough for the generators' whole range: up to 5 layers of 20 units
    /// and batches of 16, every activation but step, every loss.
    [<Property(Arbitrary = [| typeof<Arbitraries> |])>]
    let ``backprop equals reverse mode on the full range of generated networks`` (c: Case) = backpropIsReverseMode c

    [<Property>]
    let ``backprop equals forward mode parameter by parameter`` (SmallCase c) =
        let network, x, y = setup c
        agree "∇C, backprop vs forward mode" (flat (Backprop.gradient Mode.Inference c.Loss network x y)) (flat (NetworkAutoDiff.forwardGradient Mode.Inference c.Loss network x y))
        |> Prop.label (string c)

    /// Both evaluate the same cost in float64 in other orders (the scalar code one product at a
    /// time, the library through its GEMM provider), each within its rounding bound of the exact
    /// cost (RoundingBound.cost), so within twice that bound of each other, or 10⁻¹² relative where
    /// that is wider. A cost near 0 is kept to a few ulps by both (log1p, and the difference before
    /// ln Σ in log-sum-exp): with ln(1 ⊕ u) the scalar code once lost 2.8·10⁻¹⁰ of a cost of 3.7·10⁻⁷.
    [<Property>]
    let ``the network written with scalars has the library's cost`` (SmallCase c) =
        let network, x, y = setup c
        let expected = Forward.cost Mode.Inference c.Loss network x y
        let actual = NetworkAutoDiff.cost Mode.Inference c.Loss network x y
        let bound = 2.0 * Real.epsilon<float> () * RoundingBound.cost (Real.epsilon<float> ()) Mode.Inference c.Loss network x y
        (abs (expected - actual) <= max bound (1e-12 * abs expected) + 1e-300)
        |> Prop.label $"C: library {expected:R}, scalars {actual:R}, bound {max bound (1e-12 * abs expected):R}"
        |> Prop.label (string c)

/// A cost near 0 (an output that fits its target with z = 16 or 20), where ln(1 ⊕ u) and
/// m + ln Σ − m would keep only a few of its digits: the scalar code gives the library's cost to
/// a few ulps.
module NearZeroCosts =

    /// One input, one unit per weight, zero biases.
    let private oneLayer (weights: float[]) (activation: Activation) =
        Network.ofDense [ Dense.create (Matrix.ofColumns [ weights ]) (Matrix.ofColumns [ Array.zeroCreate weights.Length ]) activation ]

    let private sameCost (loss: Loss) (network: Network<float>) (y: float[]) =
        let x = Matrix.ofColumns [ [| 1.0 |] ]
        let y = Matrix.ofColumns [ y ]
        let expected = Forward.cost Mode.Inference loss network x y
        let actual = NetworkAutoDiff.cost Mode.Inference loss network x y
        Assert.True(abs (expected - actual) <= 4.0 * Real.epsilon<float> () * expected, $"library {expected:R}, scalars {actual:R}")

    [<Fact>]
    let ``a saturated sigmoid output that fits its target has the library's cost to a few ulps`` () =
        sameCost Loss.CrossEntropy (oneLayer [| 16.0; -17.5 |] Activation.Sigmoid) [| 1.0; 0.0 |]
        sameCost Loss.BinaryCrossEntropy (oneLayer [| 16.0; -17.5 |] Activation.Sigmoid) [| 1.0; 0.0 |]

    [<Fact>]
    let ``a softmax output that fits its target has the library's cost to a few ulps`` () =
        sameCost Loss.CrossEntropy (oneLayer [| 20.0; 0.0 |] Activation.Softmax) [| 1.0; 0.0 |]
