namespace FunctionalBackprop.Core

open System
open System.Numerics
open FunctionalBackprop.Core.GenericArithmetic

/// Batch normalisation (Ioffe and Szegedy, 2015) over channels (images: each channel's values
/// over the batch's examples and pixels) or units (vectors: each unit over the examples):
/// z = γ·x̂ + β with x̂ = (x − μ)/√(σ² + ε). In training, μ and σ² are the batch's (σ² biased,
/// dividing by the count M), and the layer reports the batch's count, Σx and Σx² so that the
/// training fold updates the running statistics, as PyTorch does with momentum m:
/// μ_run ← (1 − m)μ_run + m·μ, σ²_run ← (1 − m)σ²_run + m·σ²·M/(M − 1) (unbiased); in
/// inference μ and σ² are the running ones. Under shards each shard normalises with its own
/// examples' statistics (PyTorch's data-parallel default, without SyncBatchNorm), and the running
/// statistics take the whole batch's (the shards' sums added in shard order). Immutable.
type BatchNorm<'T when 'T :> IFloatingPointIeee754<'T>> =
    internal
        { gamma: Matrix<'T>
          beta: Matrix<'T>
          runningMean: Matrix<'T>
          runningVariance: Matrix<'T>
          momentum: float
          epsilon: float }

    /// γ, one per channel.
    member b.Scale = b.gamma

    /// β, one per channel.
    member b.Shift = b.beta

    /// The running mean, one per channel.
    member b.RunningMean = b.runningMean

    /// The running (unbiased) variance, one per channel.
    member b.RunningVariance = b.runningVariance

    /// The running statistics' momentum m.
    member b.Momentum = b.momentum

    /// ε.
    member b.Epsilon = b.epsilon

    /// "batchnorm(6, m = 0.1, ε = 1E-05)".
    override b.ToString() =
        let inv (x: float) = x.ToString(Globalization.CultureInfo.InvariantCulture)
        $"batchnorm({b.gamma.rows}, m = {inv b.momentum}, ε = {inv b.epsilon})"

