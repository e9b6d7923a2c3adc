/// float32 backprop against float64 oracles, and the training fold's reused buffers against the
/// byPureFunctions functions, on both GEMM providers.
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
    Backprop.backward network trace (Loss.upstream loss network.OutputActivation last.Z last.A y)

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

/// An optimizer for the fold's equality: every kind of stage, including the ones that run on
/// fresh arrays (a line search) and the fused learning-rate step.
let private optimizers<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> () : Optimizer<'T> list =
    let r = Schedule.Constant 0.05
    [ Optimizer.sgd r
      Optimizer.sgd (Schedule.Cosine(0.1, 0.01, 7))
      Optimizer.sgdL2 r 0.5 10
      Optimizer.momentum r 0.5
      Optimizer.nesterov r 0.9
      Optimizer.adaGrad r
      Optimizer.rmsProp r 0.9
      Optimizer.adam r
      Optimizer.adamW r 0.01
      Optimizer.adam r |> Optimizer.after [ Transform.clipByGlobalNorm 0.5 ]
      Optimizer.steepestDescent (LineSearch.Backtracking(1.0, 0.5, 1e-4, 20)) ]

/// A case for the fold's equality: the problem, an optimizer (by index), a batch size, two epochs.
type FoldCase = { Case: Case; OptimizerIndex: int; BatchSize: int; Float32: bool }

type FoldArbitraries =
    static member FoldCase() =
        gen {
            let! c = Gen.choose (1, 3) |> Gen.bind caseOfDepth
            let! o = Gen.choose (0, 10)
            // Batch sizes from 1 to past the set's size, so partial last batches occur.
            let! m = Gen.choose (1, c.BatchSize + 2)
            let! f32 = Gen.elements [ false; true ]
            return { Case = c; OptimizerIndex = o; BatchSize = m; Float32 = f32 }
        }
        |> Arb.fromGen
    static member Provider() = Arbitraries.Provider()

let private bits (n: Network<'T>) =
    n.Layers |> List.collect (fun l -> [ l.Weights.ToArray(); l.Biases.ToArray() ]) |> Array.concat |> Array.map (fun v -> BitConverter.DoubleToInt64Bits(Real.toFloat v))

/// An optimizer state's counters and the bits of its slots.
let private stateBits (state: OptimizerState<'T>) =
    let rec counters (s: OptimizerState<'T>) =
        match s with
        | StepCount t -> [ float t ]
        | Moments(t, _, _) -> [ float t ]
        | LastRate(t, rate) -> [ float t; rate ]
        | Chain states -> List.collect counters states
        | Stateless | Velocity _ | SquaredGradients _ -> []
    counters state,
    OptimizerState.slots state |> List.map (fun g -> g.Layers |> List.collect (fun l -> [ l.dW.ToArray(); l.db.ToArray() ]) |> Array.concat |> Array.map (fun v -> BitConverter.DoubleToInt64Bits(Real.toFloat v)))

/// Training through Training.train (reused buffers, in-place steps) against the composition of
/// the byPureFunctions functions, with the same shuffles: the same bits, and the network passed in unchanged.
/// Some generated cases diverge (SGD at η = 0.1 on unbounded leaky-ReLU layers under the quadratic
/// loss, for one): then the fold must stop with TrainingDivergedException exactly when the pure
/// functions meet a non-finite batch cost, and leave the network passed in unchanged.
let private sameBits<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> (f: FoldCase) =
    let c = f.Case
    let network, x, y = c.Network<'T> (), c.Inputs<'T> (), c.TargetMatrix<'T> ()
    let before = bits network
    let optimizer = (optimizers<'T> ()).[f.OptimizerIndex]
    let epochs, n, m = 2, x.Cols, Math.Min(f.BatchSize, x.Cols)
    let options = { TrainingOptions.create c.Loss optimizer epochs f.BatchSize with Seed = c.Seed }
    let trained =
        try Ok(Training.train options network x y)
        with :? TrainingDivergedException<'T> as e -> Error e
    // The pure fold, and whether some batch cost on the way was not finite.
    let byPureFunctions, pureDiverged =
        [ 1 .. epochs ]
        |> List.fold
            (fun ((net: Network<'T>, state), diverged) epoch ->
                let order = if m >= n then Array.init n id else Random.permutation (Random.derive c.Seed (uint64 epoch)) n
                order
                |> Array.chunkBySize m
                |> Array.fold
                    (fun ((net, state), diverged) indices ->
                        let xb, yb = Matrix.selectColumns indices x, Matrix.selectColumns indices y
                        let cost, g = Backprop.lossAndGradient c.Loss net xb yb
                        Optimizer.updateWith (fun w -> Forward.cost c.Loss w xb yb) optimizer state g net, diverged || not ('T.IsFinite cost))
                    ((net, state), diverged))
            ((network, Optimizer.init optimizer network), false)
    match trained with
    | Ok trained ->
        (bits trained.Network = bits (fst byPureFunctions)) |> Prop.label $"{optimizer.Name}: the fold's network differs from the byPureFunctions functions'"
        .&. ((stateBits trained.OptimizerState = stateBits (snd byPureFunctions)) |> Prop.label $"{optimizer.Name}: the fold's optimizer state differs")
        .&. ((bits network = before) |> Prop.label "the network passed in changed")
    | Error e ->
        (pureDiverged |> Prop.label $"{optimizer.Name}: the fold diverged ({e.Message}) but every batch cost of the pure functions was finite")
        .&. ((bits network = before) |> Prop.label "the network passed in changed")

[<Properties(Arbitrary = [| typeof<FoldArbitraries> |], MaxTest = 100)>]
module Fold =

    [<Property>]
    let ``training with reused buffers equals the byPureFunctions functions bit for bit`` (f: FoldCase) (p: Provider) =
        p.Run(fun () -> if f.Float32 then sameBits<float32> f else sameBits<float> f)

