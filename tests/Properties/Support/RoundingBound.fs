/// A first-order bound on the rounding error of backprop run in a lower precision (float32), for
/// the properties that compare it with a float64 oracle.
///
/// Why a fixed relative tolerance cannot work: float32 backprop follows the standard formulas
/// (PyTorch's too), some of which cancel. tanh'(z) = 1 − a² and σ'(z) = a(1 − a) are computed
/// from the rounded output a, so a saturated unit (a ≈ ±1) has a derivative near 0 carrying an
/// absolute error of about ε; softmax's Jᵀg = s ⊙ (g − s·g) subtracts two nearly equal numbers
/// when g's entries are close, leaving an error of about ε·|g|. When a whole layer saturates, or
/// a hidden softmax meets a nearly constant g, the gradient itself is small and those errors are
/// large relative to it: over 20,000 generated cases (2026-11-27) the largest float32 error
/// measured 364 ε₃₂ relative to the gradient's largest entry, in a network whose tanh output layer
/// had saturated, where the old tolerance allowed 256 ε₃₂. No formula is wrong there; the
/// tolerance was.
///
/// The bound: every quantity x of the forward and backward passes carries e(x) with
/// |x̂ − x| ≤ ε·e(x) to first order in ε, built by running error analysis: a sum of n products
/// adds n·Σ|terms| (the worst case of any summation order, so any GEMM provider is covered), a
/// function evaluated to within k ulps adds k·|result|, and every error already present is carried
/// forward through the derivative (|∂y/∂x|·e(x)). ReLU-type units whose z lies within its own
/// error of the kink may take either slope, and are bounded as such.
module FunctionalBackprop.Properties.RoundingBound

open System
open FunctionalBackprop.Core
open FunctionalBackprop.Properties.Tracked

/// Whether z may lie on either side of the kink at 0 given its bound.
let private nearKink (eps: float) (z: float) (ez: float) = abs z <= eps * ez

/// a = σ(z) with its bound.
let private activate (eps: float) (f: Activation) (z: Tracked) : Tracked =
    let map (value: float -> float) (bound: float -> float -> float -> float) =
        let v = Array.map value z.V
        { z with V = v; E = Array.init v.Length (fun i -> bound z.V.[i] z.E.[i] v.[i]) }
    match f with
    | Activation.Identity -> z
    | Activation.Step -> map (fun x -> if x > 0.0 then 1.0 else 0.0) (fun _ _ _ -> 0.0)
    | Activation.ReLU -> map (fun x -> max x 0.0) (fun x ex _ -> if x > 0.0 || nearKink eps x ex then ex else 0.0)
    | Activation.LeakyReLU s ->
        map (fun x -> if x > 0.0 then x else s * x) (fun x ex a -> (if x > 0.0 || nearKink eps x ex then ex else s * ex) + abs a)
    | Activation.Sigmoid ->
        map (fun x -> 1.0 / (1.0 + exp -x)) (fun _ ex a -> a * (1.0 - a) * ex + ulps * a)
    | Activation.Tanh -> map tanh (fun _ ex a -> (1.0 - a * a) * ex + ulps * abs a)
    | Activation.Softmax ->
        let r = z.Rows
        let v = Array.zeroCreate z.V.Length
        let e = Array.zeroCreate z.V.Length
        for j in 0 .. z.Cols - 1 do
            let column = z.V.[j * r .. j * r + r - 1]
            let top = Array.max column
            let exps = column |> Array.map (fun x -> exp (x - top))
            let total = Array.sum exps
            let s = exps |> Array.map (fun x -> x / total)
            // ∂sⱼ/∂zₖ = sⱼ(δⱼₖ − sₖ): the errors of z carried forward.
            let mixed = Array.fold2 (fun acc sk ek -> acc + sk * ek) 0.0 s z.E.[j * r .. j * r + r - 1]
            for i in 0 .. r - 1 do
                v.[i + j * r] <- s.[i]
                // z − max z rounded, exp, the sum of r terms, the division.
                let own = abs (column.[i] - top) + ulps + float r + 1.0
                e.[i + j * r] <- s.[i] * (z.E.[i + j * r] + mixed + own)
        { z with V = v; E = e }

