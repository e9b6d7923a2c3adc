/// The lecture's worked examples of forward and reverse mode, line by line with the values of
/// its tables; second derivatives; the cost claim; purity, threads and misuse.
module FunctionalBackprop.Properties.AutoDiffExamples

open System
open System.Threading.Tasks
open Xunit
open FunctionalBackprop.Core

/// The forward-mode example: f(x₁, x₂) = x₁x₂ + sin x₁ = w₃ + w₄ = w₅.
let inline private lectureForward (x1: ^S) (x2: ^S) : ^S = x1 * x2 + sin x1

/// The reverse-mode example: f(x₁, x₂) = e^(x₁x₂) + x₂³, decomposed as the slides do:
/// w₃ = w₁w₂, w₄ = w₂³, w₅ = e^w₃, w₆ = w₄ + w₅.
let inline private lectureReverse (x1: ^S) (x2: ^S) : ^S =
    let w3 = x1 * x2
    let w4 = x2 ** 3.0
    let w5 = exp w3
    w4 + w5

let private near (expected: float) (actual: float) =
    Assert.True(abs (expected - actual) <= 1e-14 * (1.0 + abs expected), $"expected {expected:R}, got {actual:R}")

let private allNear (expected: float list) (actual: float list) =
    Assert.Equal(expected.Length, actual.Length)
    List.iter2 near expected actual

let private x1, x2 = 0.7, 1.3

[<Fact>]
let ``forward mode: the lecture's table for x1 x2 + sin x1, seeded to differentiate by x1`` () =
    let table = Tables.forward (fun x -> lectureForward x.[0] x.[1]) [| x1; x2 |] [| 1.0; 0.0 |]
    Assert.Equal<string list>([ "w₁ = x₁"; "w₂ = x₂"; "w₃ = w₁w₂"; "w₄ = sin w₁"; "w₅ = w₃ + w₄" ], table.Primals |> List.map (fun l -> l.Definition))
    allNear [ x1; x2; x1 * x2; sin x1; x1 * x2 + sin x1 ] (table.Primals |> List.map (fun l -> l.Value))
    Assert.Equal<string list>(
        [ "ẇ₁ = 1"; "ẇ₂ = 0"; "ẇ₃ = w₂·ẇ₁ + w₁·ẇ₂"; "ẇ₄ = cos w₁·ẇ₁"; "ẇ₅ = ẇ₃ + ẇ₄" ],
        table.Tangents |> List.map (fun l -> l.Rule))
    // ẇ₃ = w₂·1 + w₁·0 = x₂, ẇ₄ = cos x₁, ẇ₅ = ∂y/∂x₁ = x₂ + cos x₁
    allNear [ 1.0; 0.0; x2; cos x1; x2 + cos x1 ] (table.Tangents |> List.map (fun l -> l.Derivative))
    near (x2 + cos x1) table.Derivative

[<Fact>]
let ``forward mode: dual numbers carry the table's tangents, one evaluation per input`` () =
    // The same lines with dual numbers: w = (value, tangent), seeded ẇ₁ = 1, ẇ₂ = 0.
    let w1: Dual<float> = { Value = x1; Tangent = 1.0 }
    let w2: Dual<float> = { Value = x2; Tangent = 0.0 }
    let w3 = w1 * w2
    let w4 = sin w1
    let w5 = w3 + w4
    allNear [ 1.0; 0.0; x2; cos x1; x2 + cos x1 ] ([ w1; w2; w3; w4; w5 ] |> List.map (fun w -> w.Tangent))
    // The gradient takes a second pass seeded ẇ₁ = 0, ẇ₂ = 1, which gives ∂y/∂x₂ = x₁.
    allNear [ x2 + cos x1; x1 ] (ForwardMode.gradient (fun x -> lectureForward x.[0] x.[1]) [| x1; x2 |] |> List.ofArray)
    near (x2 + cos x1) (ForwardMode.derivative (fun x -> lectureForward x (Dual.constant x2)) x1)
    near (x2 + cos x1) (ForwardMode.directionalDerivative (fun x -> lectureForward x.[0] x.[1]) [| x1; x2 |] [| 1.0; 0.0 |])
    let value, derivative = ForwardMode.valueAndDerivative (fun x -> lectureForward x (Dual.constant x2)) x1
    near (x1 * x2 + sin x1) value
    near (x2 + cos x1) derivative

