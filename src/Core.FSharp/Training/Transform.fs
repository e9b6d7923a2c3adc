namespace FunctionalBackprop.Core

open System
open System.Numerics
open System.Numerics.Tensors
open FunctionalBackprop.Core.GenericArithmetic

/// Where a transform writes its results.
type internal Target =
    /// Into new arrays: the public, pure path.
    | Fresh
    /// Over the incoming updates' and the state's own arrays: only for buffers that the training
    /// fold owns privately and hands to nobody (see Training).
    | InPlace

/// What a transform sees at a step besides its state and the updates coming down the chain.
type StepContext<'T when 'T :> IFloatingPointIeee754<'T>> =
    { /// The parameters before the step.
      Network: Network<'T>
      /// The batch's gradient ∇C (what the first transform of a chain receives as its updates).
      Gradient: Gradients<'T>
      /// The batch's cost at any parameters, which line searches need; None when there is none.
      Objective: (Network<'T> -> 'T) option }

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
        step: Target -> StepContext<'T> -> OptimizerState<'T> -> Gradients<'T> -> Gradients<'T> * OptimizerState<'T>,
        rate: OptimizerState<'T> -> float option,
        usesObjective: bool,
        scale: (OptimizerState<'T> -> 'T * OptimizerState<'T>) option
    ) =

    internal new(name, init, step, rate) = Transform<'T>(name, init, step, rate, false, None)

    /// "adam(β₁ = 0.9, β₂ = 0.999, ε = 1e-08)", "clip(‖g‖ ≤ 1)", …
    member _.Name = name

    /// The initial state for a network's parameters.
    member _.Init(network: Network<'T>) : OptimizerState<'T> = init network

    /// (updates, state) → (transformed updates, new state). Pure.
    member _.Update(context: StepContext<'T>, state: OptimizerState<'T>, updates: Gradients<'T>) : Gradients<'T> * OptimizerState<'T> =
        step Fresh context state updates

    /// The learning rate of the last step, for transforms that have one.
    member _.Rate(state: OptimizerState<'T>) : float option = rate state

    member internal _.Step = step

    /// Whether the step evaluates the cost (a line search): it then needs the true gradient in its
    /// context, so the training fold runs the chain on fresh arrays rather than in place.
    member internal _.UsesObjective = usesObjective

    /// For a stage whose step is "multiply the updates by a factor" (the learning-rate step):
    /// the factor and the new state, so the training fold can fuse it with adding to the
    /// parameters (see Optimizer.changeScaled).
    member internal _.Scale = scale

    override _.ToString() = name

/// The building blocks of optimizers. Each step is an element-wise kernel over the parameter
/// arrays, written once: the pure path runs it into new arrays; the training fold runs the same
/// code over its private buffers (Target.InPlace), so both give the same bits.
module Transform =

    /// Each layer's dW array then its db array.
    let internal arrays (g: Gradients<'T>) : 'T[] list = g.Layers |> List.collect (fun l -> [ l.dW.values; l.db.values ])

    /// A gradient shaped like g over g's own arrays (InPlace) or new ones (Fresh).
    let internal output (target: Target) (g: Gradients<'T>) : Gradients<'T> =
        match target with
        | InPlace -> g
        | Fresh -> Gradients.mapLayers (fun m -> Matrix.wrap m.rows m.cols (Array.zeroCreate m.values.Length)) g

    let private checkUnit (name: string) (value: float) =
        if not (value >= 0.0 && value < 1.0) then
            raise (ArgumentOutOfRangeException(name, value, $"{name} must lie in [0, 1), got {value}."))

    let private checkPositive (name: string) (value: float) =
        if not (value > 0.0 && Double.IsFinite value) then
            raise (ArgumentOutOfRangeException(name, value, $"{name} must be positive and finite, got {value}."))

    let private noRate (_: OptimizerState<'T>) : float option = None

    let private unexpected (name: string) (state: OptimizerState<'T>) : 'a =
        invalidArg "state" $"The {name} transform cannot use this state ({state}); was it made by another optimizer?"

    /// A transform from a name, an init function and a pure update function: for experiments
    /// with steps of one's own. (The training fold runs it on fresh arrays like any pure code.)
    let create<'T when 'T :> IFloatingPointIeee754<'T>> (name: string) (init: Network<'T> -> OptimizerState<'T>) (update: StepContext<'T> -> OptimizerState<'T> -> Gradients<'T> -> Gradients<'T> * OptimizerState<'T>) : Transform<'T> =
        Transform(name, init, (fun _ context state updates -> update context state updates), noRate)

    /// Gradient clipping by global norm: u ← u·min(1, c/‖u‖) (Pascanu et al., 2013), which keeps
    /// the direction and bounds the length.
    let clipByGlobalNorm<'T when 'T :> IFloatingPointIeee754<'T>> (maxNorm: float) : Transform<'T> =
        checkPositive "maxNorm" maxNorm
        let step target _ (state: OptimizerState<'T>) (u: Gradients<'T>) =
            let norm = Real.toFloat (Gradients.norm u)
            if norm <= maxNorm then u, state
            else
                let factor: 'T = Real.ofFloat (maxNorm / norm)
                let out = output target u
                List.iter2 (fun (x: 'T[]) (y: 'T[]) -> TensorPrimitives.Multiply(ReadOnlySpan x, factor, Span y)) (arrays u) (arrays out)
                out, state
        Transform($"clip(‖g‖ ≤ {maxNorm})", (fun _ -> Stateless), step, noRate)

    /// Weight decay as a gradient term: u ← u + λ·w on the weights (biases are not decayed, as in
    /// network2.py). Before SGD it is L2 regularisation, w ← (1 − ηλ)w − η∇C; before Adam's
    /// learning-rate step (after its scaling) it is AdamW's decoupled decay.
    let addDecayedWeights<'T when 'T :> IFloatingPointIeee754<'T>> (lambda: float) : Transform<'T> =
        if not (lambda >= 0.0 && Double.IsFinite lambda) then
            raise (ArgumentOutOfRangeException("lambda", lambda, $"The weight decay λ must be non-negative and finite, got {lambda}."))
        let step target (context: StepContext<'T>) (state: OptimizerState<'T>) (u: Gradients<'T>) =
            let out = output target u
            let l: 'T = Real.ofFloat lambda
            List.zip3 u.Layers out.Layers context.Network.Layers
            |> List.iter (fun (g, o, layer) ->
                TensorPrimitives.MultiplyAdd(ReadOnlySpan layer.Weights.values, l, ReadOnlySpan g.dW.values, Span o.dW.values)
                if not (obj.ReferenceEquals(g.db.values, o.db.values)) then Array.Copy(g.db.values, o.db.values, g.db.values.Length))
            out, state
        Transform($"decay(λ = {lambda})", (fun _ -> Stateless), step, noRate)

    /// network2.py's L2 regularisation for a training set of n examples: decay λ/n, so that with
    /// SGD the step is w ← (1 − ηλ/n)w − η∇C.
    let l2<'T when 'T :> IFloatingPointIeee754<'T>> (lambda: float) (n: int) : Transform<'T> =
        if n < 1 then raise (ArgumentOutOfRangeException("n", n, $"The training set size must be at least 1, got {n}."))
        addDecayedWeights (lambda / float n)

    /// A transform with one gradient-shaped slot, initially zero, updated element by element:
    /// the kernel reads (u, slot) and writes (out, slot') at each index (see Elementwise).
    let private withSlot
        (name: string)
        (wrap: Gradients<'T> -> OptimizerState<'T>)
        (unwrap: OptimizerState<'T> -> Gradients<'T> option)
        (kernel: SlotKernel) : Transform<'T> =
        let step target _ (state: OptimizerState<'T>) (u: Gradients<'T>) =
            match unwrap state with
            | None -> unexpected name state
            | Some slot ->
                let out = output target u
                let slot' = output target slot
                List.iter2 (fun (u, s) (o, s') -> Elementwise.withSlot kernel u s o s')
                    (List.zip (arrays u) (arrays slot)) (List.zip (arrays out) (arrays slot'))
                out, wrap slot'
        Transform(name, (fun network -> wrap (Gradients.zero network)), step, noRate)

    /// The lecture's momentum as an exponential moving average of the updates:
    /// P ← (1 − μ)P + μ·u, and the output is P.
    let movingAverage<'T when 'T :> IFloatingPointIeee754<'T>> (mu: float) : Transform<'T> =
        if not (mu > 0.0 && mu <= 1.0) then raise (ArgumentOutOfRangeException("mu", mu, $"The averaging rate μ must lie in (0, 1], got {mu}."))
        withSlot $"moving-average(μ = {mu})" Velocity (function Velocity v -> Some v | _ -> None)
            (UpdateKernels.movingAverage mu)

    /// Classical (heavy-ball) momentum, Polyak (1964): v ← βv + u, and the output is v.
    let heavyBall<'T when 'T :> IFloatingPointIeee754<'T>> (beta: float) : Transform<'T> =
        checkUnit "beta" beta
        withSlot $"heavy-ball(β = {beta})" Velocity (function Velocity v -> Some v | _ -> None)
            (UpdateKernels.heavyBall beta)

    /// Nesterov momentum in the form of Sutskever et al. (2013): v ← βv + u, and the output is
    /// u + βv, the update looked ahead along the new velocity.
    let nesterov<'T when 'T :> IFloatingPointIeee754<'T>> (beta: float) : Transform<'T> =
        checkUnit "beta" beta
        withSlot $"nesterov(β = {beta})" Velocity (function Velocity v -> Some v | _ -> None)
            (UpdateKernels.nesterov beta)

    /// AdaGrad (Duchi et al., 2011), as the lecture writes it, ε outside the root:
    /// Γ ← Γ + u ⊙ u, and the output is u ⊘ (√Γ + ε).
    let scaleByAdaGrad<'T when 'T :> IFloatingPointIeee754<'T>> (epsilon: float) : Transform<'T> =
        checkPositive "epsilon" epsilon
        withSlot $"adagrad(ε = {epsilon})" SquaredGradients (function SquaredGradients s -> Some s | _ -> None) (UpdateKernels.scaleByRoot 1.0 epsilon true)

    /// RMSProp (Tieleman and Hinton, 2012), as the lecture writes it, ε outside the root:
    /// Γ ← αΓ + (1 − α) u ⊙ u, and the output is u ⊘ (√Γ + ε).
    let scaleByRMSProp<'T when 'T :> IFloatingPointIeee754<'T>> (alpha: float) (epsilon: float) : Transform<'T> =
        checkUnit "alpha" alpha
        checkPositive "epsilon" epsilon
        withSlot $"rmsprop(α = {alpha}, ε = {epsilon})" SquaredGradients (function SquaredGradients s -> Some s | _ -> None) (UpdateKernels.scaleByRoot alpha epsilon false)

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
        let step target _ (state: OptimizerState<'T>) (u: Gradients<'T>) =
            match state with
            | Moments(count, m, v) ->
                let t = count + 1L
                let out, m', v' = output target u, output target m, output target v
                let k = UpdateKernels.adam beta1 beta2 epsilon t
                for (g, mk, vk), (ok, mk', vk') in List.zip (List.zip3 (arrays u) (arrays m) (arrays v)) (List.zip3 (arrays out) (arrays m') (arrays v')) do
                    Elementwise.withMoments k g mk vk ok mk' vk'
                out, Moments(t, m', v')
            | other -> unexpected name other
        Transform(name, (fun network -> Moments(0L, Gradients.zero network, Gradients.zero network)), step, noRate)

    /// The learning-rate step: t ← t + 1, and the output is −ηₜ·u, the change added to the
    /// parameters. Every optimizer ends with it (or with a line search).
    let scaleByLearningRate<'T when 'T :> IFloatingPointIeee754<'T>> (schedule: Schedule) : Transform<'T> =
        Schedule.validate schedule
        // −ηₜ for step t + 1, and the step count after it.
        let factor (state: OptimizerState<'T>) : 'T * OptimizerState<'T> =
            match state with
            | StepCount t -> Real.ofFloat (-(Schedule.rate schedule (t + 1L))), StepCount(t + 1L)
            | other -> unexpected "learning-rate" other
        let step target _ (state: OptimizerState<'T>) (u: Gradients<'T>) =
            let eta, state' = factor state
            let out = output target u
            List.iter2 (fun (x: 'T[]) (y: 'T[]) -> TensorPrimitives.Multiply(ReadOnlySpan x, eta, Span y)) (arrays u) (arrays out)
            out, state'
        let rate = function
            | StepCount t when t > 0L -> Some(Schedule.rate schedule t)
            | StepCount _ -> Some(Schedule.rate schedule 1L)
            | _ -> None
        Transform($"rate({Schedule.name schedule})", (fun _ -> StepCount 0L), step, rate, false, Some factor)

    /// The steepest-descent step: the output is −η*·u with η* chosen by the search to minimise
    /// C(w − η u) on the batch (the lecture's min over μ of J(Θ − μ∇J)). Needs the objective.
    let scaleByLineSearch<'T when 'T :> IFloatingPointIeee754<'T>> (search: LineSearch) : Transform<'T> =
        LineSearch.validate search
        let name = $"line-search({LineSearch.name search})"
        let step target (context: StepContext<'T>) (state: OptimizerState<'T>) (u: Gradients<'T>) =
            let objective =
                match context.Objective with
                | Some f -> f
                | None -> invalidOp $"The {name} step evaluates the cost along the direction, so it needs the objective: call Optimizer.updateWith, or train with Training.train."
            let steps = match state with LastRate(t, _) -> t | Stateless -> 0L | other -> unexpected name other
            // φ(η) = C(w − η u), from new networks (pure); u itself is left alone.
            let moved (eta: float) = Parameters.addScaled (Real.ofFloat (-eta)) u context.Network
            let phi eta = Real.toFloat (objective (moved eta))
            let eta =
                match search with
                | LineSearch.Backtracking(initial, shrink, c, tries) ->
                    let slope = Real.toFloat (Gradients.dot context.Gradient u)
                    LineSearch.backtracking initial shrink c tries phi (phi 0.0) slope
                | LineSearch.GoldenSection(largest, tolerance) -> LineSearch.goldenSection largest tolerance phi
            let out = output target u
            let scale: 'T = Real.ofFloat (-eta)
            List.iter2 (fun (x: 'T[]) (y: 'T[]) -> TensorPrimitives.Multiply(ReadOnlySpan x, scale, Span y)) (arrays u) (arrays out)
            out, LastRate(steps + 1L, eta)
        let rate = function
            | LastRate(t, eta) when t > 0L -> Some eta
            | _ -> None
        Transform(name, (fun _ -> LastRate(0L, 0.0)), step, rate, true, None)
