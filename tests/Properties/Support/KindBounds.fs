/// RoundingBound's running error analysis for the kinds over images and batches: convolution (an
/// affine map of the windows laid out as columns), max and average pooling, and batch
/// normalisation. Each function gives the forward step's bound, or the backward step's bounds of
/// the parameter gradients and of what the layer sends below, as the library computes them.
module FunctionalBackprop.Properties.KindBounds

open FunctionalBackprop.Core
open FunctionalBackprop.Properties.Tracked

/// C, H, W of an image (a vector of n as n × 1 × 1).
let private dimensions (shape: Shape) =
    match shape with
    | Shape.Image(c, h, w) -> c, h, w
    | Shape.Vector n -> n, 1, 1

/// Hₒ, Wₒ: ⌊(H + 2p − k)/s⌋ + 1 on each axis.
let private outputSize (kernel: Window) (stride: Window) (padding: Window) (h: int) (w: int) =
    (h + 2 * padding.Height - kernel.Height) / stride.Height + 1, (w + 2 * padding.Width - kernel.Width) / stride.Width + 1

/// The place within an example of channel ch's pixel under entry (ky, kx) of window (oy, ox), or
/// −1 in the padding.
let private place (h: int) (w: int) (stride: Window) (padding: Window) (ch: int) (oy: int) (ox: int) (ky: int) (kx: int) =
    let y, x = oy * stride.Height - padding.Height + ky, ox * stride.Width - padding.Width + kx
    if y >= 0 && y < h && x >= 0 && x < w then (ch * h + y) * w + x else -1

/// The entries of a batch (one example per column) read by each window, one column per output
/// position of each example, C·kₕ·k_w rows: the place in the batch's values, or −1 (padding).
let private columnSources (shape: Shape) (kernel: Window) (stride: Window) (padding: Window) (examples: int) : int[] =
    let c, h, w = dimensions shape
    let ho, wo = outputSize kernel stride padding h w
    [| for j in 0 .. examples - 1 do
           for oy in 0 .. ho - 1 do
               for ox in 0 .. wo - 1 do
                   for ch in 0 .. c - 1 do
                       for ky in 0 .. kernel.Height - 1 do
                           for kx in 0 .. kernel.Width - 1 ->
                               let k = place h w stride padding ch oy ox ky kx
                               if k < 0 then -1 else k + j * c * h * w |]

/// The windows as columns (zero, exactly, in the padding).
let private columns (layer: Conv2D<float>) (shape: Shape) (a: Tracked) : Tracked * int[] =
    let sources = columnSources shape layer.Kernel layer.Stride layer.Padding a.Cols
    let rows = layer.Kernels.Cols
    let gather (values: float[]) = sources |> Array.map (fun s -> if s < 0 then 0.0 else values.[s])
    { Rows = rows; Cols = sources.Length / rows; V = gather a.V; E = gather a.E }, sources

/// Sums entries into the places they came from, each sum's rounding bounded by the count of its
/// terms times the sum of their magnitudes.
let private scatter (size: int) (sources: int[]) (values: Tracked) : float[] * float[] =
    let v, e, magnitude, terms = Array.zeroCreate size, Array.zeroCreate size, Array.zeroCreate size, Array.zeroCreate size
    sources |> Array.iteri (fun k s ->
        if s >= 0 then
            v.[s] <- v.[s] + values.V.[k]
            e.[s] <- e.[s] + values.E.[k]
            magnitude.[s] <- magnitude.[s] + abs values.V.[k]
            terms.[s] <- terms.[s] + 1.0)
    v, Array.init size (fun s -> e.[s] + terms.[s] * magnitude.[s])

/// z[o·P + p] of each example from y[o + p·filters] of the product's columns, or back.
let private reorder (filters: int) (positions: int) (toChannels: bool) (source: float[]) : float[] =
    let block = filters * positions
    Array.init source.Length (fun k ->
        let j, r = k / block, k % block
        if toChannels then source.[j * block + (r % positions) * filters + r / positions]
        else source.[j * block + (r % filters) * positions + r / filters])

