namespace FunctionalBackprop.Core

/// A network's cost written out with AD scalars, one parameter, input and activation at a time, so
/// that reverse mode, forward mode and Backprop can be set side by side: the lecture's claim that
/// backprop is reverse mode applied to a network, as something to test. For float64 networks;
/// meant for checking and teaching on small networks (it records every scalar operation).
///
/// The scalar code is each layer kind's own scalar rule over the batch (Layer.scalarForward) and
/// each σ's (Activation.scalar), written beside their batched forms; the batch cost is the mean of the
/// examples' costs, the cross-entropies from z through log-sum-exp and softplus
/// (ln σ(z) = −softplus(−z), ln(1 − σ(z)) = −softplus(z)), as Loss.value computes them, with
/// 0·ln 0 = 0.
module NetworkAutoDiff =

    /// Dual numbers' arithmetic (forward mode).
    let private duals =
        { new ScalarArithmetic<Dual<float>>() with
            member _.Lift c = Dual.constant c
            member _.Value x = x.Value
            member _.Add(a, b) = a + b
            member _.Subtract(a, b) = a - b
            member _.Negate a = -a
            member _.Multiply(a, b) = a * b
            member _.Divide(a, b) = a / b
            member _.Exp x = exp x
            member _.Log x = log x
            member _.Sqrt x = sqrt x
            member _.Tanh x = tanh x
            member _.Sigmoid x = Scalar.sigmoid x
            member _.ReLU x = Scalar.relu x }

    /// Tape variables' arithmetic (reverse mode).
    let private variables =
        { new ScalarArithmetic<Var>() with
            member _.Lift c = Scalar.lift c
            member _.Value x = float x
            member _.Add(a, b) = a + b
            member _.Subtract(a, b) = a - b
            member _.Negate a = -a
            member _.Multiply(a, b) = a * b
            member _.Divide(a, b) = a / b
            member _.Exp x = exp x
            member _.Log x = log x
            member _.Sqrt x = sqrt x
            member _.Tanh x = tanh x
            member _.Sigmoid x = Scalar.sigmoid x
            member _.ReLU x = Scalar.relu x }

    /// ln(1 + u) for 0 ≤ u ≤ 1, to a few ulps however small u is (as Real.log1p): ln(1 + u) =
    /// 2 atanh s = 2 Σₖ s²ᵏ⁺¹/(2k + 1) with s = u/(2 + u) ≤ ⅓, whose every step keeps its relative
    /// accuracy, where ln(1 ⊕ u) keeps only the digits of u that survive rounding 1 + u (a cost
    /// near 0 would lose all but a few). Seventeen terms (k ≤ 16, s² ≤ 1/9) leave under 2·10⁻¹⁸ relative.
    let private log1p (s: ScalarArithmetic<'S>) (u: 'S) : 'S =
        let q = s.Divide(u, s.Add(s.Lift 2.0, u))
        let q2 = s.Multiply(q, q)
        let series = List.foldBack (fun k acc -> s.Add(s.Lift(1.0 / float (2 * k + 1)), s.Multiply(q2, acc))) [ 0 .. 15 ] (s.Lift(1.0 / 33.0))
        s.Multiply(s.Multiply(s.Lift 2.0, q), series)

    /// softplus(t) = ln(1 + eᵗ) = max(t, 0) + ln(1 + e^−|t|), as Real.softplus: never overflowing.
    let private softplus (s: ScalarArithmetic<'S>) (t: 'S) : 'S =
        if s.Value t > 0.0 then s.Add(t, log1p s (s.Exp(s.Negate t))) else log1p s (s.Exp t)

    /// One example's cost Cₓ from the output layer's z and a and the target y. A zero
    /// coefficient drops its term (0·ln 0 = 0).
    let private exampleCost (s: ScalarArithmetic<'S>) (loss: Loss) (output: Activation) (z: 'S[]) (a: 'S[]) (y: float[]) : 'S =
        let weighted (c: float) (term: unit -> 'S) = if c = 0.0 then [||] else [| s.Multiply(s.Lift c, term ()) |]
        match loss, output with
        | Loss.Quadratic, _ ->
            // Cₓ = ½ Σⱼ (aⱼ − yⱼ)²
            Array.map2 (fun aj (yj: float) -> let d = s.Subtract(aj, s.Lift yj) in s.Multiply(s.Multiply(s.Lift 0.5, d), d)) a y |> s.Sum
        | Loss.CrossEntropy, Activation.Softmax ->
            // Cₓ = −Σⱼ yⱼ ln softmax(z)ⱼ = Σⱼ yⱼ (lse(z) − zⱼ), lse(z) − zⱼ = (m − zⱼ) + ln Σₖ e^(zₖ − m):
            // the difference first, as Loss.total, so that a cost near 0 keeps its digits.
            let m = s.Lift(z |> Array.map s.Value |> Array.max)
            let logSum = s.Log(s.Sum(z |> Array.map (fun zk -> s.Exp(s.Subtract(zk, m)))))
            Array.map2 (fun zj yj -> weighted yj (fun () -> s.Add(s.Subtract(m, zj), logSum))) z y |> Array.concat |> s.Sum
        | Loss.CrossEntropy, _ ->
            // sigmoid outputs: Cₓ = −Σⱼ yⱼ ln σ(zⱼ) = Σⱼ yⱼ softplus(−zⱼ)
            Array.map2 (fun zj yj -> weighted yj (fun () -> softplus s (s.Negate zj))) z y |> Array.concat |> s.Sum
        | Loss.BinaryCrossEntropy, _ ->
            // Cₓ = −Σⱼ [yⱼ ln σ(zⱼ) + (1 − yⱼ) ln(1 − σ(zⱼ))] = Σⱼ yⱼ softplus(−zⱼ) + (1 − yⱼ) softplus(zⱼ)
            Array.map2 (fun zj yj -> Array.append (weighted yj (fun () -> softplus s (s.Negate zj))) (weighted (1.0 - yj) (fun () -> softplus s zj))) z y
            |> Array.concat
            |> s.Sum

    /// The batch's mean cost C = (1/n) Σₓ Cₓ in the given mode for the parameters θ, laid out
    /// as Parameters.indices lists them: layer by layer, each tensor column by column.
    let private meanCost (s: ScalarArithmetic<'S>) (mode: Mode) (loss: Loss) (network: Network<float>) (x: Matrix<float>) (y: Matrix<float>) (theta: 'S[]) : 'S =
        // Each layer's tensors as slices of θ.
        let offsets = network.tensors |> Array.scan (fun o m -> o + m.values.Length) 0
        let tensorsOf (i: int) =
            [| for k in 0 .. network.tensors.Length - 1 do
                   if network.owners.[k] = i then yield Array.sub theta offsets.[k] network.tensors.[k].values.Length |]
        let layers = network.Layers |> List.mapi (fun i l -> i, l, tensorsOf i)
        let inputs: 'S[][] = Array.init x.Cols (fun j -> Matrix.column j x |> Array.map s.Lift)
        // every layer on the whole batch (batch normalisation's statistics couple the examples)
        let z, a =
            layers
            |> List.fold
                (fun (_, a) (i, l, tensors) ->
                    let z = Layer.scalarForward s l mode (i + 1) network.inputs.[i] tensors a
                    z, z |> Array.map (Activation.scalar s (Layer.activation l)))
                ([||], inputs)
        let costs = Array.init x.Cols (fun j -> exampleCost s loss network.OutputActivation z.[j] a.[j] (Matrix.column j y))
        s.Divide(s.Sum costs, s.Lift(float x.Cols))

    let private prepare (loss: Loss) (network: Network<float>) (x: Matrix<float>) (y: Matrix<float>) : float[] =
        if isNull (box network) then nullArg "network"
        Network.checkInputs network x
        Network.checkTargets network loss x y
        Parameters.toArray network

    /// The batch's mean cost C in the given mode, evaluated by the scalar code (on dual numbers
    /// with zero tangents); equal to Forward.cost up to rounding, which shows it is the same network.
    let cost (mode: Mode) (loss: Loss) (network: Network<float>) (x: Matrix<float>) (y: Matrix<float>) : float =
        let theta = prepare loss network x y
        (meanCost duals mode loss network x y (Array.map Dual.constant theta)).Value

    /// ∇C in the given mode by reverse mode: the scalar code run once on tape variables, one per
    /// parameter, then one backward sweep. Equal to Backprop.gradient up to rounding.
    let reverseGradient (mode: Mode) (loss: Loss) (network: Network<float>) (x: Matrix<float>) (y: Matrix<float>) : Gradients<float> =
        let theta = prepare loss network x y
        ReverseMode.gradient (fun (p: Var[]) -> meanCost variables mode loss network x y p) theta |> Gradients.ofArray network

    /// ∇C in the given mode by forward mode, parameter by parameter: one run of the scalar code on
    /// dual numbers for each parameter, seeded ẇ = 1 there and 0 elsewhere. Equal to
    /// Backprop.gradient up to rounding, at the price of as many passes as parameters.
    let forwardGradient (mode: Mode) (loss: Loss) (network: Network<float>) (x: Matrix<float>) (y: Matrix<float>) : Gradients<float> =
        let theta = prepare loss network x y
        ForwardMode.gradient (fun (p: Dual<float>[]) -> meanCost duals mode loss network x y p) theta |> Gradients.ofArray network