/// The batch-normalisation kind.
module BatchNorm =

    /// Why the settings cannot be, if they cannot: 0 ≤ m ≤ 1 and ε > 0, finite.
    let settingsProblem (momentum: float) (epsilon: float) : string option =
        let inv (x: float) = x.ToString(Globalization.CultureInfo.InvariantCulture)
        if not (momentum >= 0.0 && momentum <= 1.0) then Some $"A batch normalisation's momentum must lie in [0, 1], got {inv momentum}."
        elif not (epsilon > 0.0 && Double.IsFinite epsilon) then Some $"A batch normalisation's ε must be positive and finite, got {inv epsilon}."
        else None

    /// The channels and the values per channel of an example: C and H·W for an image, the units
    /// and 1 for a vector.
    let internal channels (input: Shape) : struct (int * int) =
        match input with
        | Shape.Image(c, h, w) -> struct (c, h * w)
        | Shape.Vector n -> struct (n, 1)

    /// Shape rule: the input's shape.
    let outputShape (input: Shape) : Shape = input

    /// γ (scale) and β (shift), one per channel, neither decayed by L2.
    let parameterSpecs (input: Shape) : ParameterSpec list =
        let struct (c, _) = channels input
        [ { Name = "weight"; Symbol = "γ"; Rows = c; Columns = 1; Decays = false }
          { Name = "bias"; Symbol = "β"; Rows = c; Columns = 1; Decays = false } ]

    /// The running mean and variance, one per channel: state, not trained.
    let stateSpecs (input: Shape) : ParameterSpec list =
        let struct (c, _) = channels input
        [ { Name = "running_mean"; Symbol = "μ"; Rows = c; Columns = 1; Decays = false }
          { Name = "running_var"; Symbol = "σ²"; Rows = c; Columns = 1; Decays = false } ]

    /// The forward step's buffers: x̂ per example, and (in its first column) each channel's μ and
    /// 1/√(σ² + ε) and whether the step trained.
    let scratchRows (input: Shape) : int list =
        let struct (c, _) = channels input
        [ input.Size; 2 * c + 1 ]

    /// The batch statistics a training step reports: the count, then Σx and Σx² per channel.
    let statisticsLength (input: Shape) : int =
        let struct (c, _) = channels input
        1 + 2 * c

    /// A layer from γ, β and the running statistics (checked: one per channel, finite, variances
    /// not negative) and its settings.
    let create (gamma: Matrix<'T>) (beta: Matrix<'T>) (runningMean: Matrix<'T>) (runningVariance: Matrix<'T>) (momentum: float) (epsilon: float) : BatchNorm<'T> =
        match settingsProblem momentum epsilon with
        | Some why -> invalidArg "momentum" why
        | None -> ()
        for name, m in [ "gamma", gamma; "beta", beta; "runningMean", runningMean; "runningVariance", runningVariance ] do
            if isNull (box m) then nullArg name
            if m.cols <> 1 || m.rows <> gamma.rows then invalidArg name $"Batch normalisation holds one {name} per channel ({gamma.rows}×1), got {Matrix.shape m}."
            Dense.checkFinite name m
        if runningVariance.values |> Array.exists 'T.IsNegative then invalidArg "runningVariance" "A variance cannot be negative."
        { gamma = gamma; beta = beta; runningMean = runningMean; runningVariance = runningVariance; momentum = momentum; epsilon = epsilon }

    /// A fresh layer on inputs of the given shape: γ = 1, β = 0, running mean 0 and variance 1.
    let init<'T when 'T :> IFloatingPointIeee754<'T>> (input: Shape) (momentum: float) (epsilon: float) : BatchNorm<'T> =
        let struct (c, _) = channels input
        let filled (v: 'T) = Matrix.wrap c 1 (Array.create c v)
        create (filled 'T.One) (filled 'T.Zero) (filled 'T.Zero) (filled 'T.One) momentum epsilon

    /// The same layer in another real type (float ↔ float32).
    let convert<'T, 'U when 'T :> IFloatingPointIeee754<'T> and 'U :> IFloatingPointIeee754<'U>> (b: BatchNorm<'T>) : BatchNorm<'U> =
        { gamma = Matrix.convert b.gamma; beta = Matrix.convert b.beta; runningMean = Matrix.convert b.runningMean
          runningVariance = Matrix.convert b.runningVariance; momentum = b.momentum; epsilon = b.epsilon }

    /// [γ; β].
    let parameters (b: BatchNorm<'T>) : Matrix<'T> list = [ b.gamma; b.beta ]

    /// [running mean; running variance].
    let state (b: BatchNorm<'T>) : Matrix<'T> list = [ b.runningMean; b.runningVariance ]

    /// The same layer over new parameter and state arrays of the same shapes (no checks).
    let internal withTensors (parameters: Matrix<'T> list) (state: Matrix<'T> list) (b: BatchNorm<'T>) : BatchNorm<'T> =
        { b with gamma = parameters.[0]; beta = parameters.[1]; runningMean = state.[0]; runningVariance = state.[1] }

    /// 1/√(v + ε) in float64, rounded once.
    let private inverseDeviation (v: float) (epsilon: float) : 'T = Real.ofFloat (1.0 / Math.Sqrt(v + epsilon))

    /// z = γ·x̂ + β with x̂ = (x − μ)/√(σ² + ε): the batch's statistics in training (with count,
    /// Σx and Σx² reported into statistics), the running ones in inference; x̂, μ and 1/√(σ² + ε)
    /// kept in scratch for the backward step.
    [<HotPath>]
    let internal forwardInto (b: BatchNorm<'T>) (training: bool) (input: Shape) (a: Matrix<'T>) (z: Matrix<'T>) (scratch: Matrix<'T>[]) (statistics: ArraySegment<float>) : unit =
        let struct (c, hw) = channels input
        let xhat, kept = scratch.[0].values, scratch.[1].values
        let n = a.cols
        let m = float (n * hw)
        let reported, at = statistics.Array, statistics.Offset
        if training then reported.[at] <- m
        for ch in 0 .. c - 1 do
            let mutable mu, invStd = b.runningMean.values.[ch], inverseDeviation (Real.toFloat b.runningVariance.values.[ch]) b.epsilon
            if training then
                // μ = Σx/M, σ² = Σ(x − μ)²/M (biased), in float64
                let mutable sum, squares = 0.0, 0.0
                for j in 0 .. n - 1 do
                    for k in j * a.rows + ch * hw .. j * a.rows + ch * hw + hw - 1 do
                        let x = Real.toFloat a.values.[k]
                        sum <- sum + x
                        squares <- squares + x * x
                let mean = sum / m
                let mutable deviations = 0.0
                for j in 0 .. n - 1 do
                    for k in j * a.rows + ch * hw .. j * a.rows + ch * hw + hw - 1 do
                        let d = Real.toFloat a.values.[k] - mean
                        deviations <- deviations + d * d
                mu <- Real.ofFloat mean
                invStd <- inverseDeviation (deviations / m) b.epsilon
                reported.[at + 1 + ch] <- sum
                reported.[at + 1 + c + ch] <- squares
            kept.[ch] <- mu
            kept.[c + ch] <- invStd
            let gamma, beta = b.gamma.values.[ch], b.beta.values.[ch]
            for j in 0 .. n - 1 do
                for k in j * a.rows + ch * hw .. j * a.rows + ch * hw + hw - 1 do
                    // x̂ = (x − μ)/√(σ² + ε), z = γ·x̂ + β
                    xhat.[k] <- (a.values.[k] - mu) * invStd
                    z.values.[k] <- gamma * xhat.[k] + beta
        kept.[2 * c] <- if training then 'T.One else 'T.Zero

    /// From δ = ∂C/∂z: ∂C/∂γ = Σδx̂ and ∂C/∂β = Σδ per channel; ∂C/∂x = (γ/√(σ² + ε))/M ·
    /// (Mδ − Σδ − x̂Σδx̂) in training (μ and σ² depend on every x of the batch), γδ/√(σ² + ε) in
    /// inference.
    [<HotPath>]
    let internal backwardInto (b: BatchNorm<'T>) (input: Shape) (delta: Matrix<'T>) (scratch: Matrix<'T>[]) (gradient: Matrix<'T>[]) (inputGradient: Matrix<'T> voption) : unit =
        let struct (c, hw) = channels input
        let xhat, kept = scratch.[0].values, scratch.[1].values
        let training = not ('T.IsZero kept.[2 * c])
        let n = delta.cols
        let m: 'T = Real.ofInt (n * hw)
        for ch in 0 .. c - 1 do
            // ∂C/∂β = Σδ, ∂C/∂γ = Σδx̂, in float64
            let mutable sumDelta, sumDeltaXhat = 0.0, 0.0
            for j in 0 .. n - 1 do
                for k in j * delta.rows + ch * hw .. j * delta.rows + ch * hw + hw - 1 do
                    let d = Real.toFloat delta.values.[k]
                    sumDelta <- sumDelta + d
                    sumDeltaXhat <- sumDeltaXhat + d * Real.toFloat xhat.[k]
            let dBeta, dGamma: 'T * 'T = Real.ofFloat sumDelta, Real.ofFloat sumDeltaXhat
            gradient.[0].values.[ch] <- dGamma
            gradient.[1].values.[ch] <- dBeta
            match inputGradient with
            | ValueNone -> ()
            | ValueSome below ->
                let scale = b.gamma.values.[ch] * kept.[c + ch]
                for j in 0 .. n - 1 do
                    for k in j * delta.rows + ch * hw .. j * delta.rows + ch * hw + hw - 1 do
                        below.values.[k] <-
                            if training then scale / m * (m * delta.values.[k] - dBeta - xhat.[k] * dGamma)
                            else scale * delta.values.[k]

    /// The running statistics after a training step whose batch reported `statistics` (the
    /// shards' count, Σx and Σx², added): μ_run ← (1 − m)μ_run + m·μ and, when the count is at
    /// least 2, σ²_run ← (1 − m)σ²_run + m·(Σx² − Σx·μ)/(count − 1), written into the target
    /// layer's state arrays (the fold's own copies).
    let internal updateInto (b: BatchNorm<'T>) (statistics: ArraySegment<float>) (target: BatchNorm<'T>) : unit =
        let c = b.gamma.rows
        let count = statistics.[0]
        for ch in 0 .. c - 1 do
            let mean, variance = Real.toFloat b.runningMean.values.[ch], Real.toFloat b.runningVariance.values.[ch]
            if count > 0.0 then
                let mu = statistics.[1 + ch] / count
                target.runningMean.values.[ch] <- Real.ofFloat ((1.0 - b.momentum) * mean + b.momentum * mu)
                target.runningVariance.values.[ch] <-
                    if count >= 2.0 then
                        let unbiased = Math.Max(0.0, (statistics.[1 + c + ch] - statistics.[1 + ch] * mu) / (count - 1.0))
                        Real.ofFloat ((1.0 - b.momentum) * variance + b.momentum * unbiased)
                    else b.runningVariance.values.[ch]
            else
                target.runningMean.values.[ch] <- b.runningMean.values.[ch]
                target.runningVariance.values.[ch] <- b.runningVariance.values.[ch]

    /// z for the batch, one scalar at a time: the batch's μ and σ² (from the scalars, so that
    /// their derivatives flow) in training, the running ones in inference.
    let scalarForward (s: ScalarArithmetic<'S>) (b: BatchNorm<'T>) (training: bool) (input: Shape) (tensors: 'S[][]) (examples: 'S[][]) : 'S[][] =
        let struct (c, hw) = channels input
        let gamma, beta = tensors.[0], tensors.[1]
        let m = examples.Length * hw
        let stats =
            Array.init c (fun ch ->
                let values = [| for a in examples do yield! a.[ch * hw .. ch * hw + hw - 1] |]
                if training then
                    let mu = s.Divide(s.Sum values, s.Lift(float m))
                    let variance = s.Divide(s.Sum(values |> Array.map (fun x -> let d = s.Subtract(x, mu) in s.Multiply(d, d))), s.Lift(float m))
                    mu, s.Divide(s.Lift 1.0, s.Sqrt(s.Add(variance, s.Lift b.epsilon)))
                else
                    s.Lift(Real.toFloat b.runningMean.values.[ch]), s.Lift(1.0 / Math.Sqrt(Real.toFloat b.runningVariance.values.[ch] + b.epsilon)))
        examples |> Array.map (fun a ->
            a |> Array.mapi (fun k x ->
                let ch = k / hw
                let mu, invStd = stats.[ch]
                s.Add(s.Multiply(gamma.[ch], s.Multiply(s.Subtract(x, mu), invStd)), beta.[ch])))