/// z = w ⋆ a + b: the affine map of the columns, reordered channel by channel.
let convolve (layer: Conv2D<float>) (shape: Shape) (a: Tracked) : Tracked =
    let cols, _ = columns layer shape a
    let y = affine layer.Kernels layer.Biases cols
    let positions = cols.Cols / a.Cols
    let filters = layer.Filters
    { Rows = filters * positions; Cols = a.Cols; V = reorder filters positions true y.V; E = reorder filters positions true y.E }

/// ∂C/∂w, ∂C/∂b and ∂C/∂a: the affine map's bounds on the columns, the columns' gradient summed
/// back into the pixels.
let convolveBackward (layer: Conv2D<float>) (shape: Shape) (a: Tracked) (delta: Tracked) : float[] list * Tracked =
    let cols, sources = columns layer shape a
    let filters = layer.Filters
    let positions = cols.Cols / a.Cols
    let d = { Rows = filters; Cols = cols.Cols; V = reorder filters positions false delta.V; E = reorder filters positions false delta.E }
    let dW, db, below = layerBounds layer.Kernels cols d
    let v, e = scatter a.V.Length sources below
    [ dW; db ], { a with V = v; E = e }

/// Each output's window: its places in the batch's values that are not padding (outputs in
/// example, channel, row, column order).
let private poolWindows (shape: Shape) (kernel: Window) (stride: Window) (padding: Window) (examples: int) : int[][] =
    let c, h, w = dimensions shape
    let ho, wo = outputSize kernel stride padding h w
    [| for j in 0 .. examples - 1 do
           for ch in 0 .. c - 1 do
               for oy in 0 .. ho - 1 do
                   for ox in 0 .. wo - 1 ->
                       [| for ky in 0 .. kernel.Height - 1 do
                              for kx in 0 .. kernel.Width - 1 do
                                  let k = place h w stride padding ch oy ox ky kx
                                  if k >= 0 then yield k + j * c * h * w |] |]

/// The window's first maximum, and the other places the lower precision might take instead: a
/// value within the two bounds of it, unless equal to it and exact on both sides (then the same
/// comparisons pick the same place).
let private choice (eps: float) (a: Tracked) (window: int[]) : int * int[] =
    let best = window |> Array.fold (fun b k -> if b < 0 || a.V.[k] > a.V.[b] then k else b) -1
    let rivals =
        window |> Array.filter (fun k ->
            k <> best
            && a.V.[best] - a.V.[k] <= eps * (a.E.[best] + a.E.[k])
            && not (a.V.[k] = a.V.[best] && a.E.[k] = 0.0 && a.E.[best] = 0.0))
    best, rivals

/// z = the largest value of each window: off by the chosen value's error, or if a rival is
/// taken, by its error and its distance from the maximum (both within the bounds).
let maxPool (eps: float) (p: MaxPool2D) (shape: Shape) (a: Tracked) : Tracked =
    let windows = poolWindows shape p.Kernel p.Stride p.Padding a.Cols
    let chosen = windows |> Array.map (choice eps a)
    let v = chosen |> Array.map (fun (best, _) -> a.V.[best])
    let e = chosen |> Array.map (fun (best, rivals) -> a.E.[best] + 2.0 * (Array.append [| a.E.[best] |] (rivals |> Array.map (fun k -> a.E.[k])) |> Array.max))
    { Rows = v.Length / a.Cols; Cols = a.Cols; V = v; E = e }

