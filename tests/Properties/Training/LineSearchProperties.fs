/// The line searches as pure functions of φ(η) = C(w − η d): backtracking tries η₀, η₀·shrink, …
/// and keeps the first that meets the Armijo condition (or the last it may try); golden section
/// closes in on the minimum of a unimodal φ to its tolerance, one evaluation per round; validation
/// names the parameter out of range.
module FunctionalBackprop.Properties.LineSearchProperties

open System
open Xunit
open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open FunctionalBackprop.Core

/// u = 2⁻⁵³, the unit roundoff of float.
let private u = Math.Pow(2.0, -53.0)

/// Log-uniform on [10^lo, 10^hi].
let private logUniform (lo: float) (hi: float) =
    Gen.choose (int (lo * 1000.0), int (hi * 1000.0)) |> Gen.map (fun k -> Math.Pow(10.0, float k / 1000.0))

/// The kinds of φ for backtracking, each with φ'(0) = −g < 0 (a descent direction).
type Shape =
    /// φ0 − gη + ½aη².
    | Parabola
    /// The parabola, but NaN for η > b (a step into a region where the cost is not defined).
    | UndefinedBeyond of b: float
    /// φ0 − gη + aη³.
    | Cubic
    /// φ0 + gη: rises at once, so no η meets the condition and the last one tried is returned.
    | Rising

/// A backtracking search on φ: φ(0) = Phi0, ⟨∇C, d⟩ = Slope = g.
type Backtrack = { Shape: Shape; Phi0: float; Slope: float; A: float; Initial: float; Shrink: float; C: float; Tries: int }

/// A backtracking search on the convex parabola −gη + ½aη², with enough tries to reach below
/// η* = 2(1 − c)g/a, the largest η that meets the Armijo condition.
type Reachable = { Search: Backtrack }

/// Unimodal functions on [0, L] with their minimiser m.
type Valley =
    /// a(η − m)² + b.
    | Bowl of a: float * b: float
    /// Slopes s₁ left of m and s₂ right of it: a kink at the minimum, unequal sides.
    | Vee of left: float * right: float
    /// (η − m)⁴: very flat at the bottom.
    | Quartic
    /// a(η − m)², undefined (NaN) beyond m + gap: a step too far.
    | Cliff of a: float * gap: float

type Golden = { Valley: Valley; Minimum: float; Largest: float; Tolerance: float }

/// A search with one parameter out of range: its name.
type Invalid = { Bad: LineSearch; Parameter: string }

let private backtrack (shape: Gen<Shape>) =
    gen {
        let! shape = shape
        let! phi0 = Gen.elements [ 0.0; 1.0; -3.5; 100.0 ]
        let! g = logUniform -3.0 2.0
        let! a = logUniform -3.0 3.0
        let! initial = logUniform -2.0 2.0
        let! shrink = Gen.choose (5, 95) |> Gen.map (fun k -> float k / 100.0)
        let! c = Gen.elements [ 1e-4; 0.1; 0.5; 0.9 ]
        let! tries = Gen.choose (1, 40)
        return { Shape = shape; Phi0 = phi0; Slope = g; A = a; Initial = initial; Shrink = shrink; C = c; Tries = tries }
    }