/// The loss's step: ∂C/∂aᴸ or, on the fused paths, δᴸ; and whether it is fused.
let private upstream (loss: Loss) (f: Activation) (z: Tracked) (a: Tracked) (y: float[]) : Tracked * bool =
    let n = float a.Cols
    let each (value: int -> float) (bound: int -> float) = { a with V = Array.init a.V.Length value; E = Array.init a.V.Length bound }
    match loss, f with
    | Loss.Quadratic, _ ->
        // (a − y)/n: a's error, the subtraction and the division.
        each (fun k -> (a.V.[k] - y.[k]) / n) (fun k -> (a.E.[k] + 2.0 * (abs a.V.[k] + abs y.[k])) / n), false
    | Loss.CrossEntropy, Activation.Softmax ->
        // (a Σy − y)/n
        let r = a.Rows
        let totals = Array.init a.Cols (fun j -> Array.sum y.[j * r .. j * r + r - 1])
        each (fun k -> (a.V.[k] * totals.[k / r] - y.[k]) / n)
            (fun k -> (a.E.[k] * totals.[k / r] + (float r + 3.0) * (abs a.V.[k] * totals.[k / r] + abs y.[k])) / n), true
    | Loss.CrossEntropy, _ ->
        // −y σ(−z)/n, σ(−z) from z
        each (fun k -> -(y.[k] * (1.0 / (1.0 + exp z.V.[k]))) / n)
            (fun k ->
                let s = 1.0 / (1.0 + exp z.V.[k])
                abs y.[k] * (s * (1.0 - s) * z.E.[k] + (ulps + 2.0) * s) / n), true
    | Loss.BinaryCrossEntropy, _ ->
        each (fun k -> (a.V.[k] - y.[k]) / n) (fun k -> (a.E.[k] + 2.0 * (abs a.V.[k] + abs y.[k])) / n), true

/// δ = J_σ(z)ᵀ g with its bound, given z, a = σ(z) and g = ∂C/∂a.
let private backward (eps: float) (f: Activation) (z: Tracked) (a: Tracked) (g: Tracked) : Tracked =
    /// δ = g·d for a derivative d with bound ed.
    let scaled (derivative: int -> float * float) =
        let v = Array.zeroCreate g.V.Length
        let e = Array.zeroCreate g.V.Length
        for k in 0 .. v.Length - 1 do
            let d, ed = derivative k
            v.[k] <- g.V.[k] * d
            e.[k] <- abs d * g.E.[k] + abs g.V.[k] * ed + abs v.[k]
        { g with V = v; E = e }
    let rectifier (slope: float) =
        scaled (fun k ->
            let x = z.V.[k]
            if nearKink eps x z.E.[k] then (if x > 0.0 then 1.0 else slope), (1.0 - slope) / eps
            elif x > 0.0 then 1.0, 0.0
            else slope, 0.0)
    match f with
    | Activation.Identity -> g
    | Activation.Step -> { g with V = Array.zeroCreate g.V.Length; E = Array.zeroCreate g.V.Length }
    | Activation.ReLU -> rectifier 0.0
    | Activation.LeakyReLU s -> rectifier s
    | Activation.Sigmoid ->
        // a(1 − a) from the rounded a: a's error through 1 − 2a, then 1 − a and the product.
        scaled (fun k -> let x = a.V.[k] in x * (1.0 - x), abs (1.0 - 2.0 * x) * a.E.[k] + 2.0 * abs x)
    | Activation.Tanh ->
        // 1 − a² from the rounded a: a's error through 2a, then a² and the subtraction.
        scaled (fun k -> let x = a.V.[k] in 1.0 - x * x, 2.0 * abs x * a.E.[k] + x * x + abs (1.0 - x * x))
    | Activation.Softmax ->
        let r = g.Rows
        let v = Array.zeroCreate g.V.Length
        let e = Array.zeroCreate g.V.Length
        for j in 0 .. g.Cols - 1 do
            let at i = i + j * r
            let sg = Seq.sum (seq { for k in 0 .. r - 1 -> a.V.[at k] * g.V.[at k] })
            let esg =
                Seq.sum (seq { for k in 0 .. r - 1 -> abs g.V.[at k] * a.E.[at k] + a.V.[at k] * g.E.[at k] + float r * abs (a.V.[at k] * g.V.[at k]) })
            for i in 0 .. r - 1 do
                let t = g.V.[at i] - sg
                let et = g.E.[at i] + esg + abs g.V.[at i] + abs sg
                v.[at i] <- a.V.[at i] * t
                e.[at i] <- abs t * a.E.[at i] + a.V.[at i] * et + abs v.[at i]
        { g with V = v; E = e }

/// z = a ⊙ m for dropout's multipliers m (one product each: the error carried through |m| plus
/// one rounding; and one more for the multiplier 1/(1 − p) itself, rounded in the working type).
let private masked (mode: Mode) (index: int) (d: Dropout) (a: Tracked) : Tracked =
    let m k = Dropout.multiplier<float> d mode index (k / a.Rows) (k % a.Rows)
    let v = Array.init a.V.Length (fun k -> a.V.[k] * m k)
    { a with V = v; E = Array.init v.Length (fun k -> abs (m k) * a.E.[k] + 2.0 * abs v.[k]) }

