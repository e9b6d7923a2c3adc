namespace FunctionalBackprop.Core

open System
open System.Numerics
open FunctionalBackprop.Core.GenericArithmetic

/// A cost C of the network's output a for the target y. The cost of a batch is the mean over its
/// examples, C = (1/n) Σₓ Cₓ (Nielsen's eq. 26 and the lecture), so every gradient below carries
/// the factor 1/n.
[<RequireQualifiedAccess>]
type Loss =
    /// Cₓ = ½‖a − y‖²; ∂Cₓ/∂a = a − y. Any output activation.
    | Quadratic
    /// Cₓ = −Σⱼ yⱼ ln aⱼ; ∂Cₓ/∂aⱼ = −yⱼ/aⱼ. Needs outputs in (0, 1]: a softmax or sigmoid output
    /// layer. Each example's targets are a probability distribution: every yⱼ in [0, 1] and
    /// Σⱼ yⱼ = 1 (one-hot, or soft labels).
    | CrossEntropy
    /// Cₓ = −Σⱼ [yⱼ ln aⱼ + (1 − yⱼ) ln(1 − aⱼ)], one independent binary decision per output
    /// (the lecture's loss for one output; Nielsen's chapter 3 cross-entropy for several);
    /// ∂Cₓ/∂aⱼ = (aⱼ − yⱼ)/(aⱼ(1 − aⱼ)). Needs a sigmoid output layer and targets in [0, 1].
    | BinaryCrossEntropy