/// ∂C/∂a: each output's δ to its window's first maximum; where a rival might be taken, the
/// whole δ may land on either, which no rounding bound covers (|δ|/ε, as for a ReLU at its kink).
let maxPoolBackward (eps: float) (p: MaxPool2D) (shape: Shape) (a: Tracked) (delta: Tracked) : Tracked =
    let windows = poolWindows shape p.Kernel p.Stride p.Padding a.Cols
    let sources = Array.zeroCreate windows.Length
    let extra = Array.zeroCreate a.V.Length
    windows |> Array.iteri (fun o window ->
        let best, rivals = choice eps a window
        sources.[o] <- best
        if rivals.Length > 0 then
            for k in Array.append [| best |] rivals do
                extra.[k] <- extra.[k] + (abs delta.V.[o] + eps * delta.E.[o]) / eps)
    let v, e = scatter a.V.Length sources delta
    { a with V = v; E = Array.map2 (+) e extra }

/// z = (Σ window)/(kₕ·k_w): the sum's rounding and the division's.
let avgPool (p: AvgPool2D) (shape: Shape) (a: Tracked) : Tracked =
    let windows = poolWindows shape p.Kernel p.Stride p.Padding a.Cols
    let count = float (p.Kernel.Height * p.Kernel.Width)
    let v = windows |> Array.map (fun window -> (window |> Array.sumBy (fun k -> a.V.[k])) / count)
    let e =
        windows |> Array.mapi (fun o window ->
            (Array.sumBy (fun k -> a.E.[k]) window + float window.Length * Array.sumBy (fun k -> abs a.V.[k]) window) / count + abs v.[o])
    { Rows = v.Length / a.Cols; Cols = a.Cols; V = v; E = e }

/// ∂C/∂a: δ/(kₕ·k_w) added to every pixel of each window.
let avgPoolBackward (p: AvgPool2D) (shape: Shape) (a: Tracked) (delta: Tracked) : Tracked =
    let windows = poolWindows shape p.Kernel p.Stride p.Padding a.Cols
    let count = float (p.Kernel.Height * p.Kernel.Width)
    let sources = windows |> Array.mapi (fun o window -> window |> Array.map (fun k -> k, o)) |> Array.concat
    let shares =
        { Rows = 1; Cols = sources.Length
          V = sources |> Array.map (fun (_, o) -> delta.V.[o] / count)
          E = sources |> Array.map (fun (_, o) -> delta.E.[o] / count + abs (delta.V.[o] / count)) }
    let v, e = scatter a.V.Length (Array.map fst sources) shares
    { a with V = v; E = e }

/// Batch normalisation's forward step: x̂ and z, with 1/√(σ² + ε) and its bound per channel.
type Normalised = { XHat: Tracked; Z: Tracked; InvStd: float[]; InvStdE: float[] }

/// The channels and values per channel of an example.
let private channels (shape: Shape) =
    match shape with
    | Shape.Image(c, h, w) -> c, h * w
    | Shape.Vector n -> n, 1

/// The places of channel ch's values in a batch of `examples` examples of `rows` values each.
let private channelPlaces (rows: int) (hw: int) (examples: int) (ch: int) : int[] =
    [| for j in 0 .. examples - 1 do
           for t in 0 .. hw - 1 -> j * rows + ch * hw + t |]

