namespace FunctionalBackprop.Core

open System
open System.Numerics
open FunctionalBackprop.Core.GenericArithmetic

/// How a layer's first weights and biases are drawn, for fan-in nᵢₙ and fan-out nₒᵤₜ.
[<RequireQualifiedAccess>]
type Initializer =
    /// Weights and biases 0. Fine for one layer (the lecture's w⁽⁰⁾ = 0 for linear models); in a
    /// deep network every unit of a layer then stays identical.
    | Zeros
    /// Weights and biases uniform on (−1/(2nᵢₙ), 1/(2nᵢₙ)), the lecture's random(−1/2n, 1/2n)
    /// with n the number of inputs (the bias is the weight of the constant input x₀ = 1).
    | SmallUniform
    /// Weights and biases N(0, 1), as in Nielsen's network.py.
    | StandardNormal
    /// Weights N(0, 1/nᵢₙ) (standard deviation 1/√nᵢₙ) and biases N(0, 1), as in network2.py.
    | ScaledNormal
    /// Glorot and Bengio (2010): weights uniform on ±√(6/(nᵢₙ + nₒᵤₜ)), biases 0.
    | XavierUniform
    /// Glorot and Bengio (2010): weights N(0, 2/(nᵢₙ + nₒᵤₜ)), biases 0.
    | XavierNormal
    /// He et al. (2015), for ReLU layers: weights N(0, 2/nᵢₙ), biases 0.
    | HeNormal

/// Draws initial parameters from an explicit seed: the same seed gives bit-identical values on
/// every machine (see Random).
module Initializer =

    /// A short name: "zeros", "small-uniform", "standard-normal", …
    let name (init: Initializer) : string =
        match init with
        | Initializer.Zeros -> "zeros"
        | Initializer.SmallUniform -> "small-uniform"
        | Initializer.StandardNormal -> "standard-normal"
        | Initializer.ScaledNormal -> "scaled-normal"
        | Initializer.XavierUniform -> "xavier-uniform"
        | Initializer.XavierNormal -> "xavier-normal"
        | Initializer.HeNormal -> "he-normal"

    /// The initialiser for a layer whose initialiser is not chosen: He for ReLU and leaky ReLU
    /// (which zero about half their inputs, so the weights need twice the variance to keep the
    /// signal's), Xavier normal for every other activation.
    let forActivation (activation: Activation) : Initializer =
        match activation with
        | Activation.ReLU | Activation.LeakyReLU _ -> Initializer.HeNormal
        | _ -> Initializer.XavierNormal

    let private draw (seed: uint64) (n: int) (distribution: Initializer) (fanIn: int) (fanOut: int) (isBias: bool) : float[] =
        let fi, fo = float fanIn, float fanOut
        match distribution, isBias with
        | Initializer.Zeros, _ -> Array.zeroCreate n
        | Initializer.SmallUniform, _ -> Random.uniforms seed (-1.0 / (2.0 * fi)) (1.0 / (2.0 * fi)) n
        | Initializer.StandardNormal, _
        | Initializer.ScaledNormal, true -> Random.normals seed 0.0 1.0 n
        | Initializer.ScaledNormal, false -> Random.normals seed 0.0 (1.0 / Math.Sqrt fi) n
        | (Initializer.XavierUniform | Initializer.XavierNormal | Initializer.HeNormal), true -> Array.zeroCreate n
        | Initializer.XavierUniform, false ->
            let limit = Math.Sqrt(6.0 / (fi + fo))
            Random.uniforms seed (-limit) limit n
        | Initializer.XavierNormal, false -> Random.normals seed 0.0 (Math.Sqrt(2.0 / (fi + fo))) n
        | Initializer.HeNormal, false -> Random.normals seed 0.0 (Math.Sqrt(2.0 / fi)) n

    /// A rows × columns weight matrix drawn for the given fan-in and fan-out (for a convolution,
    /// one row per filter, fan-in C·kₕ·k_w and fan-out filters·kₕ·k_w, as PyTorch counts them).
    let weightsOf<'T when 'T :> IFloatingPointIeee754<'T>> (init: Initializer) (seed: uint64) (fanIn: int) (fanOut: int) (rows: int) (columns: int) : Matrix<'T> =
        let values = draw (Random.derive seed 0UL) (rows * columns) init fanIn fanOut false
        Matrix.wrap rows columns (Array.map Real.ofFloat values)

    /// The nₒᵤₜ×nᵢₙ weight matrix (row j holds the weights into unit j, Nielsen's wⱼₖ).
    let weights<'T when 'T :> IFloatingPointIeee754<'T>> (init: Initializer) (seed: uint64) (fanIn: int) (fanOut: int) : Matrix<'T> =
        weightsOf init seed fanIn fanOut fanOut fanIn

    /// The nₒᵤₜ×1 bias vector.
    let biases<'T when 'T :> IFloatingPointIeee754<'T>> (init: Initializer) (seed: uint64) (fanIn: int) (fanOut: int) : Matrix<'T> =
        let values = draw (Random.derive seed 1UL) fanOut init fanIn fanOut true
        Matrix.wrap fanOut 1 (Array.map Real.ofFloat values)
