namespace FunctionalBackprop.Core

open System
open System.Numerics

/// The optimizers' element-wise steps as vector kernels (see Elementwise.run): one pass over
/// the arrays, each element computed with the scalar formula's operations in its order, so float
/// and float32 give the same bits at any vector width. Kept apart from Transform because the
/// generic-arithmetic operators opened there do not apply to vectors.
module internal UpdateKernels =

    /// The lecture's momentum: P ← (1 − μ)P + μu; writes P to the output and the slot.
    /// Arrays: u, P, out, P'.
    let movingAverage (mu: float) : VectorKernel =
        { new VectorKernel() with
            member _.Run<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType and 'U :> IFloatingPointIeee754<'U>>(x: 'U[][], start, stop) =
                let m = 'U.CreateTruncating mu
                let m, keep = Vector<'U>(m), Vector<'U>('U.One - m)
                let mutable i = start
                while i < stop do
                    // P ← (1 − μ)P + μu
                    let next = keep * Vector<'U>(x.[1], i) + m * Vector<'U>(x.[0], i)
                    next.CopyTo(x.[3], i)
                    next.CopyTo(x.[2], i)
                    i <- i + Vector<'U>.Count }

    /// Heavy-ball momentum: v ← βv + u; writes v to the output and the slot. Arrays: u, v, out, v'.
    let heavyBall (beta: float) : VectorKernel =
        { new VectorKernel() with
            member _.Run<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType and 'U :> IFloatingPointIeee754<'U>>(x: 'U[][], start, stop) =
                let b = Vector<'U>('U.CreateTruncating beta)
                let mutable i = start
                while i < stop do
                    // v ← βv + u
                    let next = b * Vector<'U>(x.[1], i) + Vector<'U>(x.[0], i)
                    next.CopyTo(x.[3], i)
                    next.CopyTo(x.[2], i)
                    i <- i + Vector<'U>.Count }

    /// Nesterov momentum: v ← βv + u, out = u + βv. Arrays: u, v, out, v'.
    let nesterov (beta: float) : VectorKernel =
        { new VectorKernel() with
            member _.Run<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType and 'U :> IFloatingPointIeee754<'U>>(x: 'U[][], start, stop) =
                let b = Vector<'U>('U.CreateTruncating beta)
                let mutable i = start
                while i < stop do
                    // v ← βv + u; out = u + βv
                    let g = Vector<'U>(x.[0], i)
                    let next = b * Vector<'U>(x.[1], i) + g
                    next.CopyTo(x.[3], i)
                    (g + b * next).CopyTo(x.[2], i)
                    i <- i + Vector<'U>.Count }

    /// Adam at step t: m ← β₁m + (1 − β₁)u, v ← β₂v + (1 − β₂)u², out = m̂ ⊘ (√v̂ + ε) with
    /// m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ), 1 − βᵗ computed in float64 and rounded once.
    /// Arrays: u, m, v, out, m', v'.
    let adam (beta1: float) (beta2: float) (epsilon: float) (t: int64) : VectorKernel =
        { new VectorKernel() with
            member _.Run<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType and 'U :> IFloatingPointIeee754<'U>>(x: 'U[][], start, stop) =
                let b1, b2 = 'U.CreateTruncating beta1, 'U.CreateTruncating beta2
                let rest1, rest2 = Vector<'U>('U.One - b1), Vector<'U>('U.One - b2)
                let b1, b2, e = Vector<'U>(b1), Vector<'U>(b2), Vector<'U>('U.CreateTruncating epsilon)
                let correct1 = Vector<'U>('U.CreateTruncating(1.0 - Math.Pow(beta1, float t)))
                let correct2 = Vector<'U>('U.CreateTruncating(1.0 - Math.Pow(beta2, float t)))
                let mutable i = start
                while i < stop do
                    let g = Vector<'U>(x.[0], i)
                    // m ← β₁m + (1 − β₁)u; v ← β₂v + (1 − β₂)u²
                    let m = b1 * Vector<'U>(x.[1], i) + rest1 * g
                    let v = b2 * Vector<'U>(x.[2], i) + rest2 * (g * g)
                    m.CopyTo(x.[4], i)
                    v.CopyTo(x.[5], i)
                    // out = m̂ / (√v̂ + ε)
                    ((m / correct1) / (Vector.SquareRoot(v / correct2) + e)).CopyTo(x.[3], i)
                    i <- i + Vector<'U>.Count }

    /// The step shared by AdaGrad (Γ ← Γ + u²) and RMSProp (Γ ← αΓ + (1 − α)u², α = decay): the
    /// new Γ to the slot and u ⊘ (√Γ + ε) to the output. Arrays: u, Γ, out, Γ'.
    let scaleByRoot (decay: float) (epsilon: float) (adaGrad: bool) : VectorKernel =
        { new VectorKernel() with
            member _.Run<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType and 'U :> IFloatingPointIeee754<'U>>(x: 'U[][], start, stop) =
                let a = 'U.CreateTruncating decay
                let a, rest, e = Vector<'U>(a), Vector<'U>('U.One - a), Vector<'U>('U.CreateTruncating epsilon)
                let mutable i = start
                while i < stop do
                    let g = Vector<'U>(x.[0], i)
                    // AdaGrad: Γ ← Γ + u²; RMSProp: Γ ← αΓ + (1 − α)u²
                    let next = if adaGrad then Vector<'U>(x.[1], i) + g * g else a * Vector<'U>(x.[1], i) + rest * (g * g)
                    next.CopyTo(x.[3], i)
                    // out = u / (√Γ + ε)
                    (g / (Vector.SquareRoot next + e)).CopyTo(x.[2], i)
                    i <- i + Vector<'U>.Count }
