namespace FunctionalBackprop.Core

/// A network's cost written out with AD scalars, one weight, input and activation at a time, so
/// that reverse mode, forward mode and Backprop can be set side by side: the lecture's claim that
/// backprop is reverse mode applied to a network, as something to test. For float64 networks;
/// meant for checking and teaching on small networks (it records every scalar operation).
///
/// The scalar code follows the library's definitions: zˡ = wˡaˡ⁻¹ + bˡ, aˡ = σ(zˡ) column by
/// column (softmax with its largest entry subtracted), the batch cost the mean of the examples'
/// costs, and the cross-entropies from z through log-sum-exp and softplus (ln σ(z) = −softplus(−z),
/// ln(1 − σ(z)) = −softplus(z)), as Loss.value computes them, with 0·ln 0 = 0.
module NetworkAutoDiff =

    let inline private sum (terms: ^S[]) : ^S = if terms.Length = 0 then Scalar.lift 0.0 else Array.reduce (+) terms

    /// The largest entry as a constant: subtracting it before exponentiating changes no value and,
    /// being constant, no derivative.
    let inline private largest (z: ^S[]) : ^S = Scalar.lift (z |> Array.map float |> Array.max)

    /// ln(1 + u) for 0 ≤ u ≤ 1, to a few ulps however small u is (as Real.log1p): ln(1 + u) =
    /// 2 atanh s = 2 Σₖ s²ᵏ⁺¹/(2k + 1) with s = u/(2 + u) ≤ ⅓, whose every step keeps its relative
    /// accuracy, where ln(1 ⊕ u) keeps only the digits of u that survive rounding 1 + u (a cost
    /// near 0 would lose all but a few). Seventeen terms (k ≤ 16, s² ≤ 1/9) leave under 2·10⁻¹⁸ relative.
    let inline private log1p (u: ^S) : ^S =
        let s = u / (Scalar.lift 2.0 + u)
        let s2 = s * s
        let series = List.foldBack (fun k acc -> Scalar.lift (1.0 / float (2 * k + 1)) + s2 * acc) [ 0 .. 15 ] (Scalar.lift (1.0 / 33.0))
        Scalar.lift 2.0 * s * series

    /// softplus(t) = ln(1 + eᵗ) = max(t, 0) + ln(1 + e^−|t|), as Real.softplus: never overflowing.
    let inline private softplus (t: ^S) : ^S =
        if float t > 0.0 then t + log1p (exp (-t)) else log1p (exp t)

    /// σ(z) for one example's column z.
    let inline private activate (f: Activation) (z: ^S[]) : ^S[] =
        match f with
        | Activation.Identity -> z
        // A constant: the step's derivative is zero wherever it exists.
        | Activation.Step -> z |> Array.map (fun zi -> Scalar.lift (if float zi > 0.0 then 1.0 else 0.0))
        | Activation.Sigmoid -> Array.map Scalar.sigmoid z
        | Activation.Tanh -> Array.map tanh z
        | Activation.ReLU -> Array.map Scalar.relu z
        | Activation.LeakyReLU slope -> z |> Array.map (fun zi -> if float zi > 0.0 then zi else Scalar.lift slope * zi)
        | Activation.Softmax ->
            let m = largest z
            let e = z |> Array.map (fun zi -> exp (zi - m))
            let total = sum e
            e |> Array.map (fun ei -> ei / total)

    /// One example's cost Cₓ from the output layer's z and a and the target y. A zero
    /// coefficient drops its term (0·ln 0 = 0).
    let inline private exampleCost (loss: Loss) (output: Activation) (z: ^S[]) (a: ^S[]) (y: float[]) : ^S =
        let weighted (c: float) (term: unit -> ^S) = if c = 0.0 then [||] else [| Scalar.lift c * term () |]
        match loss, output with
        | Loss.Quadratic, _ ->
            // Cₓ = ½ Σⱼ (aⱼ − yⱼ)²
            Array.map2 (fun aj (yj: float) -> let d = aj - Scalar.lift yj in Scalar.lift 0.5 * d * d) a y |> sum
        | Loss.CrossEntropy, Activation.Softmax ->
            // Cₓ = −Σⱼ yⱼ ln softmax(z)ⱼ = Σⱼ yⱼ (lse(z) − zⱼ), lse(z) − zⱼ = (m − zⱼ) + ln Σₖ e^(zₖ − m):
            // the difference first, as Loss.total, so that a cost near 0 keeps its digits.
            let m = largest z
            let logSum = log (sum (z |> Array.map (fun zk -> exp (zk - m))))
            Array.map2 (fun zj yj -> weighted yj (fun () -> (m - zj) + logSum)) z y |> Array.concat |> sum
        | Loss.CrossEntropy, _ ->
            // sigmoid outputs: Cₓ = −Σⱼ yⱼ ln σ(zⱼ) = Σⱼ yⱼ softplus(−zⱼ)
            Array.map2 (fun zj yj -> weighted yj (fun () -> softplus (-zj))) z y |> Array.concat |> sum
        | Loss.BinaryCrossEntropy, _ ->
            // Cₓ = −Σⱼ [yⱼ ln σ(zⱼ) + (1 − yⱼ) ln(1 − σ(zⱼ))] = Σⱼ yⱼ softplus(−zⱼ) + (1 − yⱼ) softplus(zⱼ)
            Array.map2 (fun zj yj -> Array.append (weighted yj (fun () -> softplus (-zj))) (weighted (1.0 - yj) (fun () -> softplus zj))) z y
            |> Array.concat
            |> sum

    /// The batch's mean cost C = (1/n) Σₓ Cₓ for the parameters θ, laid out as Gradients.indices
    /// lists them: layer by layer, the weights column by column, then the biases.
    let inline private meanCost (loss: Loss) (network: Network<float>) (x: Matrix<float>) (y: Matrix<float>) (theta: ^S[]) : ^S =
        let layer ((_, a: ^S[]), offset: int) (l: Dense<float>) =
            let rows, cols = l.OutputWidth, l.InputWidth
            // zⱼ = bⱼ + Σₖ wⱼₖ aₖ, with wⱼₖ at offset + j + k·rows and bⱼ after all the weights
            let z = Array.init rows (fun j -> sum [| yield theta.[offset + rows * cols + j]; for k in 0 .. cols - 1 -> theta.[offset + j + k * rows] * a.[k] |])
            (z, activate l.Activation z), offset + rows * cols + rows
        let example j =
            let input: ^S[] = Matrix.column j x |> Array.map Scalar.lift
            let (z, a), _ = network.Layers |> List.fold layer (([||], input), 0)
            exampleCost loss network.OutputActivation z a (Matrix.column j y)
        sum (Array.init x.Cols example) / Scalar.lift (float x.Cols)

    let private prepare (loss: Loss) (network: Network<float>) (x: Matrix<float>) (y: Matrix<float>) : float[] =
        if isNull (box network) then nullArg "network"
        Network.checkInputs network x
        Network.checkTargets network loss x y
        Parameters.toArray network

    /// The batch's mean cost C, evaluated by the scalar code (on dual numbers with zero
    /// tangents); equal to Forward.cost up to rounding, which shows it is the same network.
    let cost (loss: Loss) (network: Network<float>) (x: Matrix<float>) (y: Matrix<float>) : float =
        let theta = prepare loss network x y
        (meanCost loss network x y (Array.map Dual.constant theta)).Value

    /// ∇C by reverse mode: the scalar code run once on tape variables, one per parameter, then
    /// one backward sweep. Equal to Backprop.gradient up to rounding.
    let reverseGradient (loss: Loss) (network: Network<float>) (x: Matrix<float>) (y: Matrix<float>) : Gradients<float> =
        let theta = prepare loss network x y
        ReverseMode.gradient (fun (p: Var[]) -> meanCost loss network x y p) theta |> Gradients.ofArray network

    /// ∇C by forward mode, parameter by parameter: one run of the scalar code on dual numbers
    /// for each weight and bias, seeded ẇ = 1 there and 0 elsewhere. Equal to Backprop.gradient
    /// up to rounding, at the price of as many passes as parameters.
    let forwardGradient (loss: Loss) (network: Network<float>) (x: Matrix<float>) (y: Matrix<float>) : Gradients<float> =
        let theta = prepare loss network x y
        ForwardMode.gradient (fun (p: Dual<float>[]) -> meanCost loss network x y p) theta |> Gradients.ofArray network
