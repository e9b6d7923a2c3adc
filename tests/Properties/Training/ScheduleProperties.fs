/// Learning-rate schedules: where each starts, that none ever rises, the shapes they promise (a
/// staircase, a geometric decay, η/t, a half cosine that lands on its final rate), and validation
/// that names the parameter out of range.
module FunctionalBackprop.Properties.ScheduleProperties

open System
open Xunit
open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open FunctionalBackprop.Core

/// u = 2⁻⁵³, the unit roundoff of float.
let private u = Math.Pow(2.0, -53.0)

/// Rates log-uniform on [10⁻⁴, 10].
let private rate = Gen.choose (-4000, 1000) |> Gen.map (fun k -> Math.Pow(10.0, float k / 1000.0))

/// Decay factors k/1000 in [0.5, 1]: consecutive powers then differ by a factor of 0.999 or less,
/// or are all 1, so that no rounding can reorder them (Math.Pow is within 1 ulp), and
/// η·factor^999 ≥ 10⁻⁴·2⁻⁹⁹⁹ ≈ 2·10⁻³⁰⁵ stays a normal number over the steps drawn below.
let private factor = Gen.choose (500, 1000) |> Gen.map (fun k -> float k / 1000.0)

/// A valid schedule of any kind.
let private schedule =
    Gen.oneof
        [ rate |> Gen.map Schedule.Constant
          rate |> Gen.map Schedule.InverseTime
          Gen.map3 (fun r f k -> Schedule.StepDecay(r, f, k)) rate factor (Gen.choose (1, 20))
          Gen.map2 (fun r f -> Schedule.Exponential(r, f)) rate factor
          Gen.map3 (fun r (k: int) t -> Schedule.Cosine(r, r * float k / 1000.0, t)) rate (Gen.choose (1, 1000)) (Gen.choose (1, 100_000)) ]

/// A valid schedule and a first step t₀ in 1 … 950 (with the 50 steps after it, within 1 000).
type Window = { Schedule: Schedule; Start: int64 }

/// A rate, a decay factor, a period and a step t₀ in 1 … 950 (with the 50 steps after it).
type Decay = { Rate: float; Factor: float; Every: int; Start: int64 }

/// A cosine schedule η → η_end over T steps.
type CosineCase = { Initial: float; Final: float; Steps: int }

/// A schedule with one parameter out of range: the parameter's name and its value.
type Invalid = { Bad: Schedule; Parameter: string; Value: obj }

let private cosine =
    Gen.map3 (fun r (k: int) t -> { Initial = r; Final = r * float k / 1000.0; Steps = t }) rate (Gen.choose (1, 1000)) (Gen.choose (1, 100_000))