/// The kind's own forward step with its bound: z from the layer's input a (of the given shape).
let private own (eps: float) (mode: Mode) (index: int) (shape: Shape) (layer: Layer<float>) (a: Tracked) : Tracked =
    match layer with
    | Layer.Dense d -> affine d.Weights d.Biases a
    | Layer.Activation _
    | Layer.Flatten -> a
    | Layer.Dropout d -> masked mode index d a
    | Layer.Conv2D c -> KindBounds.convolve c shape a
    | Layer.MaxPool2D p -> KindBounds.maxPool eps p shape a
    | Layer.AvgPool2D p -> KindBounds.avgPool p shape a
    | Layer.BatchNorm b -> (KindBounds.batchNorm b (Mode.key mode).IsSome shape a).Z

/// The kind's own backward step with its bounds: each parameter tensor's gradient, in order, and
/// the gradient sent below, from δ = ∂C/∂z.
let private ownBackward (eps: float) (mode: Mode) (index: int) (shape: Shape) (layer: Layer<float>) (a: Tracked) (delta: Tracked) : float[] list * Tracked =
    match layer with
    | Layer.Dense d -> let dW, db, below = layerBounds d.Weights a delta in [ dW; db ], below
    | Layer.Activation _
    | Layer.Flatten -> [], delta
    | Layer.Dropout d -> [], masked mode index d delta
    | Layer.Conv2D c -> KindBounds.convolveBackward c shape a delta
    | Layer.MaxPool2D p -> [], KindBounds.maxPoolBackward eps p shape a delta
    | Layer.AvgPool2D p -> [], KindBounds.avgPoolBackward p shape a delta
    | Layer.BatchNorm b -> KindBounds.batchNormBackward b (Mode.key mode).IsSome shape a delta

/// The forward pass with its bounds: each layer's (input, z, a), input side first.
let private forward (eps: float) (mode: Mode) (network: Network<float>) (x: Matrix<float>) =
    let input = { Rows = x.Rows; Cols = x.Cols; V = entries x; E = Array.zeroCreate (x.Rows * x.Cols) }
    network.Layers
    |> List.indexed
    |> List.scan (fun (_, _, a) (i, l) -> let z = own eps mode (i + 1) network.Shapes.[i] l a in a, z, activate eps (Layer.activation l) z) (input, input, input)
    |> List.tail

/// For a network (float64 parameters that the lower-precision network holds exactly), a mode, a
/// batch x and targets y: the bound e of every entry of backprop's result in the order the
/// properties flatten it (each parameter tensor column-major, in order; then ∂C/∂x), such that the
/// lower-precision result differs from the exact one by at most eps·e to first order.
let gradient (eps: float) (mode: Mode) (loss: Loss) (network: Network<float>) (x: Matrix<float>) (y: Matrix<float>) : float[] =
    let trace = forward eps mode network x
    let _, zL, aL = List.last trace
    let top, fused = upstream loss network.OutputActivation zL aL (entries y)
    let rec down (layers: (int * Layer<float> * (Tracked * Tracked * Tracked)) list) (g: Tracked) (first: bool) (acc: float[] list) =
        match layers with
        | [] -> acc, g
        | (i, l, (a, z, out)) :: rest ->
            let delta = if first && fused then g else backward eps (Layer.activation l) z out g
            let tensors, below = ownBackward eps mode (i + 1) network.Shapes.[i] l a delta
            down rest below false (tensors @ acc)
    let layers = List.mapi2 (fun i l t -> i, l, t) network.Layers trace
    let bounds, dx = down (List.rev layers) top true []
    Array.concat [ yield! bounds; yield dx.E ]

/// The bound e of the batch's mean cost C, such that the lower-precision cost differs from the
/// exact one by at most eps·e to first order: the output layer's error carried through
/// ∂C/∂zᴸ = δᴸ (|δᴸ|·e(zᴸ)), and each example's terms, non-negative for every loss here,
/// evaluated within a few ulps (log-sum-exp, softplus: 8 allowed) and summed (one rounding per
/// term, in float64, plus the final rounding to the working type).
let cost (eps: float) (mode: Mode) (loss: Loss) (network: Network<float>) (x: Matrix<float>) (y: Matrix<float>) : float =
    let _, zL, aL = List.last (forward eps mode network x)
    let top, fused = upstream loss network.OutputActivation zL aL (entries y)
    let delta = if fused then top else backward eps network.OutputActivation zL aL top
    let carried = Array.fold2 (fun acc d e -> acc + abs d * e) 0.0 delta.V zL.E
    let c = Forward.cost mode loss network x y
    carried + (float zL.V.Length + 10.0) * abs c