[<Fact>]
let ``reverse mode: the lecture's table for x1 x2 + sin x1 gives x2 + cos x1 too`` () =
    let table = Tables.backward (fun x -> lectureForward x.[0] x.[1]) [| x1; x2 |]
    Assert.Equal<string list>(
        [ "w̄₅ = 1"; "w̄₄ = w̄₅"; "w̄₃ = w̄₅"; "w̄₂ = w₁·w̄₃"; "w̄₁ = w₂·w̄₃ + cos w₁·w̄₄" ],
        table.Adjoints |> List.map (fun l -> l.Rule))
    allNear [ 1.0; 1.0; 1.0; x1; x2 + cos x1 ] (table.Adjoints |> List.map (fun l -> l.Derivative))
    allNear [ x2 + cos x1; x1 ] (List.ofArray (ReverseMode.gradient (fun x -> lectureForward x.[0] x.[1]) [| x1; x2 |]))

[<Fact>]
let ``reverse mode: the slides' adjoints for e^(x1 x2) + x2^3, from w̄6 down to w̄1`` () =
    let table = Tables.backward (fun x -> lectureReverse x.[0] x.[1]) [| x1; x2 |]
    Assert.Equal<string list>(
        [ "w₁ = x₁"; "w₂ = x₂"; "w₃ = w₁w₂"; "w₄ = w₂³"; "w₅ = e^w₃"; "w₆ = w₄ + w₅" ],
        table.Primals |> List.map (fun l -> l.Definition))
    let e = exp (x1 * x2)
    allNear [ x1; x2; x1 * x2; x2 ** 3.0; e; x2 ** 3.0 + e ] (table.Primals |> List.map (fun l -> l.Value))
    // w̄₆ = 1, w̄₅ = w̄₆, w̄₄ = w̄₆, w̄₃ = e^w₃ w̄₅, w̄₂ = w₁w̄₃ + 3w₂²w̄₄, w̄₁ = w₂w̄₃
    Assert.Equal<string list>(
        [ "w̄₆ = 1"; "w̄₅ = w̄₆"; "w̄₄ = w̄₆"; "w̄₃ = e^w₃·w̄₅"; "w̄₂ = w₁·w̄₃ + 3w₂²·w̄₄"; "w̄₁ = w₂·w̄₃" ],
        table.Adjoints |> List.map (fun l -> l.Rule))
    allNear [ 1.0; 1.0; 1.0; e; x1 * e + 3.0 * x2 * x2; x2 * e ] (table.Adjoints |> List.map (fun l -> l.Derivative))
    let expected = [ x2 * e; x1 * e + 3.0 * x2 * x2 ]
    allNear expected (List.ofArray table.Gradient)
    allNear expected (List.ofArray (ReverseMode.gradient (fun x -> lectureReverse x.[0] x.[1]) [| x1; x2 |]))
    allNear expected (List.ofArray (ForwardMode.gradient (fun x -> lectureReverse x.[0] x.[1]) [| x1; x2 |]))

