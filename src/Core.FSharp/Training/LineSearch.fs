namespace FunctionalBackprop.Core

open System

/// How a steepest-descent step chooses η: minimising φ(η) = C(w − η d) along a direction d
/// (the lecture's min over μₜ of J(Θₜ − μₜ ∇J(Θₜ))).
[<RequireQualifiedAccess>]
type LineSearch =
    /// Backtracking with the Armijo condition: from η₀, shrink η by `shrink` until
    /// φ(η) ≤ φ(0) − c·η·⟨∇C, d⟩, at most `tries` times (Nocedal and Wright, Algorithm 3.1).
    | Backtracking of initial: float * shrink: float * c: float * tries: int
    /// Golden-section search for the minimum of φ on [0, η_max], to a bracket of `tolerance`·η_max
    /// (Kiefer, 1953): assumes φ unimodal there, as it is near a minimum.
    | GoldenSection of largest: float * tolerance: float

/// The one-dimensional searches, as pure functions of φ.
module LineSearch =

    /// "backtracking(1, ×0.5, c = 0.0001)" or "golden-section(0 … 1)".
    let name (search: LineSearch) : string =
        match search with
        | LineSearch.Backtracking(eta, shrink, c, _) -> $"backtracking({eta}, ×{shrink}, c = {c})"
        | LineSearch.GoldenSection(largest, _) -> $"golden-section(0 … {largest})"

    /// Throws ArgumentOutOfRangeException for parameters outside their ranges.
    let validate (search: LineSearch) : unit =
        let check name (ok: bool) (value: obj) (rule: string) =
            if not ok then raise (ArgumentOutOfRangeException(name, value, $"The line search's {name} must {rule}, got {value}."))
        match search with
        | LineSearch.Backtracking(eta, shrink, c, tries) ->
            check "initial rate" (eta > 0.0 && Double.IsFinite eta) eta "be positive and finite"
            check "shrink factor" (shrink > 0.0 && shrink < 1.0) shrink "lie in (0, 1)"
            check "Armijo constant" (c > 0.0 && c < 1.0) c "lie in (0, 1)"
            check "number of tries" (tries >= 1) tries "be at least 1"
        | LineSearch.GoldenSection(largest, tolerance) ->
            check "largest rate" (largest > 0.0 && Double.IsFinite largest) largest "be positive and finite"
            check "tolerance" (tolerance > 0.0 && tolerance < 1.0) tolerance "lie in (0, 1)"

    /// Backtracking: the first η = η₀·shrinkᵏ with φ(η) ≤ φ(0) − c·η·slope, where slope is
    /// ⟨∇C, d⟩ ≥ 0 for a descent direction −d; the last η tried if none satisfies it.
    let backtracking (initial: float) (shrink: float) (c: float) (tries: int) (phi: float -> float) (phi0: float) (slope: float) : float =
        let rec attempt eta k =
            let value = phi eta
            if (Double.IsFinite value && value <= phi0 - c * eta * slope) || k + 1 >= tries then eta
            else attempt (eta * shrink) (k + 1)
        attempt initial 0

    /// Golden-section search for the η in [0, largest] that minimises φ.
    let goldenSection (largest: float) (tolerance: float) (phi: float -> float) : float =
        let ratio = (Math.Sqrt 5.0 - 1.0) / 2.0
        // A non-finite φ (a step too far) counts as +∞, so the search backs away from it.
        let f x = let v = phi x in if Double.IsFinite v then v else Double.PositiveInfinity
        // The bracket [a, b] holds interior points c < d at its golden sections; each round
        // keeps the side of the better point and reuses the other point.
        let rec narrow (a: float) (b: float) (c: float) (fc: float) (d: float) (fd: float) =
            if b - a <= tolerance * largest then (a + b) / 2.0
            elif fc <= fd then
                // The minimum lies in [a, d]: c becomes its upper golden point.
                let c' = d - ratio * (d - a)
                narrow a d c' (f c') c fc
            else
                // The minimum lies in [c, b]: d becomes its lower golden point.
                let d' = c + ratio * (b - c)
                narrow c b d fd d' (f d')
        let c = largest - ratio * largest
        let d = ratio * largest
        narrow 0.0 largest c (f c) d (f d)