/// x̂ = (x − μ)/√(σ² + ε), z = γx̂ + β: in training μ and σ² are the batch's, summed in float64
/// (x's errors carried, M·Σ|terms| for each sum) and rounded; in inference the running ones,
/// exact, with 1/√(σ² + ε) rounded once.
let batchNorm (b: BatchNorm<float>) (training: bool) (shape: Shape) (a: Tracked) : Normalised =
    let c, hw = channels shape
    let xhatV, xhatE, zV, zE = Array.zeroCreate a.V.Length, Array.zeroCreate a.V.Length, Array.zeroCreate a.V.Length, Array.zeroCreate a.V.Length
    let inv, invE = Array.zeroCreate c, Array.zeroCreate c
    let gamma, beta = b.Scale.ToArray(), b.Shift.ToArray()
    for ch in 0 .. c - 1 do
        let places = channelPlaces a.Rows hw a.Cols ch
        let m = float places.Length
        let mu, muE =
            if training then
                let mu = places |> Array.averageBy (fun k -> a.V.[k])
                mu, (places |> Array.sumBy (fun k -> a.E.[k] + m * abs a.V.[k])) / m + abs mu
            else b.RunningMean.ToArray().[ch], 0.0
        let variance, varianceE =
            if training then
                let v = places |> Array.averageBy (fun k -> (a.V.[k] - mu) ** 2.0)
                v, (places |> Array.sumBy (fun k -> 2.0 * abs (a.V.[k] - mu) * (a.E.[k] + muE))) / m + (m + 3.0) * v
            else b.RunningVariance.ToArray().[ch], 0.0
        inv.[ch] <- 1.0 / sqrt (variance + b.Epsilon)
        invE.[ch] <- 0.5 * inv.[ch] ** 3.0 * varianceE + 3.0 * inv.[ch]
        for k in places do
            let d = a.V.[k] - mu
            xhatV.[k] <- d * inv.[ch]
            xhatE.[k] <- (a.E.[k] + muE + abs d) * inv.[ch] + abs d * invE.[ch] + abs xhatV.[k]
            zV.[k] <- gamma.[ch] * xhatV.[k] + beta.[ch]
            zE.[k] <- abs gamma.[ch] * xhatE.[k] + abs (gamma.[ch] * xhatV.[k]) + abs zV.[k]
    { XHat = { a with V = xhatV; E = xhatE }; Z = { a with V = zV; E = zE }; InvStd = inv; InvStdE = invE }

/// ∂C/∂γ = Σδx̂, ∂C/∂β = Σδ (float64 sums, rounded) and ∂C/∂x: in training
/// (γ/√(σ² + ε))/M·(Mδ − Σδ − x̂Σδx̂), each product, quotient and difference rounded; in inference
/// γδ/√(σ² + ε).
let batchNormBackward (b: BatchNorm<float>) (training: bool) (shape: Shape) (a: Tracked) (delta: Tracked) : float[] list * Tracked =
    let forward = batchNorm b training shape a
    let xhat = forward.XHat
    let c, hw = channels shape
    let gamma = b.Scale.ToArray()
    let dGammaE, dBetaE = Array.zeroCreate c, Array.zeroCreate c
    let v, e = Array.zeroCreate a.V.Length, Array.zeroCreate a.V.Length
    for ch in 0 .. c - 1 do
        let places = channelPlaces a.Rows hw a.Cols ch
        let m = float places.Length
        let dBeta = places |> Array.sumBy (fun k -> delta.V.[k])
        let dGamma = places |> Array.sumBy (fun k -> delta.V.[k] * xhat.V.[k])
        dBetaE.[ch] <- (places |> Array.sumBy (fun k -> delta.E.[k] + m * abs delta.V.[k])) + abs dBeta
        dGammaE.[ch] <-
            (places |> Array.sumBy (fun k -> delta.E.[k] * abs xhat.V.[k] + abs delta.V.[k] * xhat.E.[k] + m * abs (delta.V.[k] * xhat.V.[k]))) + abs dGamma
        let scale = gamma.[ch] * forward.InvStd.[ch]
        let scaleE = abs gamma.[ch] * forward.InvStdE.[ch] + abs scale
        for k in places do
            if training then
                let q, qE = scale / m, scaleE / m + abs (scale / m)
                let md, mdE = m * delta.V.[k], m * delta.E.[k] + m * abs delta.V.[k]
                let xd, xdE = xhat.V.[k] * dGamma, abs xhat.V.[k] * dGammaE.[ch] + abs dGamma * xhat.E.[k] + abs (xhat.V.[k] * dGamma)
                let t = md - dBeta - xd
                let tE = mdE + dBetaE.[ch] + xdE + abs (md - dBeta) + abs t
                v.[k] <- q * t
                e.[k] <- abs q * tE + abs t * qE + abs v.[k]
            else
                v.[k] <- scale * delta.V.[k]
                e.[k] <- abs scale * delta.E.[k] + abs delta.V.[k] * scaleE + abs v.[k]
    [ dGammaE; dBetaE ], { a with V = v; E = e }