[<Fact>]
let ``render lays the tables out as the lecture does`` () =
    let backward = Tables.renderBackward (Tables.backward (fun x -> lectureReverse x.[0] x.[1]) [| 0.5; 2.0 |])
    let lines = backward.Split('\n') |> Array.map (fun l -> l.TrimEnd())
    // Forward lines in evaluation order beside the adjoints in sweep order: w₁ beside w̄₆.
    Assert.StartsWith("w₁ = x₁ = 0.5", lines.[1])
    Assert.EndsWith("w̄₆ = 1", lines.[1])
    Assert.EndsWith("w̄₂ = w₁·w̄₃ + 3w₂²·w̄₄ = 13.3591", lines.[5])
    Assert.Equal("y = w₆ = 10.7183; ∂y/∂x₁ = 5.43656, ∂y/∂x₂ = 13.3591", lines.[7])
    let forward = Tables.renderForward (Tables.forward (fun x -> lectureForward x.[0] x.[1]) [| 0.5; 2.0 |] [| 1.0; 0.0 |])
    let lines = forward.Split('\n') |> Array.map (fun l -> l.TrimEnd())
    Assert.EndsWith("ẇ₄ = cos w₁·ẇ₁ = 0.877583", lines.[4])
    Assert.Equal("y = w₅ = 1.47943, ẏ = ẇ₅ = 2.87758", lines.[6])
    // Columns line up on screen: the combining dot and bar take no width.
    let column (line: string) = Globalization.StringInfo(line.Substring(0, line.IndexOf "ẇ")).LengthInTextElements
    Assert.Equal(1, lines.[1..5] |> Array.map column |> Array.distinct |> Array.length)

[<Fact>]
let ``nested duals give second derivatives`` () =
    // (x³ sin x)'' = 6x sin x + 6x² cos x − x³ sin x
    let x = 1.3
    near (6.0 * x * sin x + 6.0 * x * x * cos x - x ** 3.0 * sin x) (ForwardMode.secondDerivative (fun x -> x ** 3.0 * sin x) x)
    // σ'' = σ(1 − σ)(1 − 2σ), through Scalar.sigmoid at both levels
    let s = 1.0 / (1.0 + exp -x)
    near (s * (1.0 - s) * (1.0 - 2.0 * s)) (ForwardMode.secondDerivative Scalar.sigmoid x)
    // d/dx (x · d/dy (x y)) = d/dx x² = 2x: an inner derivative that closes over the outer
    // variable, where untyped duals confuse their perturbations; here x is lifted explicitly.
    near (2.0 * x) (ForwardMode.derivative (fun x -> x * ForwardMode.derivative (fun y -> Dual.constant x * y) (Dual.constant 1.0)) x)

let private chain (x: float[]) : float = Array.pairwise x |> Array.sumBy (fun (a, b) -> sin a * b)

[<Fact>]
let ``reverse mode takes the gradient of a function of 1000 inputs from one evaluation and one sweep`` () =
    // f(x) = Σᵢ sin xᵢ · xᵢ₊₁, so ∂f/∂xᵢ = cos xᵢ · xᵢ₊₁ + sin xᵢ₋₁ (missing terms are 0).
    let n = 1000
    let x = Array.init n (fun i -> sin (float i))
    let inline f (x: ^S[]) : ^S = Array.pairwise x |> Array.map (fun (a, b) -> sin a * b) |> Array.reduce (+)
    let expected = Array.init n (fun i -> (if i + 1 < n then cos x.[i] * x.[i + 1] else 0.0) + (if i > 0 then sin x.[i - 1] else 0.0))
    let mutable reverseRuns = 0
    let value, gradient = ReverseMode.valueAndGradient (fun v -> reverseRuns <- reverseRuns + 1; f v) x
    Assert.Equal(1, reverseRuns)
    near (chain x) value
    Array.iter2 near expected gradient
    let mutable forwardRuns = 0
    let forward = ForwardMode.gradient (fun v -> forwardRuns <- forwardRuns + 1; f v) x
    Assert.Equal(n, forwardRuns)
    Array.iter2 near expected forward

