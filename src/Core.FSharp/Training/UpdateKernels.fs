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
            Elementwise.mapSlot (u, p, out, pOut, fun u p ->
                // P ← (1 − μ)P + μu
                let next = keep * p + m * u
                struct (next, next))

    /// Momentum with factor β: the slot is v; the output is the new v (heavy ball) or, looking
    /// ahead along it, u + βv (Nesterov).
    type Momentum(beta: float, lookAhead: bool) =
        inherit SlotKernel()
        [<HotPath>]
        override _.Run<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType and 'U :> IFloatingPointIeee754<'U>>(u, v, out, vOut) =
            let b = Vector<'U>('U.CreateTruncating beta)
            Elementwise.mapSlot (u, v, out, vOut, fun u v ->
                // v ← βv + u
                let next = b * v + u
                // heavy ball: out = v; Nesterov: out = u + βv
                struct ((if lookAhead then u + b * next else next), next))

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
            Elementwise.mapMoments (u, m, v, out, mOut, vOut, fun g m v ->
                // m ← β₁m + (1 − β₁)u; v ← β₂v + (1 − β₂)u²
                let m = b1 * m + rest1 * g
                let v = b2 * v + rest2 * (g * g)
                // out = m̂ ⊘ (√v̂ + ε), with m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ)
                struct ((m / correct1) / (Vector.SquareRoot(v / correct2) + e), m, v))

    /// The step shared by AdaGrad (Γ ← Γ + u²) and RMSProp (Γ ← αΓ + (1 − α)u², α = decay): the
    /// slot is Γ, the output u ⊘ (√Γ + ε).
    type ScaleByRoot(decay: float, epsilon: float, adaGrad: bool) =
        inherit SlotKernel()
        [<HotPath>]
        override _.Run<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType and 'U :> IFloatingPointIeee754<'U>>(u, gamma, out, gammaOut) =
            let a = 'U.CreateTruncating decay
            let a, rest, e = Vector<'U>(a), Vector<'U>('U.One - a), Vector<'U>('U.CreateTruncating epsilon)
            Elementwise.mapSlot (u, gamma, out, gammaOut, fun g gamma ->
                // AdaGrad: Γ ← Γ + u²; RMSProp: Γ ← αΓ + (1 − α)u²
                let next = if adaGrad then gamma + g * g else a * gamma + rest * (g * g)
                // out = u ⊘ (√Γ + ε)
                struct (g / (Vector.SquareRoot next + e), next))