type ScheduleArbitraries =
    static member Window() = Gen.map2 (fun s t -> { Schedule = s; Start = int64 t }) schedule (Gen.choose (1, 950)) |> Arb.fromGen
    static member CosineCase() = Arb.fromGen cosine
    static member Decay() =
        Gen.map4 (fun r f k t -> { Rate = r; Factor = f; Every = k; Start = int64 t }) rate factor (Gen.choose (1, 20)) (Gen.choose (1, 950)) |> Arb.fromGen

    static member Invalid() =
        let badRate = Gen.elements [ 0.0; -0.0; -1.0; nan; infinity; -infinity ]
        let badFactor = Gen.elements [ 0.0; -0.5; 1.5; nan; infinity ]
        let badPeriod = Gen.elements [ 0; -1; -100 ]
        let invalid bad parameter (value: 'a) = { Bad = bad; Parameter = parameter; Value = box value }
        Gen.oneof
            [ badRate |> Gen.map (fun r -> invalid (Schedule.Constant r) "learning rate" r)
              badRate |> Gen.map (fun r -> invalid (Schedule.InverseTime r) "learning rate" r)
              Gen.map2 (fun r f -> invalid (Schedule.StepDecay(r, f, 3)) "learning rate" r) badRate factor
              Gen.map2 (fun r f -> invalid (Schedule.StepDecay(r, f, 3)) "factor" f) rate badFactor
              Gen.map3 (fun r f k -> invalid (Schedule.StepDecay(r, f, k)) "every" k) rate factor badPeriod
              Gen.map2 (fun r f -> invalid (Schedule.Exponential(r, f)) "learning rate" r) badRate factor
              Gen.map2 (fun r f -> invalid (Schedule.Exponential(r, f)) "factor" f) rate badFactor
              Gen.map2 (fun r (c: CosineCase) -> invalid (Schedule.Cosine(r, c.Final, c.Steps)) "learning rate" r) badRate cosine
              Gen.map2 (fun e (c: CosineCase) -> invalid (Schedule.Cosine(c.Initial, e, c.Steps)) "final learning rate" e) badRate cosine
              // A final rate above the initial one: the schedule would rise.
              Gen.map2 (fun (k: int) (c: CosineCase) -> let e = c.Initial * (1.0 + float k / 100.0) in invalid (Schedule.Cosine(c.Initial, e, c.Steps)) "final" e) (Gen.choose (1, 500)) cosine
              Gen.map2 (fun t (c: CosineCase) -> invalid (Schedule.Cosine(c.Initial, c.Final, t)) "steps" t) badPeriod cosine ]
        |> Arb.fromGen

let private bits (x: float) = BitConverter.DoubleToInt64Bits x

[<Properties(Arbitrary = [| typeof<ScheduleArbitraries> |], MaxTest = 200)>]
module Laws =

    [<Property>]
    let ``every schedule starts at its initial rate`` (w: Window) =
        // At t = 1: η/1 = η; Math.Pow(f, 0) = 1 exactly (IEEE 754 pow(x, ±0) = 1), so η·f⁰ = η;
        // the cosine gives η_end + ½(η − η_end)(1 + cos 0) = η_end ⊕ (η ⊖ η_end), with ⊖ and ⊕ rounded:
        // within u·(η − η_end) < 1 ulp of η before the last rounding, so at most 1 ulp from η.
        let first = Schedule.rate w.Schedule 1L
        match w.Schedule with
        | Schedule.Cosine(r, _, _) -> (first = r || first = Math.BitIncrement r || first = Math.BitDecrement r) |> Prop.label $"{first:R}, initial {r:R}"
        | Schedule.Constant r | Schedule.InverseTime r | Schedule.StepDecay(r, _, _) | Schedule.Exponential(r, _) ->
            bits first = bits r |> Prop.label $"{first:R}, initial {r:R}"

    [<Property>]
    let ``no schedule ever rises`` (w: Window) =
        // Constant: equal. η/t: division rounds monotonically in t. Step and exponential decays: the
        // exact powers fall by a factor ≤ 0.999 (or stay 1), far more than Math.Pow's 1 ulp and the
        // product's rounding. Cosine: cos falls on [0, π], the grid points (t − 1)/T are at least
        // 1/T ≥ 10⁻⁵ apart, so consecutive cosines differ by at least about (π/T)²/2 ≈ 5·10⁻¹⁰,
        // far above Math.Cos's ulp, and every later step rounds monotonically.
        let rates = [| for t in w.Start .. w.Start + 50L -> Schedule.rate w.Schedule t |]
        Array.pairwise rates |> Array.forall (fun (a, b) -> b <= a) |> Prop.label $"{Schedule.name w.Schedule}: {rates}"

    [<Property>]
    let ``the step decay is a staircase: the same rate for `every` steps, then times the factor`` (d: Decay) =
        // Within a block t and t + 1 use the same power; across a block boundary the ratio of the
        // two rates is f: each rate is η·fʲ with Math.Pow within 1 ulp (2u) and the product rounded
        // (u), so the ratio is within 6u of f, and computing it rounds once more: 8u.
        let s = Schedule.StepDecay(d.Rate, d.Factor, d.Every)
        let blocks = Array.init (5 * d.Every) (fun i -> Schedule.rate s (int64 (i + 1))) |> Array.chunkBySize d.Every
        (blocks |> Array.forall (fun b -> b |> Array.forall (fun x -> bits x = bits b.[0])) |> Prop.label "constant within a block")
        .&. (blocks |> Array.pairwise |> Array.forall (fun (b, b') -> Math.Abs(b'.[0] / b.[0] - d.Factor) <= 8.0 * u * d.Factor) |> Prop.label "times f across a boundary")

    [<Property>]
    let ``the exponential decay multiplies the rate by its factor at every step`` (d: Decay) =
        // As for the staircase: each rate within 3u of η·fᵗ⁻¹, so each ratio within 8u of f.
        let s = Schedule.Exponential(d.Rate, d.Factor)
        let rates = [| for t in d.Start .. d.Start + 50L -> Schedule.rate s t |]
        rates |> Array.pairwise |> Array.forall (fun (a, b) -> Math.Abs(b / a - d.Factor) <= 8.0 * u * d.Factor) |> Prop.label $"{rates}"

    [<Property>]
    let ``1/t: t·ηₜ is the initial rate to within 2u`` (d: Decay) (t: PositiveInt) =
        // ηₜ = η ⊘ t (one rounding), and multiplying by t here rounds once more.
        let t = int64 t.Get
        let eta = Schedule.rate (Schedule.InverseTime d.Rate) t
        Math.Abs(float t * eta - d.Rate) <= 2.0 * u * d.Rate * (1.0 + u) |> Prop.label $"t = {t}: t·ηₜ = {float t * eta:R}, η = {d.Rate:R}"

    [<Property>]
    let ``the cosine schedule reaches its final rate after its steps and stays there`` (c: CosineCase) (later: PositiveInt) =
        // At t = T + 1 the progress is min(T, T)/T = 1, cos(π) rounds to −1 exactly (cos of the
        // double nearest π is −1 + 7·10⁻³³), so 1 + cos is 0 and the rate is η_end exactly; every
        // later t gives the same progress. Before that, ½(η − η_end)(1 + cos) ≥ 0.
        let s = Schedule.Cosine(c.Initial, c.Final, c.Steps)
        let at (t: int64) = Schedule.rate s t
        let after = [ int64 c.Steps + 1L; int64 c.Steps + 1L + int64 later.Get; Int64.MaxValue ]
        (after |> List.forall (fun t -> bits (at t) = bits c.Final) |> Prop.label $"after T: {after |> List.map at}, final {c.Final:R}")
        .&. ([ 1L; int64 (c.Steps + 1) / 2L; int64 c.Steps ] |> List.forall (fun t -> at t >= c.Final) |> Prop.label "never below the final rate")

    [<Property>]
    let ``half-way the cosine rate is the mean of its initial and final rates`` (c: CosineCase) =
        // T even, t = T/2 + 1: the progress is exactly ½, π·½ is exact, cos(π/2 rounded) = 6·10⁻¹⁷
        // rounds away in 1 + cos, so ηₜ = η_end ⊕ ½(η ⊖ η_end): within 1.5u·η of (η + η_end)/2,
        // whose computation here rounds once more (u·η): 3u·η covers both.
        let steps = 2 * ((c.Steps + 1) / 2)
        let eta = Schedule.rate (Schedule.Cosine(c.Initial, c.Final, steps)) (int64 (steps / 2 + 1))
        Math.Abs(eta - (c.Initial + c.Final) / 2.0) <= 3.0 * u * c.Initial |> Prop.label $"T = {steps}: {eta:R}"

    [<Property>]
    let ``the cosine rates are symmetric about half-way: ηₜ + η_(T+2−t) = η + η_end`` (c: CosineCase) (k: PositiveInt) =
        // The progresses p = (t − 1)/T and 1 − p give cosines of opposite sign. Errors: the argument
        // π·p is off by at most 3π·u ≈ 9.5u (p, π and the product each rounded), Math.Cos adds 1
        // ulp (2u), 1 + cos rounds (2u): 13.5u in 1 + cos, so at most 6.75u·(η − η_end) + 2u·η in
        // each rate; two of them, their sum and η + η_end rounded here: within 24u·η.
        let s = Schedule.Cosine(c.Initial, c.Final, c.Steps)
        let t = 1 + k.Get % (c.Steps + 1)
        let a, b = Schedule.rate s (int64 t), Schedule.rate s (int64 (c.Steps + 2 - t))
        Math.Abs((a + b) - (c.Initial + c.Final)) <= 24.0 * u * c.Initial |> Prop.label $"t = {t}: {a:R} + {b:R}"

    [<Property>]
    let ``validate accepts schedules in range, whose rates are then positive and finite`` (w: Window) =
        // Steps within 1 000, where even the fastest decay drawn (η·0.5ᵗ⁻¹) stays a normal number.
        Schedule.validate w.Schedule
        [ 1L; w.Start; w.Start + 50L ] |> List.forall (fun t -> let r = Schedule.rate w.Schedule t in r > 0.0 && Double.IsFinite r)

    [<Property>]
    let ``validate names the parameter out of range and its value`` (i: Invalid) =
        let e = Assert.Throws<ArgumentOutOfRangeException>(fun () -> Schedule.validate i.Bad)
        (e.ParamName = i.Parameter |> Prop.label $"parameter {e.ParamName}, expected {i.Parameter}")
        .&. (e.Message.Contains(string i.Value) |> Prop.label $"\"{e.Message}\" should show {i.Value}")

    [<Property>]
    let ``rate refuses steps before the first`` (w: Window) (t: NonNegativeInt) =
        let e = Assert.Throws<ArgumentOutOfRangeException>(fun () -> Schedule.rate w.Schedule (-(int64 t.Get)) |> ignore)
        e.ParamName = "t"
