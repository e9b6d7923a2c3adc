namespace FunctionalBackprop.Core

open System

/// Forward-mode automatic differentiation with dual numbers: seed each input with a tangent
/// (ẇ₁ = 1, ẇ₂ = 0 to differentiate by x₁), evaluate once, and read the derivative of every
/// output along that direction from the tangents. One pass gives a Jacobian–vector product J v;
/// a gradient of f: ℝⁿ → ℝ takes n passes, one per input (the lecture: forward mode suits
/// f: ℝⁿ → ℝᵐ with m ≫ n). Pure: nothing is recorded or kept between calls.
///
/// The function to differentiate takes dual numbers. Written once as an inline function with
/// F#'s operators and the Scalar module (constants through Scalar.lift), it is differentiated
/// here and recorded on a tape by ReverseMode alike; its plain value is the Value of its result
/// on constants (Dual.constant).
module ForwardMode =

    let private checkFunction (f: obj) = if isNull f then nullArg "f"

    let private checkPoint (x: float[]) = if isNull x then nullArg "x"

    /// The value f(x) and the derivative f'(x), from one evaluation of f on x + 1ε.
    let inline valueAndDerivative ([<InlineIfLambda>] f: Dual< ^T> -> Dual< ^T>) (x: ^T) : ^T * ^T =
        let y = f (Dual.variable x)
        y.Value, y.Tangent

    /// The derivative f'(x) of f: ℝ → ℝ, from one evaluation of f on x + 1ε.
    let inline derivative ([<InlineIfLambda>] f: Dual< ^T> -> Dual< ^T>) (x: ^T) : ^T = (f (Dual.variable x)).Tangent

    /// The second derivative f''(x), by nested duals: the derivative of x ↦ f'(x), where f'
    /// itself is computed with duals, so f runs once on (x + ε₁) + (1 + 0ε₁)ε₂ and the ε₁ε₂ part of
    /// the result is f''(x). f must therefore accept dual numbers of dual numbers.
    let inline secondDerivative ([<InlineIfLambda>] f: Dual<Dual< ^T>> -> Dual<Dual< ^T>>) (x: ^T) : ^T =
        derivative (fun (y: Dual< ^T>) -> derivative f y) x

    /// The values y = f(x) and the Jacobian–vector product J v = Σⱼ (∂y/∂xⱼ) vⱼ, from one
    /// evaluation of f with every input xⱼ seeded with the tangent vⱼ.
    let jacobianVectorProduct (f: Dual<float>[] -> Dual<float>[]) (x: float[]) (v: float[]) : float[] * float[] =
        checkFunction f
        checkPoint x
        if isNull v then nullArg "v"
        if v.Length <> x.Length then
            invalidArg "v" $"The direction v has {v.Length} entries but the point x has {x.Length}; they must match."
        let y = f (Array.map2 (fun xj vj -> { Value = xj; Tangent = vj }) x v)
        if isNull y then invalidArg "f" "f returned null instead of its outputs."
        Array.map (fun (d: Dual<float>) -> d.Value) y, Array.map (fun (d: Dual<float>) -> d.Tangent) y

    /// The derivative of f: ℝⁿ → ℝ along v, ∇f(x)·v, from one evaluation.
    let directionalDerivative (f: Dual<float>[] -> Dual<float>) (x: float[]) (v: float[]) : float =
        checkFunction f
        let _, jv = jacobianVectorProduct (fun w -> [| f w |]) x v
        jv.[0]

    /// The gradient ∇f(x) of f: ℝⁿ → ℝ by n evaluations, the i-th with input i seeded ẇ = 1 and
    /// the others ẇ = 0. Costs n times an evaluation of f: for many inputs, ReverseMode.gradient
    /// takes one evaluation and one backward sweep instead.
    let gradient (f: Dual<float>[] -> Dual<float>) (x: float[]) : float[] =
        checkFunction f
        checkPoint x
        Array.init x.Length (fun i ->
            (f (Array.mapi (fun j xj -> { Value = xj; Tangent = if i = j then 1.0 else 0.0 }) x)).Tangent)
