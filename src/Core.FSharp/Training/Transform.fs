namespace FunctionalBackprop.Core

open System
open System.Numerics
open FunctionalBackprop.Core.GenericArithmetic

/// What a transform sees at a step besides its state and the updates coming down the chain.
type StepContext<'T when 'T :> IFloatingPointIeee754<'T>> =
    { /// The parameters before the step.
      Network: Network<'T>
      /// The batch's gradient ∇C (what the first transform of a chain receives as its updates).
      Gradient: Gradients<'T>
      /// The batch's cost at any parameters, which line searches need; None when there is none.
      Objective: (Network<'T> -> 'T) option }

/// A transform at work: its state held privately in mutable form (arrays it owns, counters) and
/// stepped in place over updates it is given, so that a step allocates nothing. Each transform's
/// step is written once, here; the pure Transform.Update runs it on copies, and the training fold
/// on the buffers it owns, so the two give the same bits by construction.
[<AbstractClass>]
type internal Stage<'T when 'T :> IFloatingPointIeee754<'T>>() =
    /// u ← the transformed updates, written over u; the state advances.
    abstract Step: context: StepContext<'T> * u: Gradients<'T> -> unit
    /// The state now, over the stage's own arrays (copy it before it leaves a training run).
    abstract State: unit -> OptimizerState<'T>
    /// For the learning-rate step only: advances the state and returns the factor −ηₜ that Step
    /// would multiply u by, so the training fold can add factor·u to the parameters in one pass.
    abstract Factor: unit -> 'T voption
    default _.Factor() = ValueNone

