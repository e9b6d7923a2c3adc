namespace FunctionalBackprop.Core

open System
open System.Numerics
open FunctionalBackprop.Core.GenericArithmetic

/// A fully connected layer: z = w a_in + b, then a = σ(z). Immutable.
///
/// Weights has one row per output unit and one column per input (Nielsen's wⱼₖ joins input k to
/// unit j), biases is a column with one entry per output unit. Any input shape is taken as its
/// values in order (an image as its C·H·W values); the output is a vector of the units.
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

/// The dense layer kind: its shape rule, parameters, and forward and backward steps (BP1–BP4's
/// share of a layer; Backprop applies σ and its derivative around them).
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

    /// The same layer in another real type (float ↔ float32).
    let convert<'T, 'U when 'T :> IFloatingPointIeee754<'T> and 'U :> IFloatingPointIeee754<'U>> (layer: Dense<'T>) : Dense<'U> =
        { weights = Matrix.convert layer.weights; biases = Matrix.convert layer.biases; activation = layer.activation }

    /// Shape rule: any input of nᵢₙ values gives a vector of the units.
    let outputShape (units: int) (_: Shape) : Shape = Shape.Vector units

    /// The weights w (units × fan-in, decayed by L2) and the biases b (units × 1, not decayed).
    let parameterSpecs (units: int) (input: Shape) : ParameterSpec list =
        [ { Name = "weight"; Symbol = "w"; Rows = units; Columns = input.Size; Decays = true }
          { Name = "bias"; Symbol = "b"; Rows = units; Columns = 1; Decays = false } ]

    /// [w; b].
    let parameters (layer: Dense<'T>) : Matrix<'T> list = [ layer.weights; layer.biases ]

    /// The layer with σ and the tensors [w; b] (checked as create checks them).
    let ofParameters (activation: Activation) (tensors: Matrix<'T> list) : Dense<'T> =
        match tensors with
        | [ weights; biases ] -> create weights biases activation
        | other -> invalidArg "tensors" $"A dense layer has two parameter tensors (weights, biases), got {other.Length}."

    /// The same layer over new parameter arrays of the same shapes (no checks: for the library's
    /// own copies).
    let internal withParameters (tensors: Matrix<'T> list) (layer: Dense<'T>) : Dense<'T> =
        { layer with weights = tensors.[0]; biases = tensors.[1] }

    /// zˡ = wˡ aˡ⁻¹ + bˡ into z, from the input a (one example per column).
    [<HotPath>]
    let internal forwardInto (layer: Dense<'T>) (input: Matrix<'T>) (z: Matrix<'T>) : unit =
        let rows = layer.weights.rows
        // each column of z starts as b, then the GEMM adds w·a on top (β = 1)
        for j in 0 .. input.cols - 1 do
            Array.Copy(layer.biases.values, 0, z.values, j * rows, rows)
        Gemm.run false false rows input.cols layer.weights.cols 'T.One layer.weights.values input.values 'T.One z.values

    /// From δˡ = ∂C/∂zˡ: the gradients of w and b into gradient.[0] and gradient.[1], and
    /// ∂C/∂aˡ⁻¹ into inputGradient when one is wanted.
    [<HotPath>]
    let internal backwardInto (layer: Dense<'T>) (input: Matrix<'T>) (delta: Matrix<'T>) (gradient: Matrix<'T>[]) (inputGradient: Matrix<'T> voption) : unit =
        // BP3: ∂C/∂bˡ = δˡ, summed over the examples (columns)
        Matrix.sumColumnsInto delta gradient.[1].values
        // BP4: ∂C/∂wˡ = δˡ (aˡ⁻¹)ᵀ
        Gemm.run false true layer.OutputWidth layer.InputWidth delta.cols 'T.One delta.values input.values 'T.Zero gradient.[0].values
        // BP2's product for the layer below: ∂C/∂aˡ⁻¹ = (wˡ)ᵀ δˡ
        match inputGradient with
        | ValueSome below -> Gemm.run true false layer.InputWidth delta.cols layer.OutputWidth 'T.One layer.weights.values delta.values 'T.Zero below.values
        | ValueNone -> ()

    /// zⱼ = bⱼ + Σₖ wⱼₖ aₖ for one example, one scalar at a time, from the tensors [w; b] as
    /// column-major arrays (wⱼₖ at j + k·units).
    let scalarForward (s: ScalarArithmetic<'S>) (tensors: 'S[][]) (input: 'S[]) : 'S[] =
        let w, b = tensors.[0], tensors.[1]
        let units = b.Length
        Array.init units (fun j -> s.Sum [| yield b.[j]; for k in 0 .. input.Length - 1 -> s.Multiply(w.[j + k * units], input.[k]) |])
