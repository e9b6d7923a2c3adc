/// Identities of the activations and their backward steps.
module FunctionalBackprop.Properties.ActivationProperties

open System
open Xunit
open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open FunctionalBackprop.Core
open FunctionalBackprop.Properties.Generators

let private columnMatrix (z: float[]) = Matrix.ofColumnMajor z.Length 1 z

/// Every activation, with leaky ReLU's slope drawn.
let private anyActivation =
    Gen.oneof [ Gen.constant Activation.Step; hiddenActivation ]

type ActivationCase = { Activation: Activation; Z: float[] }

type Arbitraries =
    static member ActivationCase() =
        Gen.map2 (fun a z -> { Activation = a; Z = z }) anyActivation column |> Arb.fromGen

[<Properties(Arbitrary = [| typeof<Arbitraries> |], MaxTest = 200)>]
module Properties =

    [<Property>]
    let ``sigmoid' = sigmoid (1 - sigmoid)`` (z: NormalFloat) =
        let z = float z
        let s = 1.0 / (1.0 + Math.Exp(-z))
        let d = Activation.derivative Activation.Sigmoid (columnMatrix [| z |])
        // Both sides are a(1 − a) from two sigmoid values: the library's, from its own exp, is
        // within 4 ulps of 1/(1 + Math.Exp(−z)) (measured 2026-12-07 over 2·10⁶ z in ±40 and ±750:
        // at most 4). Where a is near 1 the subtraction keeps their difference whole (at z = 20,
        // 1 − a ≈ 2·10⁻⁹, one ulp of a is 5·10⁻⁸ of it), so besides 1e-14 of the value the bound is
        // absolute, 4 ulps of a: a relative 1e-14 alone failed about once in six runs of 100 cases.
        let bound = 4.0 * (Math.BitIncrement s - s) + 1e-300
        Approx.close 1e-14 bound (s * (1.0 - s)) d.[0, 0] |> Prop.label $"σ'({z}) = {d.[0, 0]:R}, σ(1 − σ) = {s * (1.0 - s):R}, bound {bound:R}"

    [<Property>]
    let ``tanh' = 1 - tanh squared`` (z: NormalFloat) =
        let z = float z
        let t = Math.Tanh z
        let d = Activation.derivative Activation.Tanh (columnMatrix [| z |])
        // Both sides are 1 − a² from two tanh values a: the library's, within 3 ulps of Math.Tanh
        // ("tanh is within 3 ulps …" in ActivationKernelProperties). Near |a| = 1 the subtraction
        // keeps their difference whole: |a² − t²| ≈ 2|t|·3 ulp(t) ≤ 6·2⁻⁵² t², and each square's
        // rounding adds 2⁻⁵³ t². Relative to 1 − t² (0.004 at z = 3.44, where a relative bound of
        // 1e-14 alone failed at 10× the cases: 5.4e-14 apart, one ulp of tanh) that is large; so
        // the bound is absolute, 7·2⁻⁵² t², besides 1e-14 of the value.
        let bound = 7.0 * Math.Pow(2.0, -52.0) * t * t
        Approx.close 1e-14 bound (1.0 - t * t) d.[0, 0] |> Prop.label $"tanh'({z}) = {d.[0, 0]:R}, 1 − tanh² = {1.0 - t * t:R}, bound {bound:R}"

    [<Property>]
    let ``each element-wise derivative equals a central difference of the activation`` (case: ActivationCase) =
        // Away from kinks (|z| > 1e-3) a central difference with h = 1e-6 is accurate to ~1e-9.
        let z = case.Z |> Array.filter (fun v -> Math.Abs v > 1e-3)
        (case.Activation <> Activation.Softmax && z.Length > 0) ==> lazy (
            let h = 1e-6
            let at (v: float[]) = (Activation.apply case.Activation (columnMatrix v)).ToArray()
            let numeric = Array.map2 (fun p m -> (p - m) / (2.0 * h)) (at (z |> Array.map (fun v -> v + h))) (at (z |> Array.map (fun v -> v - h)))
            let d = (Activation.derivative case.Activation (columnMatrix z)).ToArray()
            Approx.allClose (Activation.name case.Activation) 1e-6 1e-9 numeric d)

    [<Property>]
    let ``backward is the vector-Jacobian product with the full Jacobian`` (case: ActivationCase) (seed: int) =
        let z = columnMatrix case.Z
        let a = Activation.apply case.Activation z
        let g = Random.normals (uint64 seed) 0.0 1.0 case.Z.Length
        let j = Activation.jacobian case.Activation case.Z
        let expected = Array.init case.Z.Length (fun k -> Seq.sum (seq { for i in 0 .. case.Z.Length - 1 -> j.[i, k] * g.[i] }))
        let actual = (Activation.backward case.Activation z a (columnMatrix g)).ToArray()
        Approx.allClose (Activation.name case.Activation) 1e-12 1e-15 expected actual

    [<Property>]
    let ``softmax's Jacobian rows and columns sum to zero`` (z: float[]) =
        let z = z |> Array.filter Double.IsFinite |> Array.map (fun v -> Math.Clamp(v, -50.0, 50.0))
        (z.Length > 0) ==> lazy (
            let j = Activation.jacobian Activation.Softmax z
            let n = z.Length
            let sums = [| for i in 0 .. n - 1 -> Seq.sum (seq { for k in 0 .. n - 1 -> j.[i, k] }) |]
                       |> Array.append [| for k in 0 .. n - 1 -> Seq.sum (seq { for i in 0 .. n - 1 -> j.[i, k] }) |]
            // Exactly 0 in exact arithmetic; in float64 row i sums to sᵢ(1 − Σₖsₖ) plus rounding.
            // The computed s sums to 1 within (n + 3)ε (each sₖ within a few ulps, n additions);
            // each entry sᵢδᵢₖ − sᵢsₖ is within 2ε of itself, and the n-term sum adds (n − 1)ε of
            // Σ|entries| ≤ 2sᵢ ≤ 2. So |sum| ≤ (4n + 6)ε; the fixed 10⁻¹⁵ used before is below that for
            // every n, and failed at n = 76 with a sum of 1.0·10⁻¹⁵ (2026-11-27, 10× the usual cases).
            let bound = float (4 * n + 6) * 2.220446049250313e-16
            Approx.allClose "row and column sums" 0.0 bound (Array.zeroCreate sums.Length) sums)

    [<Property>]
    let ``softmax is a distribution and ignores a common shift`` (z: float[]) (shift: NormalFloat) =
        let z = z |> Array.filter Double.IsFinite |> Array.map (fun v -> Math.Clamp(v, -100.0, 100.0))
        (z.Length > 0) ==> lazy (
            let s = (Activation.apply Activation.Softmax (columnMatrix z)).ToArray()
            let shifted = (Activation.apply Activation.Softmax (columnMatrix (z |> Array.map (fun v -> v + Math.Clamp(float shift, -100.0, 100.0))))).ToArray()
            (Approx.close 0.0 1e-14 1.0 (Array.sum s) |> Prop.label $"Σ s = {Array.sum s:R}")
            .&. (s |> Array.forall (fun v -> v >= 0.0) |> Prop.label "every sᵢ ≥ 0")
            .&. Approx.allClose "shifted" 1e-12 1e-300 s shifted)

    [<Fact>]
    let ``softmax of equal inputs is uniform even when they are huge`` () =
        for v in [ 0.0; 1e4; -1e4; 1e300 ] do
            let s = (Activation.apply Activation.Softmax (columnMatrix (Array.create 4 v))).ToArray()
            Xunit.Assert.Equal<float[]>(Array.create 4 0.25, s)

    [<Fact>]
    let ``a leaky ReLU's slope must lie in (0, 1)`` () =
        for slope in [ 0.0; 1.0; -0.1; nan ] do
            let e = Xunit.Assert.Throws<ArgumentException>(fun () -> Activation.validate (Activation.LeakyReLU slope))
            Xunit.Assert.Contains("slope", e.Message)
