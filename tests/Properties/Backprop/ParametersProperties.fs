/// Parameters, a network's weights and biases as one vector: its order is Gradients.indices', a
/// copy shares nothing, w + α·Δ is a product and a sum each rounded (in a new network or in place,
/// with the same bits), the distance is the Euclidean metric, and isFinite sees every entry.
module FunctionalBackprop.Properties.ParametersProperties

open System
open Xunit
open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open FunctionalBackprop.Core

/// Reals of either sign up to 2¹² in magnitude, of 20 significant bits (exact in float32).
let private real =
    Gen.map2 (fun (m: int) (e: int) -> float m * Math.Pow(2.0, float e - 20.0)) (Gen.choose (-(1 <<< 20), 1 <<< 20)) (Gen.choose (-12, 12))

/// Finite in float32 as well as float: signed zeros, a float32 subnormal, values whose sums
/// overflow float32, and ordinary reals.
let private awkward =
    Gen.frequency [ 6, real; 1, Gen.elements [ 0.0; -0.0; 1e-40; -1e-40; 3e38; -3e38; 1.0 ] ]

/// Networks of one architecture: widths n⁰ … nᴸ and, for each of three networks and a step Δ, the
/// parameters in the order layer by layer, weights column by column, then biases.
type Shaped = { Widths: int list; W: float[]; V: float[]; U: float[]; Delta: float[] }

/// A Shaped of ordinary reals only (for the metric, where the float64 oracle must not overflow).
type Moderate = { Reals: Shaped }

/// A position among the parameters and a non-finite value.
type Poison = { Position: int; Value: float }

let private shaped (value: Gen<float>) =
    gen {
        let! inputWidth = Gen.choose (1, 6)
        let! units = Gen.choose (1, 4) |> Gen.bind (fun depth -> Gen.listOfLength depth (Gen.choose (1, 6)))
        let widths = inputWidth :: units
        let count = List.pairwise widths |> List.sumBy (fun (fanIn, n) -> n * fanIn + n)
        let! w = Gen.arrayOfLength count value
        let! v = Gen.arrayOfLength count value
        let! u = Gen.arrayOfLength count value
        let! delta = Gen.arrayOfLength count value
        return { Widths = widths; W = w; V = v; U = u; Delta = delta }
    }

type ParametersArbitraries =
    static member Shaped() = Arb.fromGen (shaped awkward)
    static member Moderate() = shaped real |> Gen.map (fun s -> { Reals = s }) |> Arb.fromGen
    static member Poison() =
        Gen.map2 (fun p v -> { Position = p; Value = v }) (Gen.choose (0, Int32.MaxValue)) (Gen.elements [ nan; infinity; -infinity ]) |> Arb.fromGen