[<Fact>]
let ``a Jacobian–vector product and a vector–Jacobian product of the same map`` () =
    // F(x₁, x₂) = (x₁x₂, sin x₁, x₂²): J = [[x₂, x₁], [cos x₁, 0], [0, 2x₂]]
    let inline F (x: ^S[]) : ^S[] = [| x.[0] * x.[1]; sin x.[0]; x.[1] * x.[1] |]
    let x, v, u = [| x1; x2 |], [| 0.5; -2.0 |], [| 1.0; -1.0; 3.0 |]
    let values, jv = ForwardMode.jacobianVectorProduct F x v
    allNear [ x1 * x2; sin x1; x2 * x2 ] (List.ofArray values)
    allNear [ x2 * 0.5 - 2.0 * x1; cos x1 * 0.5; -4.0 * x2 ] (List.ofArray jv)
    let values', uj = ReverseMode.vectorJacobianProduct F x u
    Assert.Equal<float[]>(values, values')
    allNear [ x2 - cos x1; x1 + 6.0 * x2 ] (List.ofArray uj)

[<Fact>]
let ``two threads can differentiate at once`` () =
    let inline f (k: float) (x: ^S[]) : ^S = Array.reduce (+) (x |> Array.map (fun xi -> sin (Scalar.lift k * xi) * xi))
    let points = Array.init 64 (fun k -> Array.init 50 (fun i -> float (i + k) / 50.0))
    let sequential = points |> Array.mapi (fun k x -> ReverseMode.gradient (f (float k)) x, ForwardMode.gradient (f (float k)) x)
    let parallel' = Array.zeroCreate points.Length
    Parallel.For(0, points.Length, fun k -> parallel'.[k] <- (ReverseMode.gradient (f (float k)) points.[k], ForwardMode.gradient (f (float k)) points.[k])) |> ignore
    Assert.Equal<(float[] * float[])[]>(sequential, parallel')

[<Fact>]
let ``misuse is an ArgumentException that says what was wrong`` () =
    // A variable kept from a finished differentiation.
    let mutable kept = Unchecked.defaultof<Var>
    ReverseMode.gradient (fun x -> kept <- x.[0]; x.[0] * x.[0]) [| 2.0 |] |> ignore
    let e = Assert.Throws<ArgumentException>(fun () -> ReverseMode.gradient (fun x -> x.[0] * kept) [| 1.0 |] |> ignore)
    Assert.Contains("already returned", e.Message)
    // Reverse mode inside reverse mode mixes two tapes.
    let e = Assert.Throws<ArgumentException>(fun () -> ReverseMode.gradient (fun x -> ReverseMode.gradient (fun y -> x.[0] * y.[0]) [| 1.0 |] |> ignore; x.[0]) [| 1.0 |] |> ignore)
    Assert.Contains("different tapes", e.Message)
    let e = Assert.Throws<ArgumentException>(fun () -> ForwardMode.jacobianVectorProduct id [| 1.0; 2.0 |] [| 1.0 |] |> ignore)
    Assert.Contains("direction v has 1 entries but the point x has 2", e.Message)
    let e = Assert.Throws<ArgumentException>(fun () -> ReverseMode.vectorJacobianProduct id [| 1.0; 2.0 |] [| 1.0 |] |> ignore)
    Assert.Contains("f has 2 outputs but u has 1", e.Message)
    let e = Assert.Throws<ArgumentException>(fun () -> Tables.forward (fun x -> x.[0]) [| 1.0 |] [| 1.0; 0.0 |] |> ignore)
    Assert.Contains("direction has 2 entries", e.Message)

[<Fact>]
let ``constants have zero derivative and are recorded on no tape`` () =
    let c: Var = Scalar.lift 3.0
    Assert.True(c.IsConstant)
    Assert.Equal<float[]>([| 0.0; 0.0 |], ReverseMode.gradient (fun _ -> Scalar.lift 3.0 * Scalar.lift 2.0) [| 1.0; 2.0 |])
    let table = Tables.backward (fun x -> Scalar.lift 2.0 * x.[0] + Scalar.lift -1.0) [| 4.0 |]
    Assert.Equal<string list>([ "w₁ = x₁"; "w₂ = 2·w₁"; "w₃ = w₂ + (−1)" ], table.Primals |> List.map (fun l -> l.Definition))
    Assert.Equal<string list>([ "w̄₃ = 1"; "w̄₂ = w̄₃"; "w̄₁ = 2·w̄₂" ], table.Adjoints |> List.map (fun l -> l.Rule))
    Assert.Equal<float[]>([| 2.0 |], table.Gradient)
