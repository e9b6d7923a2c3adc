namespace FunctionalBackprop.Experiments

open System
open FunctionalBackprop.Core

/// Long Levenberg–Marquardt runs, in rounds of a few iterations.
///
/// LevenbergMarquardt.fit divides the damping λ by 10 after every accepted step with no lower
/// bound, so after some tens of steps λ is far below rounding error, JᵀJ + λ·diag(JᵀJ) loses its
/// positive definiteness in floating point and the Cholesky solve throws. Running the fit in
/// rounds of five iterations, each starting from λ ≥ 10⁻⁶, keeps λ ≥ 10⁻¹¹; and should a round
/// still fail, the fit ends with the last round's network.
module LevenbergMarquardtRounds =

    let private roundLength = 5
    let private dampingFloor = 1e-6

    /// Fits the network to y by up to `iterations` accepted steps. Returns the network and the
    /// mean quadratic cost before the first step and after each accepted step.
    let fit (iterations: int) (network: Network<float>) (x: Matrix<float>) (y: Matrix<float>) : Network<float> * float list =
        let rec round (network: Network<float>) (damping: float) (costs: float list) =
            let remaining = iterations - (costs.Length - 1)
            if remaining <= 0 then network, List.rev costs
            else
                let options = { LevenbergMarquardt.defaults with MaxIterations = min roundLength remaining; InitialDamping = max damping dampingFloor }
                let result =
                    try Some(LevenbergMarquardt.fit options network x y)
                    with :? ArgumentException when costs.Length > 1 -> None
                match result with
                | None -> network, List.rev costs
                | Some r ->
                    let costs = List.rev (List.tail r.Costs) @ costs
                    // Fewer steps than asked for: no step lowered the cost, or too little.
                    if r.Iterations < options.MaxIterations then r.Network, List.rev costs
                    else round r.Network r.Damping costs
        round network LevenbergMarquardt.defaults.InitialDamping [ Forward.cost Loss.Quadratic network x y ]
