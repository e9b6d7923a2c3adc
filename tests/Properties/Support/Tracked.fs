/// The quantities of RoundingBound's running error analysis: values with their first-order
/// bounds, and the bounds of an affine map's forward and backward steps, which dense layers and
/// convolutions (through their windows laid out as columns) share.
module FunctionalBackprop.Properties.Tracked

open FunctionalBackprop.Core

/// A quantity of the passes: values (column-major, rows × cols, float64 exact) and their bounds.
type Tracked = { Rows: int; Cols: int; V: float[]; E: float[] }

/// TensorPrimitives' exp, sigmoid and tanh are within a few ulps; 4 is used for each.
let ulps = 4.0

let entries (m: Matrix<float>) = m.ToArray()

/// z = W a + b with its bound.
let affine (w: Matrix<float>) (b: Matrix<float>) (a: Tracked) : Tracked =
    let r, c, n = w.Rows, w.Cols, a.Cols
    let wv, bv = entries w, entries b
    let v = Array.zeroCreate (r * n)
    let e = Array.zeroCreate (r * n)
    for j in 0 .. n - 1 do
        for i in 0 .. r - 1 do
            let mutable value, magnitude, carried = bv.[i], abs bv.[i], 0.0
            for k in 0 .. c - 1 do
                let wik, ak = wv.[i + k * r], a.V.[k + j * c]
                value <- value + wik * ak
                magnitude <- magnitude + abs (wik * ak)
                carried <- carried + abs wik * a.E.[k + j * c]
            v.[i + j * r] <- value
            e.[i + j * r] <- carried + float (c + 1) * magnitude
    { Rows = r; Cols = n; V = v; E = e }

/// Bounds of ∂C/∂w, ∂C/∂b of one layer and of the gradient it sends below (Wᵀδ).
let layerBounds (w: Matrix<float>) (input: Tracked) (delta: Tracked) : float[] * float[] * Tracked =
    let r, c, n = w.Rows, w.Cols, delta.Cols
    let wv = entries w
    let dW =
        Array.init (r * c) (fun idx ->
            let i, k = idx % r, idx / r
            Seq.sum (seq { for j in 0 .. n - 1 ->
                             let d, x = delta.V.[i + j * r], input.V.[k + j * c]
                             delta.E.[i + j * r] * abs x + abs d * input.E.[k + j * c] + float n * abs (d * x) }))
    let db = Array.init r (fun i -> Seq.sum (seq { for j in 0 .. n - 1 -> delta.E.[i + j * r] + float n * abs delta.V.[i + j * r] }))
    let below =
        let v = Array.zeroCreate (c * n)
        let e = Array.zeroCreate (c * n)
        for j in 0 .. n - 1 do
            for k in 0 .. c - 1 do
                let mutable value, bound = 0.0, 0.0
                for i in 0 .. r - 1 do
                    let wik, d = wv.[i + k * r], delta.V.[i + j * r]
                    value <- value + wik * d
                    bound <- bound + abs wik * delta.E.[i + j * r] + float r * abs (wik * d)
                v.[k + j * c] <- value
                e.[k + j * c] <- bound
        { Rows = c; Cols = n; V = v; E = e }
    dW, db, below

