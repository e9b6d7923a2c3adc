namespace FunctionalBackprop.Core

open System
open System.Numerics
open FunctionalBackprop.Core.GenericArithmetic

/// A fully connected layer: a = σ(w a_in + b). Immutable.
///
/// Weights has one row per output unit and one column per input (Nielsen's wⱼₖ joins input k to
/// unit j), biases is a column with one entry per output unit.
type Dense<'T when 'T :> IFloatingPointIeee754<'T>> =
    internal { weights: Matrix<'T>; biases: Matrix<'T>; activation: Activation }

    /// w: nₒᵤₜ×nᵢₙ.
    member d.Weights = d.weights

    /// b: nₒᵤₜ×1.
    member d.Biases = d.biases

    /// σ.
    member d.Activation = d.activation

    /// nᵢₙ, the number of inputs (columns of w).
    member d.InputWidth = d.weights.cols

    /// nₒᵤₜ, the number of units (rows of w).
    member d.OutputWidth = d.weights.rows

    /// nₒᵤₜ·nᵢₙ + nₒᵤₜ.
    member d.ParameterCount = d.weights.values.Length + d.biases.values.Length

    /// "dense 784→30 sigmoid".
    override d.ToString() = $"dense {d.InputWidth}→{d.OutputWidth} {Activation.name d.activation}"

/// Making and inspecting dense layers.
module Dense =

    let internal checkFinite (what: string) (m: Matrix<'T>) =
        match Matrix.tryFindNonFinite m with
        | Some(i, j, v) -> invalidArg what $"{what} must be finite: entry ({i}, {j}) is {v}."
        | None -> ()

    /// A layer from its weights (nₒᵤₜ×nᵢₙ), biases (nₒᵤₜ×1) and activation. Throws
    /// ArgumentException when the shapes disagree, a width is zero or a parameter is not finite.
    let create (weights: Matrix<'T>) (biases: Matrix<'T>) (activation: Activation) : Dense<'T> =
        if isNull (box weights) then nullArg "weights"
        if isNull (box biases) then nullArg "biases"
        if weights.rows = 0 then invalidArg "weights" "A layer needs at least one unit: the weights have 0 rows."
        if weights.cols = 0 then invalidArg "weights" "A layer needs at least one input: the weights have 0 columns."
        if biases.cols <> 1 || biases.rows <> weights.rows then
            invalidArg "biases" $"The weights are {Matrix.shape weights}, so the biases must be {weights.rows}×1 (one per unit), got {Matrix.shape biases}."
        Activation.validate activation
        checkFinite "weights" weights
        checkFinite "biases" biases
        { weights = weights; biases = biases; activation = activation }

    /// A layer of `units` units on `fanIn` inputs with parameters drawn from the seed.
    let init<'T when 'T :> IFloatingPointIeee754<'T>>
        (seed: uint64) (fanIn: int) (units: int) (activation: Activation) (initializer: Initializer) : Dense<'T> =
        if fanIn <= 0 then raise (ArgumentOutOfRangeException("fanIn", fanIn, "A layer needs at least one input."))
        if units <= 0 then raise (ArgumentOutOfRangeException("units", units, "A layer needs at least one unit."))
        create (Initializer.weights initializer seed fanIn units) (Initializer.biases initializer seed fanIn units) activation

    /// The same layer with new parameters of the same shapes (no other checks: for the library's
    /// own updates, which keep shapes by construction).
    let internal withParameters (weights: Matrix<'T>) (biases: Matrix<'T>) (layer: Dense<'T>) : Dense<'T> =
        { layer with weights = weights; biases = biases }

    /// The same layer in another real type (float ↔ float32).
    let convert<'T, 'U when 'T :> IFloatingPointIeee754<'T> and 'U :> IFloatingPointIeee754<'U>> (layer: Dense<'T>) : Dense<'U> =
        { weights = Matrix.convert layer.weights; biases = Matrix.convert layer.biases; activation = layer.activation }