/// Cuts values into the layers' weights (nˡ×nˡ⁻¹, column-major) and biases (nˡ), in order.
let private cut (widths: int list) (values: 'T[]) : ('T[] * 'T[]) list =
    widths
    |> List.pairwise
    |> List.mapFold (fun offset (fanIn, units) ->
        let weights = units * fanIn
        (values.[offset .. offset + weights - 1], values.[offset + weights .. offset + weights + units - 1]), offset + weights + units) 0
    |> fst

/// The network whose parameters are the values, in the documented order.
let private network<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> (widths: int list) (values: float[]) : Network<'T> =
    let values = Array.map Real.ofFloat<'T> values
    List.zip (List.pairwise widths) (cut widths values)
    |> List.map (fun ((fanIn, units), (w, b)) -> Dense.create (Matrix.ofColumnMajor units fanIn w) (Matrix.ofColumnMajor units 1 b) Activation.Tanh)
    |> Network.ofDense

/// The gradient-shaped Δ whose entries are the values, in the same order.
let private step<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> (widths: int list) (values: float[]) : Gradients<'T> =
    let values = Array.map Real.ofFloat<'T> values
    List.zip (List.pairwise widths) (cut widths values)
    |> List.map (fun ((fanIn, units), (w, b)) -> { Tensors = [ Matrix.ofColumnMajor units fanIn w; Matrix.ofColumnMajor units 1 b ] })
    |> Gradients.ofLayers

let private bitsOf (xs: 'T[]) = Bits.ofValues xs
let private bits (n: Network<'T>) = Bits.ofNetwork n
let private stepBits (g: Gradients<'T>) = g.Layers |> List.collect (fun l -> l.Tensors |> List.map (fun m -> m.ToArray())) |> Array.concat |> bitsOf

/// The unit roundoff u = ε/2 of 'T.
let private unitRoundoff<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> () = Real.epsilon<'T> () / 2.0

/// w + α·Δ entry by entry, the product rounded and then the sum (two roundings, no fusing).
let private movedByHand<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> (alpha: 'T) (w: 'T[]) (delta: 'T[]) =
    Array.map2 (fun (wi: 'T) (di: 'T) -> let product = 'T.op_Multiply (alpha, di) in 'T.op_Addition (wi, product)) w delta

/// addScaled against the scalar loop, and its inputs untouched.
let private addScaledAgrees<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> (s: Shaped) (alpha: float) =
    let n: Network<'T> = network s.Widths s.W
    let delta: Gradients<'T> = step s.Widths s.Delta
    let before = bits n, stepBits delta
    let alpha: 'T = Real.ofFloat alpha
    let moved = Parameters.addScaled alpha (Gradients.arrays delta) n
    let expected = movedByHand alpha (Parameters.toArray n) (Array.map Real.ofFloat<'T> s.Delta)
    (bits moved = bitsOf expected |> Prop.label $"{Real.typeName<'T> ()}: w + α·Δ, α = {alpha}")
    .&. ((bits n, stepBits delta) = before |> Prop.label $"{Real.typeName<'T> ()}: inputs unchanged")

[<Properties(Arbitrary = [| typeof<ParametersArbitraries> |], MaxTest = 100)>]
module Laws =

    [<Property>]
    let ``toArray lists layer by layer the weights column by column, then the biases: the order of Parameters.indices`` (s: Shaped) =
        let n: Network<float> = network s.Widths s.W
        let parameters = Parameters.toArray n
        let read (p: ParameterIndex) =
            let l = (Generators.denseLayers n).[p.Layer - 1]
            match p.Symbol, p.Tensor with
            | "w", 0 -> l.Weights.[p.Row, p.Column]
            | "b", 1 when p.Column = 0 -> l.Biases.[p.Row, 0]
            | _ -> invalidOp $"A dense layer has w then b, not {p}."
        (bitsOf parameters = bitsOf s.W |> Prop.label "the documented order")
        .&. (bitsOf parameters = (Parameters.indices n |> List.map read |> Array.ofList |> bitsOf) |> Prop.label "the order of Parameters.indices")

    [<Property>]
    let ``a copy has the same bits and activations and shares no array with the original`` (s: Shaped) =
        let n: Network<float> = network s.Widths s.W
        let c = Parameters.copy n
        let shared =
            Parameters.arrays n |> Array.exists (fun a -> Parameters.arrays c |> Array.exists (fun b -> Object.ReferenceEquals(a, b)))
        let before, copied = bits n, bits c
        // Writing into the copy must leave the original alone.
        Parameters.addScaledInto 1.0 (Gradients.arrays (step s.Widths s.Delta)) c c
        (copied = before |> Prop.label "same bits")
        .&. (List.map Layer.activation c.Layers = List.map Layer.activation n.Layers |> Prop.label "same activations")
        .&. (not shared |> Prop.label "no shared array")
        .&. (bits n = before |> Prop.label "the original unchanged by writes into the copy")

    [<Property>]
    let ``addScaled is w + α·Δ with the product and the sum each rounded, and α = 1 gives the bits of w + Δ`` (s: Shaped) (k: int) =
        // α = 1: 1·Δ is Δ exactly, so the result is w + Δ rounded once.
        let alpha = [| 1.0; -1.0; 0.5; -0.1; 3.7; 1e-3 |].[Math.Abs(k % 6)]
        addScaledAgrees<float> s alpha .&. addScaledAgrees<float32> s alpha

    [<Property>]
    let ``addScaledInto the network itself, or into another network, gives the bits of addScaled`` (s: Shaped) (k: int) =
        let alpha = [| 1.0; -0.25; 0.1 |].[Math.Abs(k % 3)]
        let n: Network<float> = network s.Widths s.W
        let delta = step s.Widths s.Delta
        let expected = bits (Parameters.addScaled alpha (Gradients.arrays delta) n)
        let inPlace = Parameters.copy n
        Parameters.addScaledInto alpha (Gradients.arrays delta) inPlace inPlace
        // A target holding other values: every entry must be overwritten.
        let target: Network<float> = network s.Widths s.V
        Parameters.addScaledInto alpha (Gradients.arrays delta) n target
        (bits inPlace = expected |> Prop.label "in place") .&. (bits target = expected |> Prop.label "into another network")
        .&. (bits n = bitsOf s.W |> Prop.label "the source unchanged")

    [<Property>]
    let ``with α = 0 every parameter keeps its value, and its bits unless it is −0`` (s: Shaped) =
        // 0·Δ is ±0 for finite Δ and w + ±0 = w, except that IEEE 754 gives −0 + +0 = +0 (round to
        // nearest): a −0 parameter with Δ ≥ +0 becomes +0, equal in value though not in bits.
        let n: Network<float> = network s.Widths s.W
        let moved = Parameters.toArray (Parameters.addScaled 0.0 (Gradients.arrays (step s.Widths s.Delta)) n)
        let negativeZero (x: float) = x = 0.0 && Double.IsNegative x
        Array.forall2 (fun (w: float) (m: float) -> m = w && (negativeZero w || BitConverter.DoubleToInt64Bits m = BitConverter.DoubleToInt64Bits w)) s.W moved

    [<Property>]
    let ``isFinite is false exactly when some weight or bias is NaN or infinite`` (s: Shaped) (p: Poison) =
        let n: Network<float> = network s.Widths s.W
        let poisoned = Parameters.copy n
        // Write the value at the position in the documented order, in the copy's own arrays.
        let k = p.Position % s.W.Length
        let arrays = Parameters.arrays poisoned
        let offsets = arrays |> Array.scan (fun o (a: float[]) -> o + a.Length) 0
        Array.iter2 (fun (a: float[]) o -> if o <= k && k < o + a.Length then a.[k - o] <- p.Value) arrays (Array.take arrays.Length offsets)
        (Parameters.isFinite n |> Prop.label "finite parameters")
        .&. (not (Parameters.isFinite poisoned) |> Prop.label $"{p.Value} at {k}")
        .&. (let planted = (Parameters.toArray poisoned).[k] in (planted = p.Value || Double.IsNaN planted && Double.IsNaN p.Value) |> Prop.label "planted where meant")

/// The Euclidean distance by its definition, √Σ(wᵢ − vᵢ)², in float64.
let private euclidean (w: float[]) (v: float[]) = Math.Sqrt(Array.fold2 (fun acc a b -> acc + (a - b) * (a - b)) 0.0 w v)

/// The distance against the float64 definition. The library's dᵢ = wᵢ − vᵢ, the division by the
/// largest |dᵢ|, the n squares and their sum, the square root and the final product give a relative
/// error of at most (n + 4)u/2 + 2u = (n + 8)u/2 in its own u (first order; Higham §3.1 for the
/// sum of squares); the float64 definition (n differences and squares, n − 1 additions, the root)
/// at most (n + 4)u₆₄/2.
let private distanceAgrees<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> (s: Shaped) =
    let w: Network<'T> = network s.Widths s.W
    let v: Network<'T> = network s.Widths s.V
    let wf, vf = Parameters.toArray w |> Array.map Real.toFloat, Parameters.toArray v |> Array.map Real.toFloat
    let n = float wf.Length
    let expected = euclidean wf vf
    let actual = Real.toFloat (Parameters.distance w v)
    Math.Abs(actual - expected) <= ((n + 8.0) / 2.0 * unitRoundoff<'T> () + (n + 4.0) / 2.0 * unitRoundoff<float> ()) * expected
    |> Prop.label $"{Real.typeName<'T> ()}: ‖w − v‖ = {actual:R}, by definition {expected:R}"

[<Properties(Arbitrary = [| typeof<ParametersArbitraries> |], MaxTest = 100)>]
module Distance =

    [<Property>]
    let ``distance is the Euclidean norm of the difference, to rounding`` (m: Moderate) =
        distanceAgrees<float> m.Reals .&. distanceAgrees<float32> m.Reals

    [<Property>]
    let ``distance is a metric: zero on itself, symmetric, and within rounding of the triangle inequality`` (m: Moderate) =
        let s = m.Reals
        let w, v, u = network<float> s.Widths s.W, network<float> s.Widths s.V, network<float> s.Widths s.U
        // Each computed distance is within a relative r = (n + 8)u/2 of the exact one, and the exact
        // ones meet d(u, w) ≤ d(u, v) + d(v, w): so the computed ones within (1 + r)/(1 − r), and
        // the sum and the product on the right round twice more (1 + 4u covers them).
        let eps = unitRoundoff<float> ()
        let r = (float s.W.Length + 8.0) / 2.0 * eps
        let d a b = Parameters.distance a b
        (d w w = 0.0 |> Prop.label "d(w, w) = 0")
        // wᵢ − vᵢ = −(vᵢ − wᵢ) exactly, so every later step sees the same magnitudes.
        .&. (BitConverter.DoubleToInt64Bits(d w v) = BitConverter.DoubleToInt64Bits(d v w) |> Prop.label "d(w, v) = d(v, w), bit for bit")
        .&. (d u w <= (1.0 + r) / (1.0 - r) * (1.0 + 4.0 * eps) * (d u v + d v w) |> Prop.label $"d(u, w) = {d u w:R}, d(u, v) + d(v, w) = {d u v + d v w:R}")

    [<Property>]
    let ``distance scales by 2ᵏ bit for bit, where the squares themselves would overflow or underflow`` (m: Moderate) (up: bool) =
        // Multiplying every parameter by 2ᵏ is exact (the results stay normal: 2⁻⁷³² … 2⁷¹²), and
        // so are then the differences, the largest |dᵢ|, and the final product: the scaled quotients
        // dᵢ/max|d| are the same numbers. The squares of 2⁷⁰⁰-sized differences overflow float64
        // and those of 2⁻⁷⁰⁰-sized ones underflow; the scaling must avoid both.
        let s = m.Reals
        let k = if up then 700.0 else -700.0
        let scaled (xs: float[]) = xs |> Array.map (fun x -> x * Math.Pow(2.0, k))
        let d = Parameters.distance (network<float> s.Widths s.W) (network<float> s.Widths s.V)
        let big = Parameters.distance (network<float> s.Widths (scaled s.W)) (network<float> s.Widths (scaled s.V))
        BitConverter.DoubleToInt64Bits big = BitConverter.DoubleToInt64Bits(d * Math.Pow(2.0, k))
        |> Prop.label $"d = {d:R}, scaled {big:R}"
