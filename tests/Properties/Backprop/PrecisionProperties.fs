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

let private flatten (g: Gradients<'T>, dx: Matrix<'T>) =
    Array.concat [ yield! g.Layers |> List.collect (fun l -> [ l.Tensors.[0].ToArray(); l.Tensors.[1].ToArray() ]); yield dx.ToArray() ] |> Array.map Real.toFloat

/// A float32 network, its batch, and the same parameters and batch promoted exactly to float64.
let private both (c: Case) =
    let n32, x32, y32 = c.Network<float32> (), c.Inputs<float32> (), c.TargetMatrix<float32> ()
    (n32, x32, y32), (Network.convert<float32, float> n32, Matrix.convert<float32, float> x32, Matrix.convert<float32, float> y32)

let private gradientAndInput (loss: Loss) (network: Network<'T>) (x: Matrix<'T>) (y: Matrix<'T>) =
    let trace = Forward.trace Mode.Inference network x
    let last = List.last trace.Layers
    Backprop.backward network trace (Upstream.ofLoss loss network.OutputActivation last.Z last.A y)

/// Below float32's smallest normal number (1.2·10⁻³⁸) rounding is absolute, not relative: a
/// gradient entry of 10⁻⁴⁷ is 0 in float32. Such underflow, carried through a few products of
/// moderate size, stays far below this absolute slack, itself far below any meaningful gradient.
let private underflow = 1e-36

/// The first entry whose float32 value differs from the exact one by more than ε₃₂ times its
/// rounding bound (RoundingBound: first order, worst case over summation orders, so a correct
/// float32 backprop stays within it; a wrong formula or index gives errors of the size of the
/// entries themselves). `slack` widens the bound by an error the oracle itself carries.
let private beyondBound (bound: float[]) (float32s: float[]) (exact: float[]) (slack: int -> float) =
    Array.init float32s.Length id
    |> Array.tryFind (fun i -> Math.Abs(float32s.[i] - exact.[i]) - slack i - underflow > eps32 * bound.[i])

[<Properties(Arbitrary = [| typeof<Arbitraries> |], MaxTest = 100)>]
module Float32 =

    [<Property>]
    let ``float32 backprop equals float64 backprop within its rounding bound`` (c: Case) (p: Provider) =
        p.Run(fun () ->
            let (n32, x32, y32), (n64, x64, y64) = both c
            let g32 = flatten (gradientAndInput c.Loss n32 x32 y32)
            let g64 = flatten (gradientAndInput c.Loss n64 x64 y64)
            let bound = RoundingBound.gradient eps32 Mode.Inference c.Loss n64 x64 y64
            match beyondBound bound g32 g64 (fun _ -> 0.0) with
            | None -> true |> Prop.ofTestable
            | Some i -> false |> Prop.label $"entry {i}: float32 {g32.[i]:R}, float64 {g64.[i]:R}, bound ε₃₂·{bound.[i]:R}")

    [<Property>]
    let ``float32 backprop equals central differences of the same parameters within its rounding bound`` (c: Case) (p: Provider) =
        // Differences of the float32 network itself are limited by float32 rounding (ε₃₂·|C|/h);
        // the same parameters evaluated in float64 give an estimate far finer than the bound.
        p.Run(fun () ->
            let (n32, x32, y32), (n64, x64, y64) = both c
            let g32 = flatten (gradientAndInput c.Loss n32 x32 y32)
            let bound = RoundingBound.gradient eps32 Mode.Inference c.Loss n64 x64 y64
            // One estimate per parameter, in the order of Gradients.indices (the order of g32);
            // None where every step crossed a kink.
            let estimates = GradientCheck.estimate Mode.Inference c.Loss n64 x64 y64 |> List.map snd |> Array.ofList
            let exact = estimates |> Array.mapi (fun i e -> match e with Some(n, _) -> n | None -> g32.[i])
            let slack i = match estimates.[i] with Some(_, u) -> u | None -> 0.0
            match beyondBound bound g32.[.. estimates.Length - 1] exact slack with
            | None -> true |> Prop.ofTestable
            | Some i -> false |> Prop.label $"entry {i}: float32 backprop {g32.[i]:R}, differences {exact.[i]:R} ± {slack i:E1}, bound ε₃₂·{bound.[i]:R}")
