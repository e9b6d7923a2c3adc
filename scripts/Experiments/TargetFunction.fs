namespace FunctionalBackprop.Experiments

open System
open FunctionalBackprop.Core

/// A function on [0, 1] for a network of one input and one output to learn.
[<RequireQualifiedAccess>]
type TargetFunction =
    /// sin 2πx: one whole period, smooth.
    | Sine
    /// |x − ½|: continuous, with a kink in the middle (|x| itself is just x on [0, 1]).
    | AbsoluteValue
    /// 0 below ½, 1 from ½ on: a jump, which no continuous function approaches uniformly.
    | Step

/// Values, names and samples of the target functions.
module TargetFunction =

    /// f(x).
    let evaluate (f: TargetFunction) (x: float) : float =
        match f with
        | TargetFunction.Sine -> sin (2.0 * Math.PI * x)
        | TargetFunction.AbsoluteValue -> abs (x - 0.5)
        | TargetFunction.Step -> if x < 0.5 then 0.0 else 1.0

    /// A short name for file names and table headers: "sin", "abs", "step".
    let name (f: TargetFunction) : string =
        match f with
        | TargetFunction.Sine -> "sin"
        | TargetFunction.AbsoluteValue -> "abs"
        | TargetFunction.Step -> "step"

    /// The formula: "sin 2πx", "|x − ½|", "step at ½".
    let formula (f: TargetFunction) : string =
        match f with
        | TargetFunction.Sine -> "sin 2πx"
        | TargetFunction.AbsoluteValue -> "|x − ½|"
        | TargetFunction.Step -> "step at ½"

    /// n points from 0 to 1, both ends included (n ≥ 2).
    let grid (n: int) : float[] = Array.init n (fun i -> float i / float (n - 1))

    /// A training set of n examples: the midpoints of n equal cells of [0, 1] (so the jump of the
    /// step falls between two of them) and f there, each as a 1×n batch.
    let sample (f: TargetFunction) (n: int) : Matrix<float> * Matrix<float> =
        let x = Array.init n (fun i -> (float i + 0.5) / float n)
        Matrix.init 1 n (fun _ j -> x.[j]), Matrix.init 1 n (fun _ j -> evaluate f x.[j])

    /// The 1×n batch of the given points.
    let batch (x: float[]) : Matrix<float> = Matrix.init 1 x.Length (fun _ j -> x.[j])
