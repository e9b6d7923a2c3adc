namespace FunctionalBackprop.Core

open System

/// A learning rate as a function of the step t = 1, 2, … (one step per mini-batch update).
[<RequireQualifiedAccess>]
type Schedule =
    /// ηₜ = η.
    | Constant of rate: float
    /// ηₜ = η/t, the lecture's example μₜ = 1/t (with η = 1) of a rate meeting the
    /// Robbins–Monro conditions ηₜ → 0, Σ ηₜ = ∞, Σ ηₜ² &lt; ∞.
    | InverseTime of initial: float
    /// ηₜ = η·γ^⌊(t − 1)/k⌋: multiplied by γ every k steps.
    | StepDecay of initial: float * factor: float * every: int
    /// ηₜ = η·γ^(t − 1).
    | Exponential of initial: float * factor: float
    /// ηₜ = η_end + ½(η − η_end)(1 + cos(π·min(t − 1, T)/T)): from η down to η_end over T steps
    /// (Loshchilov and Hutter, 2017, without restarts), then η_end.
    | Cosine of initial: float * final: float * steps: int

/// Evaluating and checking schedules.
module Schedule =

    /// "constant(0.1)", "1/t(0.5)", …
    let name (s: Schedule) : string =
        match s with
        | Schedule.Constant r -> $"constant({r})"
        | Schedule.InverseTime r -> $"1/t({r})"
        | Schedule.StepDecay(r, f, k) -> $"step-decay({r}, ×{f} every {k})"
        | Schedule.Exponential(r, f) -> $"exponential({r}, ×{f})"
        | Schedule.Cosine(r, e, t) -> $"cosine({r} → {e} over {t})"

    let private positive (name: string) (value: float) =
        if not (value > 0.0 && Double.IsFinite value) then
            raise (ArgumentOutOfRangeException(name, value, $"The {name} must be a positive, finite number, got {value}."))

    /// Throws ArgumentOutOfRangeException naming the parameter that makes the schedule invalid:
    /// rates must be positive and finite, factors in (0, 1], periods at least 1.
    let validate (s: Schedule) : unit =
        let factor (value: float) =
            if not (value > 0.0 && value <= 1.0) then
                raise (ArgumentOutOfRangeException("factor", value, $"A decay factor must lie in (0, 1], got {value}."))
        match s with
        | Schedule.Constant r
        | Schedule.InverseTime r -> positive "learning rate" r
        | Schedule.StepDecay(r, f, k) ->
            positive "learning rate" r
            factor f
            if k < 1 then raise (ArgumentOutOfRangeException("every", k, $"A step-decay period must be at least 1 step, got {k}."))
        | Schedule.Exponential(r, f) ->
            positive "learning rate" r
            factor f
        | Schedule.Cosine(r, e, t) ->
            positive "learning rate" r
            positive "final learning rate" e
            if e > r then raise (ArgumentOutOfRangeException("final", e, $"A cosine schedule decays: its final rate {e} must not exceed its initial rate {r}."))
            if t < 1 then raise (ArgumentOutOfRangeException("steps", t, $"A cosine schedule needs at least 1 step, got {t}."))

    /// ηₜ for step t ≥ 1.
    let rate (s: Schedule) (t: int64) : float =
        if t < 1L then raise (ArgumentOutOfRangeException("t", t, "Steps are counted from 1."))
        match s with
        | Schedule.Constant r -> r
        | Schedule.InverseTime r -> r / float t
        | Schedule.StepDecay(r, f, k) -> r * Math.Pow(f, float ((t - 1L) / int64 k))
        | Schedule.Exponential(r, f) -> r * Math.Pow(f, float (t - 1L))
        | Schedule.Cosine(r, e, steps) ->
            let progress = float (Math.Min(t - 1L, int64 steps)) / float steps
            e + 0.5 * (r - e) * (1.0 + Math.Cos(Math.PI * progress))
