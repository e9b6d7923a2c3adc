/// Scalers: the inverse map undoes the map (a target scaler's way back to the targets' units).
module FunctionalBackprop.Properties.ScalerProperties

open System
open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open FunctionalBackprop.Core

/// Values on 1–5 features of 1–12 examples, each feature on a scale and offset of its own (from
/// 10⁻³ to 10⁶), as raw inputs and targets come: the scaler's fit has work to do.
type Spread = { Values: float[]; Features: int; Examples: int }

type ScalerArbitraries =
    static member Spread() =
        gen {
            let! features = Gen.choose (1, 5)
            let! examples = Gen.choose (1, 12)
            let! scales = Gen.arrayOfLength features (Gen.choose (-3, 6) |> Gen.map (fun e -> 10.0 ** float e))
            let! offsets = Gen.arrayOfLength features (Gen.choose (-1000, 1000) |> Gen.map float)
            let! units = Gen.arrayOfLength (features * examples) (Gen.choose (-10000, 10000) |> Gen.map (fun k -> float k / 1000.0))
            return { Values = units |> Array.mapi (fun k u -> offsets.[k % features] + u * scales.[k % features]); Features = features; Examples = examples }
        }
        |> Arb.fromGen

/// The roundings a map and its inverse may add to a value v of a feature with offset o: each is
/// a few roundings of T, of |v| + |o| at most (x′ = (v − o)/s rounded to T, then x′·s + o).
let private roundTripClose (epsilon: float) (o: float) (v: float) (w: float) = Math.Abs(v - w) <= 4.0 * epsilon * (Math.Abs v + Math.Abs o)

[<Properties(Arbitrary = [| typeof<ScalerArbitraries> |], MaxTest = 200)>]
module Properties =

    let private roundTrip<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> (fit: Matrix<'T> -> Scaler) (s: Spread) =
        let x = s.Values |> Array.map Real.ofFloat<'T> |> Matrix.ofColumnMajor s.Features s.Examples
        let scaler = fit x
        let back = Scaler.inverse scaler (Scaler.apply scaler x)
        let epsilon = Real.epsilon<'T> ()
        Seq.forall2
            (fun (k, v) w -> roundTripClose epsilon scaler.Offsets.[k % s.Features] (Real.toFloat v) (Real.toFloat w))
            (Array.indexed (x.ToArray()))
            (back.ToArray())

    [<Property>]
    let ``inverse undoes apply, standard scaler, to a few roundings of float64`` (s: Spread) = roundTrip<float> Scaler.fitStandard s

    [<Property>]
    let ``inverse undoes apply, min-max scaler, to a few roundings of float64`` (s: Spread) = roundTrip<float> Scaler.fitMinMax s

    [<Property>]
    let ``inverse undoes apply in float32, to a few roundings of float32`` (s: Spread) = roundTrip<float32> Scaler.fitStandard s

    [<Property>]
    let ``apply undoes inverse: scaled values come back from the targets' units`` (s: Spread) =
        let x = s.Values |> Matrix.ofColumnMajor s.Features s.Examples
        let scaler = Scaler.fitStandard x
        let scaled = Scaler.apply scaler x
        let again = Scaler.apply scaler (Scaler.inverse scaler scaled)
        // A scaled value is about 1; the roundings of v = x′·s + o are of |v| + |o|, divided by s.
        Seq.forall2
            (fun (k, a) b ->
                let i = k % s.Features
                let v = a * scaler.Scales.[i] + scaler.Offsets.[i]
                Math.Abs(a - b) <= 4.0 * Real.epsilon<float> () * (Math.Abs v + Math.Abs scaler.Offsets.[i]) / scaler.Scales.[i])
            (Array.indexed (scaled.ToArray()))
            (again.ToArray())

    [<Property>]
    let ``a standard target scaler maps the training targets to mean 0 and deviation 1`` (s: Spread) =
        let x = s.Values |> Matrix.ofColumnMajor s.Features s.Examples
        let scaled = Scaler.apply (Scaler.fitStandard x) x
        [ 0 .. s.Features - 1 ]
        |> List.forall (fun i ->
            let row = Matrix.row i scaled
            let mean = Array.average row
            let deviation = Math.Sqrt(row |> Array.averageBy (fun v -> (v - mean) * (v - mean)))
            // A constant feature gets scale 1 and maps to 0s.
            Math.Abs mean <= 1e-9 && (Math.Abs(deviation - 1.0) <= 1e-9 || deviation = 0.0))
