namespace FunctionalBackprop.Core

open System

/// How a running estimate Q̄ of the loss is kept from the batch losses εₜ, as the lecture does to
/// avoid evaluating the whole empirical risk at every step.
[<RequireQualifiedAccess>]
type RunningLoss =
    /// The running mean Q̄ₜ = εₜ/t + (1 − 1/t)Q̄ₜ₋₁ (the mean of ε₁ … εₜ).
    | Mean
    /// The exponential moving average Q̄ₜ = λεₜ + (1 − λ)Q̄ₜ₋₁ with forgetting rate λ in (0, 1].
    | Exponential of forgetting: float

/// The two recurrences, as pure functions.
module RunningLoss =

    /// Throws ArgumentOutOfRangeException for a forgetting rate outside (0, 1].
    let validate (estimator: RunningLoss) : unit =
        match estimator with
        | RunningLoss.Exponential lambda when not (lambda > 0.0 && lambda <= 1.0) ->
            raise (ArgumentOutOfRangeException("forgetting", lambda, $"The forgetting rate λ must lie in (0, 1], got {lambda}."))
        | _ -> ()

    /// Q̄ₜ from Q̄ₜ₋₁ and the t-th loss εₜ (t ≥ 1; Q̄₁ = ε₁ for both).
    let update (estimator: RunningLoss) (previous: float) (t: int64) (loss: float) : float =
        if t <= 1L then loss
        else
            match estimator with
            | RunningLoss.Mean -> loss / float t + (1.0 - 1.0 / float t) * previous
            | RunningLoss.Exponential lambda -> lambda * loss + (1.0 - lambda) * previous
