namespace FunctionalBackprop.Core

open System
open System.Numerics

/// The state of one optimizer transform, or of a chain of them. Immutable, comparable with =,
/// and made only of counters and gradient-shaped values, so that it can be saved and a run
/// resumed exactly.
type OptimizerState<'T when 'T :> IFloatingPointIeee754<'T>> =
    /// A transform that remembers nothing (clipping, weight decay).
    | Stateless
    /// The number of steps taken (a learning-rate schedule's t).
    | StepCount of steps: int64
    /// A momentum's running combination of past updates (its velocity v, or the lecture's P).
    | Velocity of velocity: Gradients<'T>
    /// AdaGrad's sum Γ, or RMSProp's running mean, of squared gradients.
    | SquaredGradients of squares: Gradients<'T>
    /// Adam's step count t and its first and second moment estimates m and v.
    | Moments of count: int64 * first: Gradients<'T> * second: Gradients<'T>
    /// A line search's step count and the last rate it chose (0 before the first step).
    | LastRate of steps: int64 * rate: float
    /// The states of a chain of transforms, in order.
    | Chain of states: OptimizerState<'T> list

/// Helpers over optimizer states.
module OptimizerState =

    /// Every gradient-shaped value in the state, in order.
    let rec slots (state: OptimizerState<'T>) : Gradients<'T> list =
        match state with
        | Stateless | StepCount _ | LastRate _ -> []
        | Velocity v | SquaredGradients v -> [ v ]
        | Moments(_, m, v) -> [ m; v ]
        | Chain states -> states |> List.collect slots

    /// The same state with every array copied (for a private, mutable working copy).
    let rec copy (state: OptimizerState<'T>) : OptimizerState<'T> =
        let g (x: Gradients<'T>) = Gradients.copy x
        match state with
        | Stateless | StepCount _ | LastRate _ -> state
        | Velocity v -> Velocity(g v)
        | SquaredGradients v -> SquaredGradients(g v)
        | Moments(t, m, v) -> Moments(t, g m, g v)
        | Chain states -> Chain(List.map copy states)

    /// True when every entry of every slot, and every line search's last rate, is finite.
    let isFinite (state: OptimizerState<'T>) : bool =
        // A line search's last rate is a number outside the gradient slots: check it too.
        let rec ratesFinite s =
            match s with
            | LastRate(_, rate) -> Double.IsFinite rate
            | Chain states -> List.forall ratesFinite states
            | _ -> true
        ratesFinite state && slots state |> List.forall Gradients.isFinite