/// Values and gradients of the losses, for whole batches (one example per column).
module Loss =

    /// A short lower-case name: "quadratic", "cross-entropy", "binary-cross-entropy".
    let name (loss: Loss) : string =
        match loss with
        | Loss.Quadratic -> "quadratic"
        | Loss.CrossEntropy -> "cross-entropy"
        | Loss.BinaryCrossEntropy -> "binary-cross-entropy"

    /// Why the loss is not defined on the output activation's range, if it is not: cross-entropy
    /// takes ln a, binary cross-entropy ln a and ln(1 − a).
    let pairingProblem (loss: Loss) (output: Activation) : string option =
        match loss, output with
        | Loss.Quadratic, _
        | Loss.CrossEntropy, (Activation.Softmax | Activation.Sigmoid)
        | Loss.BinaryCrossEntropy, Activation.Sigmoid -> None
        | Loss.CrossEntropy, other ->
            Some $"Cross-entropy takes ln of the outputs, so it needs outputs in (0, 1]: use a softmax or sigmoid output layer, not {Activation.name other}."
        | Loss.BinaryCrossEntropy, other ->
            Some $"Binary cross-entropy takes ln a and ln(1 − a), so it needs outputs in (0, 1): use a sigmoid output layer, not {Activation.name other}."

    /// Throws ArgumentException (naming "loss") unless the loss is defined for the output
    /// activation's range (see pairingProblem).
    [<HotPath>]
    let checkPairing (loss: Loss) (output: Activation) : unit =
        match pairingProblem loss output with
        | Some why -> invalidArg "loss" why
        | None -> ()

    /// The range the loss's targets must lie in, besides being finite: "any finite value",
    /// "within [0, 1]".
    let targetRange (loss: Loss) : string =
        match loss with
        | Loss.Quadratic -> "any finite value"
        | Loss.CrossEntropy
        | Loss.BinaryCrossEntropy -> "within [0, 1]"

    /// The place (column-major, row + column × rows) of the first target that is not finite or,
    /// for the cross-entropies, outside targetRange; −1 when every target is valid. A plain loop
    /// that allocates nothing, for the per-batch checks.
    [<HotPath>]
    let firstInvalidTarget (loss: Loss) (y: Matrix<'T>) : int =
        let bounded = loss <> Loss.Quadratic
        let mutable bad, k = -1, 0
        while bad < 0 && k < y.values.Length do
            let v = y.values.[k]
            if not ('T.IsFinite(v)) || (bounded && ('T.IsNegative(v) || 'T.op_GreaterThan (v, 'T.One))) then bad <- k
            k <- k + 1
        bad

    /// How far from 1 an example's cross-entropy targets may sum: the roundings of making and
    /// adding `rows` probabilities in float32, with room to spare (4·rows·ε₃₂), whatever 'T is,
    /// so that probabilities made or stored in float32 pass in float64 too. A sum that is not a
    /// distribution's (0.8, 151) is far outside it.
    let private sumTolerance (rows: int) : float = 4.0 * float rows * Real.epsilon<float32> ()

    /// Σᵢ yᵢⱼ, the sum of example j's targets, in float64.
    let internal exampleSum (y: Matrix<'T>) (j: int) : float =
        let mutable total = 0.0
        for i in 0 .. y.rows - 1 do
            total <- total + Real.toFloat y.values.[j * y.rows + i]
        total

    /// The first example (column) whose cross-entropy targets do not sum to 1, a probability
    /// distribution (|Σᵢ yᵢ − 1| within the roundings of sumTolerance); −1 when every example's
    /// do, and always for the other losses. Allocates nothing.
    [<HotPath>]
    let firstUnnormalisedExample (loss: Loss) (y: Matrix<'T>) : int =
        let mutable bad, j = -1, 0
        while loss = Loss.CrossEntropy && bad < 0 && j < y.cols do
            // Σᵢ yᵢ = 1
            if not (Math.Abs(exampleSum y j - 1.0) <= sumTolerance y.rows) then bad <- j
            j <- j + 1
        bad

    /// What cross-entropy needs of each example's targets and why, for messages.
    let internal distributionRule: string =
        "cross-entropy −Σⱼ yⱼ ln aⱼ compares the outputs with a probability distribution, so each example's targets must sum to 1 (one-hot for a class, or soft labels)"

    /// Throws ArgumentException (naming "y"), naming the entry or the example, unless every target
    /// is valid for the loss (see firstInvalidTarget and firstUnnormalisedExample).
    [<HotPath>]
    let checkTargets (loss: Loss) (y: Matrix<'T>) : unit =
        let bad = firstInvalidTarget loss y
        if bad >= 0 then
            let i, j, v = bad % y.rows, bad / y.rows, y.values.[bad]
            if not ('T.IsFinite(v)) then invalidArg "y" $"Targets must be finite: row {i}, column {j} is {v}."
            else invalidArg "y" $"{name loss} needs targets {targetRange loss}: row {i}, column {j} is {v}."
        let example = firstUnnormalisedExample loss y
        if example >= 0 then
            invalidArg "y" $"The targets of example (column) {example} sum to {exampleSum y example:R}, but {distributionRule}."

    let private checkBatch (a: Matrix<'T>) (y: Matrix<'T>) =
        Matrix.checkSameShape "outputs and targets" a y
        if a.cols = 0 then invalidArg "y" "The batch is empty: the mean cost over zero examples is undefined."

    /// Cₓ = ½‖a − y‖², entry i's term.
    let inline private quadratic (a: 'T) (y: 'T) : 'T =
        let d = a - y
        d * d / Real.ofInt 2

    /// The mean cost computed from the outputs alone, with the lecture's formulas (0·ln 0 = 0).
    /// Infinite where an output sits exactly on the boundary its target forbids; training uses
    /// `value`, which works from z and stays finite.
    let ofOutputs (loss: Loss) (a: Matrix<'T>) (y: Matrix<'T>) : 'T =
        checkBatch a y
        let av, yv = a.values, y.values
        let xlnx (c: 'T) (x: 'T) : 'T = if 'T.IsZero(c) then 'T.Zero else c * Real.ln x
        let mutable total = 0.0
        for i in 0 .. av.Length - 1 do
            let term =
                match loss with
                | Loss.Quadratic -> quadratic av.[i] yv.[i]
                | Loss.CrossEntropy -> -(xlnx yv.[i] av.[i])
                | Loss.BinaryCrossEntropy -> -(xlnx yv.[i] av.[i] + xlnx ('T.One - yv.[i]) ('T.One - av.[i]))
            total <- total + Real.toFloat term
        Real.ofFloat (total / float a.cols)

    /// ∂C/∂a for the batch mean, with the lecture's formulas divided by n: (a − y)/n, −(y/a)/n,
    /// (a − y)/(a(1 − a))/n.
    let gradientOfOutputs (loss: Loss) (a: Matrix<'T>) (y: Matrix<'T>) : Matrix<'T> =
        checkBatch a y
        let n: 'T = Real.ofInt a.cols
        Matrix.map2
            (fun ai yi ->
                match loss with
                | Loss.Quadratic -> (ai - yi) / n
                | Loss.CrossEntropy -> if 'T.IsZero(yi) then 'T.Zero else -(yi / ai) / n
                | Loss.BinaryCrossEntropy -> (ai - yi) / (ai * ('T.One - ai)) / n)
            a y

    /// The sum Σₓ Cₓ of the batch's costs, in float64 whatever 'T is, from the output layer's
    /// weighted input z and output a = σ(z). Cross-entropies work from z through log-sum-exp and
    /// softplus, so no finite z gives NaN or ∞: ln softmax(z)ᵢ = zᵢ − lse(z), ln σ(z) = −softplus(−z),
    /// ln(1 − σ(z)) = −softplus(z). Allocates nothing.
    [<HotPath>]
    let internal total (loss: Loss) (output: Activation) (z: Matrix<'T>) (a: Matrix<'T>) (y: Matrix<'T>) : float =
        checkPairing loss output
        checkBatch a y
        Matrix.checkSameShape "weighted input and outputs" z a
        let zv, av, yv = z.values, a.values, y.values
        let mutable total = 0.0
        match loss, output with
        | Loss.Quadratic, _ ->
            for k in 0 .. av.Length - 1 do
                total <- total + Real.toFloat (quadratic av.[k] yv.[k])
        | Loss.CrossEntropy, Activation.Softmax ->
            let rows = z.rows
            for j in 0 .. z.cols - 1 do
                let column = j * rows
                let struct (top, sum) = ActivationRules.Softmax.exponentials zv column rows null
                let logTotal = Real.ln sum
                for k in column .. column + rows - 1 do
                    // Cₓ = Σᵢ yᵢ (lse(z) − zᵢ), with lse(z) − zᵢ = (max z − zᵢ) + ln Σₖ e^(zₖ − max z):
                    // the difference first, so that huge equal logits (1e300 each) still give ln k,
                    // where adding ln k to 1e300 and subtracting 1e300 would give 0.
                    if not ('T.IsZero(yv.[k])) then total <- total + Real.toFloat (yv.[k] * ((top - zv.[k]) + logTotal))
        | Loss.CrossEntropy, _ ->
            for k in 0 .. zv.Length - 1 do
                // sigmoid: Cₓ = Σᵢ yᵢ softplus(−zᵢ)
                if not ('T.IsZero(yv.[k])) then total <- total + Real.toFloat (yv.[k] * Real.softplus (-zv.[k]))
        | Loss.BinaryCrossEntropy, _ ->
            for k in 0 .. zv.Length - 1 do
                // Cₓ = Σᵢ yᵢ softplus(−zᵢ) + (1 − yᵢ) softplus(zᵢ)
                let positive = if 'T.IsZero(yv.[k]) then 'T.Zero else yv.[k] * Real.softplus (-zv.[k])
                let negative = if 'T.op_Equality (yv.[k], 'T.One) then 'T.Zero else ('T.One - yv.[k]) * Real.softplus zv.[k]
                total <- total + Real.toFloat (positive + negative)
        total

    /// The mean cost C = (1/n) Σₓ Cₓ of a batch of n examples, from the output layer's weighted
    /// input z and output a = σ(z) (see total).
    let value (loss: Loss) (output: Activation) (z: Matrix<'T>) (a: Matrix<'T>) (y: Matrix<'T>) : 'T =
        Real.ofFloat (total loss output z a y / float a.cols)

    /// The loss's own step of the backward pass for a batch of n examples (the columns here, or a
    /// shard of them), written into out (as long as a): ∂C/∂aᴸ, for BP1 to finish (returns false),
    /// or on the fused paths δᴸ = ∂C/∂zᴸ itself (returns true).
    [<HotPath>]
    let internal upstreamInto (loss: Loss) (output: Activation) (z: Matrix<'T>) (a: Matrix<'T>) (y: Matrix<'T>) (examples: int) (out: 'T[]) : bool =
        checkPairing loss output
        checkBatch a y
        Matrix.checkSameShape "weighted input and outputs" z a
        let n: 'T = Real.ofInt examples
        let av, yv, zv = a.values, y.values, z.values
        match loss, output with
        | Loss.Quadratic, _ ->
            // ∇ₐC = (a − y)/n
            for k in 0 .. av.Length - 1 do
                out.[k] <- (av.[k] - yv.[k]) / n
            false
        | Loss.CrossEntropy, Activation.Softmax ->
            // δᴸ = (a Σᵢyᵢ − y)/n, which is (a − y)/n for one-hot targets
            let rows = a.rows
            for j in 0 .. a.cols - 1 do
                let mutable total = 'T.Zero
                for i in 0 .. rows - 1 do total <- total + yv.[j * rows + i]
                for i in 0 .. rows - 1 do
                    let k = j * rows + i
                    out.[k] <- (av.[k] * total - yv.[k]) / n
            true
        | Loss.CrossEntropy, _ ->
            // sigmoid: δᴸ = −y (1 − a)/n, with 1 − a = σ(−z) to keep its digits when a ≈ 1
            for k in 0 .. av.Length - 1 do
                out.[k] <- -(yv.[k] * Real.sigmoid (-zv.[k])) / n
            true
        | Loss.BinaryCrossEntropy, _ ->
            // δᴸ = (a − y)/n
            for k in 0 .. av.Length - 1 do
                out.[k] <- (av.[k] - yv.[k]) / n
            true
