namespace FunctionalBackprop.Core

open System
open System.Numerics
open System.Numerics.Tensors
open FunctionalBackprop.Core.GenericArithmetic

/// An optimizer: a chain of transforms whose last stage turns updates into the change of the
/// parameters (a learning-rate step or a line search). A value made of pure functions: its state
/// is explicit (OptimizerState), and updating returns a new network and a new state.
type Optimizer<'T when 'T :> IFloatingPointIeee754<'T>> =
    { /// "adam(0.001)", "clip(‖g‖ ≤ 1) → sgd(0.1)", …
      Name: string
      /// The stages, applied in order to the gradient.
      Transforms: Transform<'T> list }

    override o.ToString() = o.Name

/// The familiar optimizers, built from transforms, and the functions that run them.
module Optimizer =

    let private ofStages<'T when 'T :> IFloatingPointIeee754<'T>> (name: string) (transforms: Transform<'T> list) : Optimizer<'T> =
        { Name = name; Transforms = transforms }

    /// An optimizer from its stages; the last must produce the parameter change (end the list
    /// with Transform.scaleByLearningRate or Transform.scaleByLineSearch).
    let create<'T when 'T :> IFloatingPointIeee754<'T>> (name: string) (transforms: Transform<'T> list) : Optimizer<'T> =
        if isNull (box transforms) || transforms.IsEmpty then invalidArg "transforms" "An optimizer needs at least one stage."
        ofStages name transforms

    /// The optimizer with the given transforms applied to the gradient first: clipping, then
    /// Adam, is `Optimizer.adam rate |> Optimizer.after [ Transform.clipByGlobalNorm 1.0 ]`.
    let after<'T when 'T :> IFloatingPointIeee754<'T>> (first: Transform<'T> list) (optimizer: Optimizer<'T>) : Optimizer<'T> =
        let prefix = first |> List.map (fun t -> t.Name) |> String.concat " → "
        ofStages (if first.IsEmpty then optimizer.Name else $"{prefix} → {optimizer.Name}") (first @ optimizer.Transforms)

    /// The initial state for a network.
    let init (optimizer: Optimizer<'T>) (network: Network<'T>) : OptimizerState<'T> =
        Chain [ for t in optimizer.Transforms -> t.Init network ]

    /// The optimizer at work from a state: one stage per transform, each on private copies of its
    /// state's arrays (see Stage).
    let internal start (optimizer: Optimizer<'T>) (state: OptimizerState<'T>) : Stage<'T>[] =
        match state with
        | Chain states when states.Length = optimizer.Transforms.Length ->
            List.map2 (fun (t: Transform<'T>) s -> t.Start s) optimizer.Transforms states |> Array.ofList
        | other -> invalidArg "state" $"The state does not belong to {optimizer.Name} (expected one state per stage, {optimizer.Transforms.Length}, got {other})."

    /// The state of stages at work, over their own arrays.
    let internal stateOf (stages: Stage<'T>[]) : OptimizerState<'T> = Chain [ for s in stages -> s.State() ]

    /// One step of the chain in place: u (at first the gradient, in a buffer the caller owns)
    /// goes down the stages. Returns the factor to add u with, w ← w + factor·u: the last
    /// stage's −ηₜ when it is the learning-rate step (left to that one pass over the parameters,
    /// Parameters.addScaledInto: a product, then a sum, each rounded, as scaling then adding
    /// would round them), else 1 with u the whole change. Allocates nothing.
    [<HotPath>]
    let internal stepInPlace (stages: Stage<'T>[]) (context: StepContext<'T>) (u: Gradients<'T>) : 'T =
        let last = stages.Length - 1
        for k in 0 .. last - 1 do
            stages.[k].Step(context, u)
        match stages.[last].Factor() with
        | ValueSome factor -> factor
        | ValueNone ->
            stages.[last].Step(context, u)
            'T.One

    /// Whether some stage evaluates the cost (see Transform.UsesObjective).
    let internal usesObjective (optimizer: Optimizer<'T>) = optimizer.Transforms |> List.exists (fun t -> t.UsesObjective)

    /// One pure step: the stages on copies, then w + Δ in new arrays.
    let private step (optimizer: Optimizer<'T>) (context: StepContext<'T>) (state: OptimizerState<'T>) : Network<'T> * OptimizerState<'T> =
        let stages = start optimizer state
        let u = Gradients.copy context.Gradient
        let factor = stepInPlace stages context u
        Parameters.addScaled factor (Gradients.arrays u) context.Network, stateOf stages

    let private checkGradient (network: Network<'T>) (gradient: Gradients<'T>) =
        if isNull (box gradient) then nullArg "gradient"
        if gradient.Layers.Length <> network.Depth then
            invalidArg "gradient" $"The gradient has {gradient.Layers.Length} layers but the network has {network.Depth}."
        let arrays = Gradients.arrays gradient
        if arrays.Length <> network.tensors.Length then
            invalidArg "gradient" $"The gradient has {arrays.Length} tensors but the network has {network.tensors.Length} parameter tensors."
        gradient.Layers
        |> List.collect (fun l -> l.Tensors)
        |> List.iteri (fun k g ->
            let w = network.tensors.[k]
            if g.rows <> w.rows || g.cols <> w.cols then
                invalidArg "gradient" $"Layer {network.owners.[k] + 1}'s {network.specs.[k].Name} is {Matrix.shape w} but its gradient is {Matrix.shape g}.")

    /// (state, gradient, network) → (new network, new state). Pure: nothing passed in changes.
    let update (optimizer: Optimizer<'T>) (state: OptimizerState<'T>) (gradient: Gradients<'T>) (network: Network<'T>) : Network<'T> * OptimizerState<'T> =
        checkGradient network gradient
        step optimizer { Network = network; Gradient = gradient; Objective = None } state

    /// update, for optimizers that evaluate the cost (line searches): objective gives the batch's
    /// cost at any parameters.
    let updateWith (objective: Network<'T> -> 'T) (optimizer: Optimizer<'T>) (state: OptimizerState<'T>) (gradient: Gradients<'T>) (network: Network<'T>) : Network<'T> * OptimizerState<'T> =
        checkGradient network gradient
        step optimizer { Network = network; Gradient = gradient; Objective = Some objective } state

    /// The learning rate of the last step (of the first step, before any), where it has one.
    let learningRate (optimizer: Optimizer<'T>) (state: OptimizerState<'T>) : float option =
        match state with
        | Chain states when states.Length = optimizer.Transforms.Length ->
            List.zip optimizer.Transforms states |> List.tryPick (fun (t, s) -> t.Rate s)
        | _ -> None

    /// Plain gradient descent, w ← w − ηₜ∇C with ∇C the mini-batch's mean gradient: Nielsen's
    /// w ← w − (η/m) Σₓ ∇Cₓ.
    let sgd<'T when 'T :> IFloatingPointIeee754<'T>> (rate: Schedule) : Optimizer<'T> =
        ofStages $"sgd({Schedule.name rate})" [ Transform.scaleByLearningRate rate ]

    /// network2.py's SGD with L2 regularisation over a training set of n examples:
    /// w ← (1 − ηλ/n)w − η∇C (biases are not decayed).
    let sgdL2<'T when 'T :> IFloatingPointIeee754<'T>> (rate: Schedule) (lambda: float) (n: int) : Optimizer<'T> =
        ofStages $"sgd({Schedule.name rate}, L2 λ = {lambda}, n = {n})" [ Transform.l2 lambda n; Transform.scaleByLearningRate rate ]

    /// The lecture's momentum: P ← (1 − μ)P + μ∇C, w ← w − ηₜP. (The slide steps with the old P;
    /// the new one is used here, as in every later text: with the old one the first step is zero.)
    let momentum<'T when 'T :> IFloatingPointIeee754<'T>> (rate: Schedule) (mu: float) : Optimizer<'T> =
        ofStages $"momentum({Schedule.name rate}, μ = {mu})" [ Transform.movingAverage mu; Transform.scaleByLearningRate rate ]

    /// Heavy-ball momentum: v ← βv + ∇C, w ← w − ηₜv.
    let heavyBall<'T when 'T :> IFloatingPointIeee754<'T>> (rate: Schedule) (beta: float) : Optimizer<'T> =
        ofStages $"heavy-ball({Schedule.name rate}, β = {beta})" [ Transform.heavyBall beta; Transform.scaleByLearningRate rate ]

    /// Nesterov momentum: v ← βv + ∇C, w ← w − ηₜ(∇C + βv).
    let nesterov<'T when 'T :> IFloatingPointIeee754<'T>> (rate: Schedule) (beta: float) : Optimizer<'T> =
        ofStages $"nesterov({Schedule.name rate}, β = {beta})" [ Transform.nesterov beta; Transform.scaleByLearningRate rate ]

    /// AdaGrad: Γ ← Γ + ∇C ⊙ ∇C, w ← w − ηₜ ∇C ⊘ (√Γ + ε), with ε = 10⁻⁸.
    let adaGrad<'T when 'T :> IFloatingPointIeee754<'T>> (rate: Schedule) : Optimizer<'T> =
        ofStages $"adagrad({Schedule.name rate})" [ Transform.scaleByAdaGrad 1e-8; Transform.scaleByLearningRate rate ]

    /// RMSProp: Γ ← αΓ + (1 − α)∇C ⊙ ∇C, w ← w − ηₜ ∇C ⊘ (√Γ + ε), with ε = 10⁻⁸.
    let rmsProp<'T when 'T :> IFloatingPointIeee754<'T>> (rate: Schedule) (alpha: float) : Optimizer<'T> =
        ofStages $"rmsprop({Schedule.name rate}, α = {alpha})" [ Transform.scaleByRMSProp alpha 1e-8; Transform.scaleByLearningRate rate ]

    /// Adam with the given β₁, β₂ and ε (see Transform.scaleByAdam).
    let adamWith<'T when 'T :> IFloatingPointIeee754<'T>> (rate: Schedule) (beta1: float) (beta2: float) (epsilon: float) : Optimizer<'T> =
        ofStages $"adam({Schedule.name rate}, β₁ = {beta1}, β₂ = {beta2}, ε = {epsilon})" [ Transform.scaleByAdam beta1 beta2 epsilon; Transform.scaleByLearningRate rate ]

    /// Adam with the paper's and the lecture's recommended β₁ = 0.9, β₂ = 0.999, ε = 10⁻⁸.
    let adam<'T when 'T :> IFloatingPointIeee754<'T>> (rate: Schedule) : Optimizer<'T> = adamWith rate 0.9 0.999 1e-8

    /// AdamW (Loshchilov and Hutter, 2019): Adam's step plus decoupled weight decay,
    /// w ← w − ηₜ(m̂ ⊘ (√v̂ + ε) + λw), the decay bypassing Adam's scaling.
    let adamW<'T when 'T :> IFloatingPointIeee754<'T>> (rate: Schedule) (lambda: float) : Optimizer<'T> =
        ofStages $"adamw({Schedule.name rate}, λ = {lambda})" [ Transform.scaleByAdam 0.9 0.999 1e-8; Transform.addDecayedWeights lambda; Transform.scaleByLearningRate rate ]

    /// Steepest descent: w ← w − η*∇C with η* = argmin_η C(w − η∇C) on the batch, found by the
    /// search.
    let steepestDescent<'T when 'T :> IFloatingPointIeee754<'T>> (search: LineSearch) : Optimizer<'T> =
        ofStages $"steepest-descent({LineSearch.name search})" [ Transform.scaleByLineSearch search ]