type LineSearchArbitraries =
    static member Backtrack() =
        backtrack (Gen.oneof [ Gen.constant Parabola; logUniform -3.0 2.0 |> Gen.map UndefinedBeyond; Gen.constant Cubic; Gen.constant Rising ])
        |> Arb.fromGen

    static member Reachable() =
        backtrack (Gen.constant Parabola)
        |> Gen.map (fun b ->
            // η₀·shrinkᵏ ≤ η*/2 once k ≥ log(η*/(2η₀))/log(shrink): give that many tries, and a few more.
            let etaStar = 2.0 * (1.0 - b.C) * b.Slope / b.A
            let needed = if b.Initial <= etaStar / 2.0 then 1 else 2 + int (Math.Ceiling(Math.Log(etaStar / (2.0 * b.Initial)) / Math.Log b.Shrink))
            { Search = { b with Phi0 = 0.0; Tries = needed + b.Tries % 5 } })
        |> Arb.fromGen

    static member Golden() =
        gen {
            let! largest = logUniform -2.0 2.0
            // The minimiser anywhere in [0, L], the ends included.
            let! m = Gen.frequency [ 1, Gen.constant 0.0; 1, Gen.constant largest; 6, Gen.choose (0, 1_000_000) |> Gen.map (fun k -> largest * float k / 1e6) ]
            let! tolerance = logUniform -6.0 -1.0
            let! valley =
                Gen.oneof
                    // The offset b is a multiple of the bowl's depth a·L²: golden section can place a
                    // minimum only to about √(u·|φ|/a) (Numerical Recipes, §10.2), since closer in
                    // φ changes by less than its rounding; with |b| ≤ 10aL² that is below 10⁻⁷·L,
                    // under the smallest bracket drawn (10⁻⁶·L).
                    [ Gen.map2 (fun a (beta: float) -> Bowl(a, beta * a * largest * largest)) (logUniform -3.0 3.0) (Gen.elements [ 0.0; -2.0; 10.0 ])
                      Gen.map2 (fun l r -> Vee(l, r)) (logUniform -2.0 2.0) (logUniform -2.0 2.0)
                      Gen.constant Quartic
                      // The undefined region starts at least a bracket's width past m.
                      Gen.map2 (fun a (k: int) -> Cliff(a, largest * tolerance * float k)) (logUniform -3.0 3.0) (Gen.choose (2, 200)) ]
            return { Valley = valley; Minimum = m; Largest = largest; Tolerance = tolerance }
        }
        |> Arb.fromGen

    static member Invalid() =
        let badPositive = Gen.elements [ 0.0; -1.0; nan; infinity ]
        let badFraction = Gen.elements [ 0.0; 1.0; -0.5; 1.5; nan ]
        Gen.oneof
            [ badPositive |> Gen.map (fun e -> { Bad = LineSearch.Backtracking(e, 0.5, 1e-4, 10); Parameter = "initial rate" })
              badFraction |> Gen.map (fun s -> { Bad = LineSearch.Backtracking(1.0, s, 1e-4, 10); Parameter = "shrink factor" })
              badFraction |> Gen.map (fun c -> { Bad = LineSearch.Backtracking(1.0, 0.5, c, 10); Parameter = "Armijo constant" })
              Gen.elements [ 0; -1 ] |> Gen.map (fun t -> { Bad = LineSearch.Backtracking(1.0, 0.5, 1e-4, t); Parameter = "number of tries" })
              badPositive |> Gen.map (fun l -> { Bad = LineSearch.GoldenSection(l, 1e-3); Parameter = "largest rate" })
              badFraction |> Gen.map (fun t -> { Bad = LineSearch.GoldenSection(1.0, t); Parameter = "tolerance" }) ]
        |> Arb.fromGen

/// φ for a backtracking case.
let private phiOf (b: Backtrack) (eta: float) =
    match b.Shape with
    | Parabola -> b.Phi0 - b.Slope * eta + 0.5 * b.A * eta * eta
    | UndefinedBeyond limit -> if eta > limit then nan else b.Phi0 - b.Slope * eta + 0.5 * b.A * eta * eta
    | Cubic -> b.Phi0 - b.Slope * eta + b.A * eta * eta * eta
    | Rising -> b.Phi0 + b.Slope * eta

/// Runs backtracking on the case, recording every η it evaluates φ at and the value it got.
let private run (b: Backtrack) =
    let calls = Collections.Generic.List<float * float>()
    let phi eta = let v = phiOf b eta in calls.Add((eta, v)); v
    let eta = LineSearch.backtracking b.Initial b.Shrink b.C b.Tries phi b.Phi0 b.Slope
    eta, List.ofSeq calls

/// The Armijo condition φ(η) ≤ φ(0) − c·η·⟨∇C, d⟩ on the value φ returned (NaN and ∞ fail it).
let private armijo (b: Backtrack) (eta: float, value: float) = Double.IsFinite value && value <= b.Phi0 - b.C * eta * b.Slope

/// φ for a golden-section case.
let private valley (g: Golden) (eta: float) =
    let x = eta - g.Minimum
    match g.Valley with
    | Bowl(a, b) -> a * x * x + b
    | Vee(left, right) -> if x < 0.0 then -left * x else right * x
    | Quartic -> x * x * x * x
    | Cliff(a, gap) -> if x > gap then nan else a * x * x

