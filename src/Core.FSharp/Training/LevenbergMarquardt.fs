namespace FunctionalBackprop.Core

open System
open System.Numerics

/// Settings of a Levenberg–Marquardt fit.
type LevenbergMarquardtOptions =
    { /// The largest number of accepted steps.
      MaxIterations: int
      /// λ at the start.
      InitialDamping: float
      /// λ is multiplied by this after a rejected step (more like gradient descent) and divided
      /// by it after an accepted one (more like Gauss–Newton).
      DampingFactor: float
      /// Stop when the mean cost C = (1/n) Σₓ ½‖a − y‖² falls to this or below.
      TargetCost: float
      /// Stop when an accepted step lowers C by less than this fraction.
      MinRelativeImprovement: float }

/// What a Levenberg–Marquardt fit returns.
type LevenbergMarquardtResult<'T when 'T :> IFloatingPointIeee754<'T>> =
    { /// The fitted network.
      Network: Network<'T>
      /// Accepted steps taken.
      Iterations: int
      /// The mean cost before the first step and after each accepted step.
      Costs: float list
      /// λ at the end.
      Damping: float }

/// Levenberg–Marquardt for small networks with the quadratic loss (the lecture's combination of
/// gradient descent and Gauss–Newton; Levenberg 1944, Marquardt 1963). With residuals
/// r = a − y over every output of every example and J = ∂r/∂w, each step solves
///   (JᵀJ + λ diag(JᵀJ)) Δ = −Jᵀr
/// and moves to w + Δ if that lowers the cost, dividing λ by the factor; otherwise it keeps w,
/// multiplies λ by the factor and solves again. JᵀJ has one row and column per parameter, so this
/// is for networks of up to a few thousand parameters.
module LevenbergMarquardt =

    /// Iterations 200, λ₀ = 10⁻³, factor 10, target cost 0, minimum improvement 10⁻¹².
    let defaults: LevenbergMarquardtOptions =
        { MaxIterations = 200; InitialDamping = 1e-3; DampingFactor = 10.0; TargetCost = 0.0; MinRelativeImprovement = 1e-12 }

    /// The residuals r = a − y (output by output, example by example) and their Jacobian J, one
    /// row per residual: row (k, j) is the gradient of aₖ(xⱼ) with respect to every parameter,
    /// from one backward pass with upstream gradient eₖ.
    let jacobian (network: Network<'T>) (x: Matrix<'T>) (y: Matrix<'T>) : float[] * Matrix<float> =
        Network.checkInputs network x
        let p = network.OutputWidth
        let rows =
            [| for j in 0 .. x.Cols - 1 do
                   let trace = Forward.trace Mode.Inference network (Matrix.sliceColumns j 1 x)
                   for k in 0 .. p - 1 do
                       let unit = Matrix.init p 1 (fun i _ -> if i = k then 'T.One else 'T.Zero)
                       let gradient, _ = Backprop.backward network trace (OutputGradient unit)
                       yield Real.toFloat (trace.Output.[k, 0] - y.[k, j]), Array.map Real.toFloat (Gradients.toArray gradient) |]
        Array.map fst rows, Matrix.ofRows (Array.map snd rows)

    /// The mean quadratic cost (1/n) Σₓ ½‖a − y‖².
    let private cost (network: Network<'T>) (x: Matrix<'T>) (y: Matrix<'T>) = Real.toFloat (Forward.cost Mode.Inference Loss.Quadratic network x y)

    /// The network moved by Δ (in the order of Parameters.indices).
    let private move (network: Network<'T>) (delta: float[]) : Network<'T> =
        Parameters.addScaled 'T.One (Gradients.arrays (Gradients.ofArray network (Array.map Real.ofFloat delta))) network

    /// Fits the network to targets y by Levenberg–Marquardt on the quadratic loss. Pure.
    let fit (options: LevenbergMarquardtOptions) (network: Network<'T>) (x: Matrix<'T>) (y: Matrix<'T>) : LevenbergMarquardtResult<'T> =
        Network.checkInputs network x
        Network.checkTargets network Loss.Quadratic x y
        if x.Cols = 0 then invalidArg "x" "The training set is empty."
        if options.MaxIterations < 1 then raise (ArgumentOutOfRangeException("MaxIterations", options.MaxIterations, "At least one iteration is needed."))
        if not (options.InitialDamping > 0.0) then raise (ArgumentOutOfRangeException("InitialDamping", options.InitialDamping, "The damping λ must be positive."))
        if not (options.DampingFactor > 1.0) then raise (ArgumentOutOfRangeException("DampingFactor", options.DampingFactor, "The damping factor must exceed 1."))
        let rec iterate (network: Network<'T>) (c: float) (lambda: float) (iterations: int) (costs: float list) =
            if iterations >= options.MaxIterations || c <= options.TargetCost then
                { Network = network; Iterations = iterations; Costs = List.rev costs; Damping = lambda }
            else
                let r, j = jacobian network x y
                let jm = MathNet.Numerics.LinearAlgebra.Matrix<float>.Build.DenseOfColumnMajor(j.Rows, j.Cols, j.ToArray())
                let a = jm.TransposeThisAndMultiply jm
                let g = jm.TransposeThisAndMultiply(MathNet.Numerics.LinearAlgebra.Vector<float>.Build.DenseOfArray r)
                // Try λ, 10λ, 100λ, … until a step lowers the cost (at most 30 times).
                let rec attempt (lambda: float) tries =
                    if tries = 0 then None
                    else
                        let damped = a.Clone()
                        for i in 0 .. damped.RowCount - 1 do
                            // Marquardt's scaling by diag(JᵀJ), with a floor for parameters the
                            // residuals do not depend on (a dead unit's column of J is zero).
                            damped.[i, i] <- a.[i, i] + lambda * Math.Max(a.[i, i], 1e-12)
                        // After many accepted steps λ can fall below rounding error, and JᵀJ + λ diag(JᵀJ)
                        // is then not positive definite in floating point: that λ is rejected like a
                        // step that does not lower the cost, and λ grows until the matrix factors.
                        let step =
                            try Some(damped.Cholesky().Solve(-g).ToArray())
                            with :? ArgumentException -> None
                        match step with
                        | Some step when Array.forall Double.IsFinite step ->
                            let candidate = move network step
                            let c' = cost candidate x y
                            if Double.IsFinite c' && c' < c then Some(candidate, c', lambda / options.DampingFactor)
                            else attempt (lambda * options.DampingFactor) (tries - 1)
                        | _ -> attempt (lambda * options.DampingFactor) (tries - 1)
                match attempt lambda 30 with
                | None -> { Network = network; Iterations = iterations; Costs = List.rev costs; Damping = lambda }
                | Some(next, c', lambda') ->
                    if (c - c') <= options.MinRelativeImprovement * c then
                        { Network = next; Iterations = iterations + 1; Costs = List.rev (c' :: costs); Damping = lambda' }
                    else iterate next c' lambda' (iterations + 1) (c' :: costs)
        let c0 = cost network x y
        iterate network c0 options.InitialDamping 0 [ c0 ]
