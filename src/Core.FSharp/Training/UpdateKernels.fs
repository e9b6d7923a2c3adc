namespace FunctionalBackprop.Core

open System
open System.Numerics

/// The optimizers' element-wise steps as lane-wise kernels (see Elementwise): one pass over the
/// arrays, each element computed with the scalar formula's operations in its order, so float and
/// float32 give the same bits at any vector width. Kept apart from Transform because the
/// generic-arithmetic operators opened there are for scalars.
module internal UpdateKernels =

    /// The lecture's momentum with averaging rate μ: the slot is P, the output is the new P.
    type MovingAverage(mu: float) =
        inherit SlotKernel()
        [<HotPath>]
        override _.Run<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType and 'U :> IFloatingPointIeee754<'U>>(u, p, out, pOut) =
            let m = 'U.CreateTruncating mu
            let m, keep = Vector<'U>(m), Vector<'U>('U.One - m)
            let mutable i = 0
            while i < out.Length do
                // P ← (1 − μ)P + μu
                let next = keep * Elementwise.load p i + m * Elementwise.load u i
                Elementwise.store next pOut i
                Elementwise.store next out i
                i <- i + Vector<'U>.Count
    let movingAverage (mu: float) = MovingAverage(mu) :> SlotKernel

    /// Heavy-ball momentum with factor β: the slot is v, the output is the new v.
    type HeavyBall(beta: float) =
        inherit SlotKernel()
        [<HotPath>]
        override _.Run<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType and 'U :> IFloatingPointIeee754<'U>>(u, v, out, vOut) =
            let b = Vector<'U>('U.CreateTruncating beta)
            let mutable i = 0
            while i < out.Length do
                // v ← βv + u
                let next = b * Elementwise.load v i + Elementwise.load u i
                Elementwise.store next vOut i
                Elementwise.store next out i
                i <- i + Vector<'U>.Count
    let heavyBall (beta: float) = HeavyBall(beta) :> SlotKernel

    /// Nesterov momentum with factor β: the slot is v, the output looks ahead along the new v.
    type Nesterov(beta: float) =
        inherit SlotKernel()
        [<HotPath>]
        override _.Run<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType and 'U :> IFloatingPointIeee754<'U>>(u, v, out, vOut) =
            let b = Vector<'U>('U.CreateTruncating beta)
            let mutable i = 0
            while i < out.Length do
                let g = Elementwise.load u i
                // v ← βv + u
                let next = b * Elementwise.load v i + g
                Elementwise.store next vOut i
                // out = u + βv
                Elementwise.store (g + b * next) out i
                i <- i + Vector<'U>.Count
    let nesterov (beta: float) = Nesterov(beta) :> SlotKernel

    /// Adam with β₁, β₂, ε at step Step (set before each run): the moments are m and v; 1 − βᵗ is
    /// computed in float64 and rounded once.
    type Adam(beta1: float, beta2: float, epsilon: float) =
        inherit MomentsKernel()

        /// t, the step being taken (from 1).
        member val Step = 0L with get, set

        [<HotPath>]
        override this.Run<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType and 'U :> IFloatingPointIeee754<'U>>(u, m, v, out, mOut, vOut) =
            let t = this.Step
            let b1, b2 = 'U.CreateTruncating beta1, 'U.CreateTruncating beta2
            let rest1, rest2 = Vector<'U>('U.One - b1), Vector<'U>('U.One - b2)
            let b1, b2, e = Vector<'U>(b1), Vector<'U>(b2), Vector<'U>('U.CreateTruncating epsilon)
            let correct1 = Vector<'U>('U.CreateTruncating(1.0 - Math.Pow(beta1, float t)))
            let correct2 = Vector<'U>('U.CreateTruncating(1.0 - Math.Pow(beta2, float t)))
            let mutable i = 0
            while i < out.Length do
                let g = Elementwise.load u i
                // m ← β₁m + (1 − β₁)u; v ← β₂v + (1 − β₂)u²
                let m = b1 * Elementwise.load m i + rest1 * g
                let v = b2 * Elementwise.load v i + rest2 * (g * g)
                Elementwise.store m mOut i
                Elementwise.store v vOut i
                // out = m̂ ⊘ (√v̂ + ε), with m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ)
                Elementwise.store ((m / correct1) / (Vector.SquareRoot(v / correct2) + e)) out i
                i <- i + Vector<'U>.Count

    /// The step shared by AdaGrad (Γ ← Γ + u²) and RMSProp (Γ ← αΓ + (1 − α)u², α = decay): the
    /// slot is Γ, the output u ⊘ (√Γ + ε).
    type ScaleByRoot(decay: float, epsilon: float, adaGrad: bool) =
        inherit SlotKernel()
        [<HotPath>]
        override _.Run<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType and 'U :> IFloatingPointIeee754<'U>>(u, gamma, out, gammaOut) =
            let a = 'U.CreateTruncating decay
            let a, rest, e = Vector<'U>(a), Vector<'U>('U.One - a), Vector<'U>('U.CreateTruncating epsilon)
            let mutable i = 0
            while i < out.Length do
                let g = Elementwise.load u i
                // AdaGrad: Γ ← Γ + u²; RMSProp: Γ ← αΓ + (1 − α)u²
                let next = if adaGrad then Elementwise.load gamma i + g * g else a * Elementwise.load gamma i + rest * (g * g)
                Elementwise.store next gammaOut i
                // out = u ⊘ (√Γ + ε)
                Elementwise.store (g / (Vector.SquareRoot next + e)) out i
                i <- i + Vector<'U>.Count
    let scaleByRoot (decay: float) (epsilon: float) (adaGrad: bool) = ScaleByRoot(decay, epsilon, adaGrad) :> SlotKernel