/// One stage of an optimizer: a pair of pure functions over an explicit state, in the manner of
/// optax's GradientTransformation (Babuschkin et al., 2020). Init makes the state from a network;
/// Update takes the context, the state and the updates coming down the chain (at first the
/// gradient) and returns the transformed updates and the new state, leaving its arguments alone.
[<Sealed>]
type Transform<'T when 'T :> IFloatingPointIeee754<'T>>
    internal
    (
        name: string,
        init: Network<'T> -> OptimizerState<'T>,
        start: OptimizerState<'T> -> Stage<'T>,
        rate: OptimizerState<'T> -> float option,
        usesObjective: bool
    ) =

    /// "adam(β₁ = 0.9, β₂ = 0.999, ε = 1e-08)", "clip(‖g‖ ≤ 1)", …
    member _.Name = name

    /// The initial state for a network's parameters.
    member _.Init(network: Network<'T>) : OptimizerState<'T> = init network

    /// (updates, state) → (transformed updates, new state). Pure: the stage works on copies.
    member _.Update(context: StepContext<'T>, state: OptimizerState<'T>, updates: Gradients<'T>) : Gradients<'T> * OptimizerState<'T> =
        let stage = start state
        let u = Gradients.copy updates
        stage.Step(context, u)
        u, stage.State()

    /// The learning rate of the last step, for transforms that have one.
    member _.Rate(state: OptimizerState<'T>) : float option = rate state

    /// The transform at work from a state, on private copies of the state's arrays.
    member internal _.Start(state: OptimizerState<'T>) : Stage<'T> = start state

    /// Whether the step evaluates the cost (a line search): it then needs the true gradient in its
    /// context, so the training fold runs the chain on a copy of the gradient.
    member internal _.UsesObjective = usesObjective

    override _.ToString() = name

/// The building blocks of optimizers. Each step is written once, as a stage that updates its
/// state and the updates in place (element-wise kernels over the parameter arrays).
module Transform =

    let private checkUnit (name: string) (value: float) =
        if not (value >= 0.0 && value < 1.0) then
            raise (ArgumentOutOfRangeException(name, value, $"{name} must lie in [0, 1), got {value}."))

    let private checkPositive (name: string) (value: float) =
        if not (value > 0.0 && Double.IsFinite value) then
            raise (ArgumentOutOfRangeException(name, value, $"{name} must be positive and finite, got {value}."))

    let private noRate (_: OptimizerState<'T>) : float option = None

    let private unexpected (name: string) (state: OptimizerState<'T>) : 'a =
        invalidArg "state" $"The {name} transform cannot use this state ({state}); was it made by another optimizer?"

    /// A private copy of a gradient-shaped slot.
    let private own (g: Gradients<'T>) = Gradients.copy g

    /// u ← factor·u.
    let private scaleInPlace (factor: 'T) (u: Gradients<'T>) =
        Parameters.iter (fun _ a -> Elementwise.scale (ReadOnlySpan a, factor, Span a)) (Gradients.arrays u)

    /// Why a weight decay (or L2) λ cannot be asked for, if it cannot: it must be non-negative
    /// and finite.
    let decayProblem (lambda: float) : string option =
        if not (lambda >= 0.0 && Double.IsFinite lambda) then Some $"The weight decay λ must be non-negative and finite, got {lambda}." else None

    /// A stage that remembers nothing.
    let private stateless (step: StepContext<'T> -> Gradients<'T> -> unit) (_: OptimizerState<'T>) : Stage<'T> =
        { new Stage<'T>() with
            member _.Step(context, u) = step context u
            member _.State() = Stateless }

    /// A transform from a name, an init function and a pure update function: for experiments
    /// with steps of one's own (the training fold runs it like any other, on its own arrays).
    let create<'T when 'T :> IFloatingPointIeee754<'T>> (name: string) (init: Network<'T> -> OptimizerState<'T>) (update: StepContext<'T> -> OptimizerState<'T> -> Gradients<'T> -> Gradients<'T> * OptimizerState<'T>) : Transform<'T> =
        let start (state: OptimizerState<'T>) =
            let mutable state = state
            { new Stage<'T>() with
                member _.Step(context, u) =
                    let u', state' = update context state u
                    Parameters.copyInto (Gradients.arrays u') (Gradients.arrays u)
                    state <- state'
                member _.State() = state }
        Transform(name, init, start, noRate, false)

    /// Gradient clipping by global norm: u ← u·min(1, c/‖u‖) (Pascanu et al., 2013), which keeps
    /// the direction and bounds the length.
    let clipByGlobalNorm<'T when 'T :> IFloatingPointIeee754<'T>> (maxNorm: float) : Transform<'T> =
        checkPositive "maxNorm" maxNorm
        let step _ (u: Gradients<'T>) =
            let norm = Real.toFloat (Gradients.norm u)
            if norm > maxNorm then scaleInPlace (Real.ofFloat (maxNorm / norm)) u
        Transform($"clip(‖g‖ ≤ {maxNorm})", (fun _ -> Stateless), stateless step, noRate, false)

    /// Weight decay as a gradient term: u ← u + λ·w on the tensors that decay (weights; biases are
    /// not decayed, as in network2.py: see ParameterSpec.Decays). Before SGD it is L2 regularisation, w ← (1 − ηλ)w − η∇C; before Adam's
    /// learning-rate step (after its scaling) it is AdamW's decoupled decay.
    let addDecayedWeights<'T when 'T :> IFloatingPointIeee754<'T>> (lambda: float) : Transform<'T> =
        match decayProblem lambda with
        | Some why -> raise (ArgumentOutOfRangeException("lambda", lambda, why))
        | None -> ()
        let l: 'T = Real.ofFloat lambda
        let step (context: StepContext<'T>) (u: Gradients<'T>) =
            let w, specs = Parameters.arrays context.Network, context.Network.specs
            // u ← u + λ·w
            Parameters.iter (fun k g -> if specs.[k].Decays then Elementwise.scaleAdd (ReadOnlySpan w.[k], l, ReadOnlySpan g, Span g)) (Gradients.arrays u)
        Transform($"decay(λ = {lambda})", (fun _ -> Stateless), stateless step, noRate, false)

    /// network2.py's L2 regularisation for a training set of n examples: decay λ/n, so that with
    /// SGD the step is w ← (1 − ηλ/n)w − η∇C.
    let l2<'T when 'T :> IFloatingPointIeee754<'T>> (lambda: float) (n: int) : Transform<'T> =
        if n < 1 then raise (ArgumentOutOfRangeException("n", n, $"The training set size must be at least 1, got {n}."))
        addDecayedWeights (lambda / float n)

    /// A transform with one gradient-shaped slot, initially zero, updated element by element:
    /// the kernel reads (u, slot) and writes (u, slot) at each index (see Elementwise).
    let private withSlot
        (name: string)
        (wrap: Gradients<'T> -> OptimizerState<'T>)
        (unwrap: OptimizerState<'T> -> Gradients<'T> option)
        (kernel: SlotKernel) : Transform<'T> =
        let start (state: OptimizerState<'T>) =
            let slot = match unwrap state with Some s -> own s | None -> unexpected name state
            { new Stage<'T>() with
                member _.Step(_, u) =
                    Parameters.iter2 (fun g s -> Elementwise.withSlot kernel g s g s) (Gradients.arrays u) (Gradients.arrays slot)
                member _.State() = wrap slot }
        Transform(name, (fun network -> wrap (Gradients.zero network)), start, noRate, false)

    /// The lecture's momentum as an exponential moving average of the updates:
    /// P ← (1 − μ)P + μ·u, and the output is P.
    let movingAverage<'T when 'T :> IFloatingPointIeee754<'T>> (mu: float) : Transform<'T> =
        if not (mu > 0.0 && mu <= 1.0) then raise (ArgumentOutOfRangeException("mu", mu, $"The averaging rate μ must lie in (0, 1], got {mu}."))
        withSlot $"moving-average(μ = {mu})" Velocity (function Velocity v -> Some v | _ -> None) (UpdateKernels.MovingAverage mu)

    /// Classical (heavy-ball) momentum, Polyak (1964): v ← βv + u, and the output is v.
    let heavyBall<'T when 'T :> IFloatingPointIeee754<'T>> (beta: float) : Transform<'T> =
        checkUnit "beta" beta
        withSlot $"heavy-ball(β = {beta})" Velocity (function Velocity v -> Some v | _ -> None) (UpdateKernels.Momentum(beta, false))

    /// Nesterov momentum in the form of Sutskever et al. (2013): v ← βv + u, and the output is
    /// u + βv, the update looked ahead along the new velocity.
    let nesterov<'T when 'T :> IFloatingPointIeee754<'T>> (beta: float) : Transform<'T> =
        checkUnit "beta" beta
        withSlot $"nesterov(β = {beta})" Velocity (function Velocity v -> Some v | _ -> None) (UpdateKernels.Momentum(beta, true))

    /// AdaGrad (Duchi et al., 2011), as the lecture writes it, ε outside the root:
    /// Γ ← Γ + u ⊙ u, and the output is u ⊘ (√Γ + ε).
    let scaleByAdaGrad<'T when 'T :> IFloatingPointIeee754<'T>> (epsilon: float) : Transform<'T> =
        checkPositive "epsilon" epsilon
        withSlot $"adagrad(ε = {epsilon})" SquaredGradients (function SquaredGradients s -> Some s | _ -> None) (UpdateKernels.ScaleByRoot(1.0, epsilon, true))

    /// RMSProp (Tieleman and Hinton, 2012), as the lecture writes it, ε outside the root:
    /// Γ ← αΓ + (1 − α) u ⊙ u, and the output is u ⊘ (√Γ + ε).
    let scaleByRMSProp<'T when 'T :> IFloatingPointIeee754<'T>> (alpha: float) (epsilon: float) : Transform<'T> =
        checkUnit "alpha" alpha
        checkPositive "epsilon" epsilon
        withSlot $"rmsprop(α = {alpha}, ε = {epsilon})" SquaredGradients (function SquaredGradients s -> Some s | _ -> None) (UpdateKernels.ScaleByRoot(alpha, epsilon, false))

    /// Adam's scaling (Kingma and Ba, 2015, Algorithm 1): t ← t + 1, m ← β₁m + (1 − β₁)u,
    /// v ← β₂v + (1 − β₂)u ⊙ u, m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ), and the output is m̂ ⊘ (√v̂ + ε).
    /// The lecture's slide corrects the previous moments m_{t−1} and v_{t−1}; the paper corrects
    /// the new ones, m_t and v_t, which is what makes the first step unbiased (with m₀ = 0 the
    /// slide's first step would be 0/0): the paper is followed here.
    let scaleByAdam<'T when 'T :> IFloatingPointIeee754<'T>> (beta1: float) (beta2: float) (epsilon: float) : Transform<'T> =
        checkUnit "beta1" beta1
        checkUnit "beta2" beta2
        checkPositive "epsilon" epsilon
        let name = $"adam(β₁ = {beta1}, β₂ = {beta2}, ε = {epsilon})"
        let start (state: OptimizerState<'T>) =
            let count, m, v = match state with Moments(count, m, v) -> count, own m, own v | other -> unexpected name other
            let kernel = UpdateKernels.Adam(beta1, beta2, epsilon, Step = count)
            { new Stage<'T>() with
                member _.Step(_, u) =
                    kernel.Step <- kernel.Step + 1L
                    Parameters.iter3 (fun g f s -> Elementwise.withMoments kernel g f s g f s) (Gradients.arrays u) (Gradients.arrays m) (Gradients.arrays v)
                member _.State() = Moments(kernel.Step, m, v) }
        Transform(name, (fun network -> Moments(0L, Gradients.zero network, Gradients.zero network)), start, noRate, false)

    /// The learning-rate step: t ← t + 1, and the output is −ηₜ·u, the change added to the
    /// parameters. Every optimizer ends with it (or with a line search).
    let scaleByLearningRate<'T when 'T :> IFloatingPointIeee754<'T>> (schedule: Schedule) : Transform<'T> =
        Schedule.validate schedule
        let start (state: OptimizerState<'T>) =
            let mutable t = match state with StepCount t -> t | other -> unexpected "learning-rate" other
            // −ηₜ for step t + 1, advancing the count
            let factor () : 'T =
                t <- t + 1L
                Real.ofFloat (-(Schedule.rate schedule t))
            { new Stage<'T>() with
                member _.Step(_, u) = scaleInPlace (factor ()) u
                member _.Factor() = ValueSome(factor ())
                member _.State() = StepCount t }
        let rate = function
            | StepCount t when t > 0L -> Some(Schedule.rate schedule t)
            | StepCount _ -> Some(Schedule.rate schedule 1L)
            | _ -> None
        Transform($"rate({Schedule.name schedule})", (fun _ -> StepCount 0L), start, rate, false)

    /// The steepest-descent step: the output is −η*·u with η* chosen by the search to minimise
    /// C(w − η u) on the batch (the lecture's min over μ of J(Θ − μ∇J)). Needs the objective.
    let scaleByLineSearch<'T when 'T :> IFloatingPointIeee754<'T>> (search: LineSearch) : Transform<'T> =
        LineSearch.validate search
        let name = $"line-search({LineSearch.name search})"
        let start (state: OptimizerState<'T>) =
            let mutable steps, last = match state with LastRate(t, eta) -> t, eta | Stateless -> 0L, 0.0 | other -> unexpected name other
            { new Stage<'T>() with
                member _.Step(context, u) =
                    let objective =
                        match context.Objective with
                        | Some f -> f
                        | None -> invalidOp $"The {name} step evaluates the cost along the direction, so it needs the objective: call Optimizer.updateWith, or train with Training.train."
                    // φ(η) = C(w − η u), from new networks (pure); u is left alone until η is chosen.
                    let phi (eta: float) = Real.toFloat (objective (Parameters.addScaled (Real.ofFloat (-eta)) (Gradients.arrays u) context.Network))
                    let eta =
                        match search with
                        | LineSearch.Backtracking(initial, shrink, c, tries) ->
                            let slope = Real.toFloat (Gradients.dot context.Gradient u)
                            LineSearch.backtracking initial shrink c tries phi (phi 0.0) slope
                        | LineSearch.GoldenSection(largest, tolerance) -> LineSearch.goldenSection largest tolerance phi
                    scaleInPlace (Real.ofFloat (-eta)) u
                    steps <- steps + 1L
                    last <- eta
                member _.State() = LastRate(steps, last) }
        let rate = function
            | LastRate(t, eta) when t > 0L -> Some eta
            | _ -> None
        Transform(name, (fun _ -> LastRate(0L, 0.0)), start, rate, true)