[<Properties(Arbitrary = [| typeof<LineSearchArbitraries> |], MaxTest = 200)>]
module Backtracking =

    [<Property>]
    let ``backtracking tries η₀, then each rate times shrink, and stops at the first meeting the Armijo condition or at its last try`` (b: Backtrack) =
        let eta, calls = run b
        let tried = List.map fst calls
        let expected = List.init calls.Length id |> List.scan (fun e _ -> e * b.Shrink) b.Initial |> List.take calls.Length
        (tried = expected |> Prop.label $"tried {tried}")
        .&. (calls.Length <= b.Tries |> Prop.label $"{calls.Length} tries of {b.Tries}")
        .&. (eta = List.last tried |> Prop.label "returns the last rate tried")
        .&. (List.forall (armijo b >> not) (List.take (calls.Length - 1) calls) |> Prop.label "every earlier rate fails the condition")
        .&. ((armijo b (List.last calls) || calls.Length = b.Tries) |> Prop.label "the last meets it, or the tries ran out")

    [<Property>]
    let ``a rising φ meets no Armijo condition: backtracking returns η₀·shrink^(tries − 1)`` (b: Backtrack) =
        // φ(0) = 0: φ(η) = gη > 0 > −cηg for every η > 0 (with φ(0) ≠ 0, gη could round away).
        let b = { b with Shape = Rising; Phi0 = 0.0 }
        let eta, calls = run b
        calls.Length = b.Tries && eta = (List.init (b.Tries - 1) id |> List.fold (fun e _ -> e * b.Shrink) b.Initial)

    [<Property>]
    let ``on a convex parabola backtracking meets the Armijo condition and stops within a factor shrink of the largest η that does`` (r: Reachable) =
        // φ(η) = −gη + ½aη² meets φ(η) ≤ −cηg exactly for η ≤ η* = 2(1 − c)g/a. Rounding in φ and
        // in the condition moves that boundary by at most about 24u·η* (the terms are of size gη*,
        // the margin grows like (1 − c)g·|η − η*| and 1 − c ≥ 0.1): 10⁻¹² relative covers it.
        let b = r.Search
        let etaStar = 2.0 * (1.0 - b.C) * b.Slope / b.A
        let eta, calls = run b
        let previous = if calls.Length >= 2 then Some(fst calls.[calls.Length - 2]) else None
        (eta <= etaStar * (1.0 + 1e-12) |> Prop.label $"η = {eta:R} above η* = {etaStar:R}")
        .&. (match previous with
             | None -> eta = b.Initial |> Prop.label "first try"
             | Some p -> p > etaStar * (1.0 - 1e-12) |> Prop.label $"gave up {p:R} below η* = {etaStar:R}")

[<Properties(Arbitrary = [| typeof<LineSearchArbitraries> |], MaxTest = 200)>]
module GoldenSection =

    [<Property>]
    let ``golden section finds the minimiser of a unimodal φ on [0, L] to half its bracket`` (g: Golden) =
        // For a unimodal φ every round keeps a bracket holding the minimiser, until its width is at
        // most tolerance·L; the midpoint returned is then within tolerance·L/2 of it. Rounding only
        // matters when φ at the two inner points is too close to order, which happens only when
        // they straddle m symmetrically to within a few u·L (both then keep m); the bracket ends
        // and the midpoint are rounded too: 4u·L covers all of it.
        let eta = LineSearch.goldenSection g.Largest g.Tolerance (valley g)
        Math.Abs(eta - g.Minimum) <= g.Tolerance * g.Largest / 2.0 + 4.0 * u * g.Largest
        |> Prop.label $"η = {eta:R}, minimiser {g.Minimum:R}, allowed ±{g.Tolerance * g.Largest / 2.0:R}"

    [<Property>]
    let ``golden section evaluates φ once per round, inside [0, L]`` (g: Golden) =
        // The bracket shrinks by the ratio ρ = (√5 − 1)/2 each round, from L to at most
        // tolerance·L: ⌈ln tolerance/ln ρ⌉ rounds (one more if rounding lands on the threshold),
        // each evaluating one new point, after the first two.
        let calls = Collections.Generic.List<float>()
        LineSearch.goldenSection g.Largest g.Tolerance (fun eta -> calls.Add eta; valley g eta) |> ignore
        let rounds = int (Math.Ceiling(Math.Log g.Tolerance / Math.Log((Math.Sqrt 5.0 - 1.0) / 2.0)))
        (calls.Count <= 2 + rounds + 1 |> Prop.label $"{calls.Count} evaluations for {rounds} rounds")
        .&. (calls |> Seq.forall (fun eta -> 0.0 <= eta && eta <= g.Largest) |> Prop.label "inside [0, L]")

[<Properties(Arbitrary = [| typeof<LineSearchArbitraries> |], MaxTest = 100)>]
module Validation =

    [<Property>]
    let ``validate names the parameter out of range`` (i: Invalid) =
        let e = Assert.Throws<ArgumentOutOfRangeException>(fun () -> LineSearch.validate i.Bad)
        (e.ParamName = i.Parameter |> Prop.label $"parameter {e.ParamName}, expected {i.Parameter}")
        .&. (e.Message.Contains i.Parameter |> Prop.label $"\"{e.Message}\" should name {i.Parameter}")

    [<Property>]
    let ``validate accepts every search in range`` (b: Backtrack) (g: Golden) =
        LineSearch.validate (LineSearch.Backtracking(b.Initial, b.Shrink, b.C, b.Tries))
        LineSearch.validate (LineSearch.GoldenSection(g.Largest, g.Tolerance))
