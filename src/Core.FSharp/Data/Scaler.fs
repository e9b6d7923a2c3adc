namespace FunctionalBackprop.Core

open System
open System.Collections.Generic
open System.Numerics

/// How a scaler's offsets and scales were fitted to the training inputs.
[<RequireQualifiedAccess>]
type ScalerKind =
    /// Offset min, scale max − min: the training range of each feature onto [0, 1]
    /// (scikit-learn's MinMaxScaler with its default range).
    | MinMax
    /// Offset μ, scale σ (the population standard deviation, dividing by n): each feature's
    /// z-score (scikit-learn's StandardScaler).
    | Standard

/// A per-feature affine map fitted on training data, x'ᵢ = (xᵢ − offsetᵢ)/scaleᵢ: on the inputs, it
/// turns raw inputs into the inputs a network was trained on; on the targets (a target scaler), it
/// turns raw targets into the ones the network learns, and its inverse xᵢ = x'ᵢ·scaleᵢ + offsetᵢ
/// turns the network's outputs back into the targets' units. Offsets and scales are float64
/// whatever the network's real type; a feature that is constant in the training data gets scale 1.
/// Immutable.
type Scaler =
    internal { kind: ScalerKind; offsets: float[]; scales: float[] }

    /// How it was fitted.
    member s.Kind = s.kind

    /// The number of features it maps.
    member s.Width = s.offsets.Length

    /// offsetᵢ: the training minimum (min-max) or mean (standard) of feature i.
    member s.Offsets: IReadOnlyList<float> = Array.AsReadOnly s.offsets

    /// scaleᵢ: the training range (min-max) or standard deviation (standard) of feature i, or 1
    /// where that is 0.
    member s.Scales: IReadOnlyList<float> = Array.AsReadOnly s.scales

    /// "min-max scaler of 64 features", "standard scaler of 1 feature".
    override s.ToString() =
        let kind = match s.kind with ScalerKind.MinMax -> "min-max" | ScalerKind.Standard -> "standard"
        $"""{kind} scaler of {Wording.count s.offsets.Length "feature"}"""

/// Fitting scalers to training inputs and applying them to any inputs.
module Scaler =

    /// A scaler from its parameters (copied). Throws ArgumentException unless there is one offset
    /// and one scale per feature, at least one feature, every offset finite and every scale
    /// positive and finite.
    let create (kind: ScalerKind) (offsets: float[]) (scales: float[]) : Scaler =
        if isNull offsets then nullArg "offsets"
        if isNull scales then nullArg "scales"
        if offsets.Length = 0 then invalidArg "offsets" "A scaler needs at least one feature."
        if scales.Length <> offsets.Length then
            invalidArg "scales" $"There are {offsets.Length} offsets but {scales.Length} scales; each feature needs one of each."
        match Array.tryFindIndex (fun o -> not (Double.IsFinite o)) offsets with
        | Some i -> invalidArg "offsets" $"Feature {i}'s offset is {offsets.[i]}; offsets must be finite."
        | None -> ()
        match Array.tryFindIndex (fun s -> not (s > 0.0 && Double.IsFinite s)) scales with
        | Some i -> invalidArg "scales" $"Feature {i}'s scale is {scales.[i]}; scales must be positive and finite."
        | None -> ()
        { kind = kind; offsets = Array.copy offsets; scales = Array.copy scales }

    /// Feature i of every example (row i of x), in float64.
    let private feature (x: Matrix<'T>) (i: int) : float[] = Array.init x.cols (fun j -> Real.toFloat x.values.[i + j * x.rows])

    /// A fitted spread as a scale: 1 for a constant feature, refused when it overflowed float64.
    let private scale (what: string) (i: int) (spread: float) : float =
        if spread = 0.0 then 1.0
        elif Double.IsFinite spread then spread
        else invalidArg "x" $"Feature {i}'s {what} is {spread}: the values exceed the range of float64; divide them by a constant first."

    let private checkFittable (x: Matrix<'T>) =
        if isNull (box x) then nullArg "x"
        if x.cols = 0 then invalidArg "x" "A scaler is fitted on at least one example; there are none."
        match Matrix.tryFindNonFinite x with
        | Some(i, j, v) -> invalidArg "x" $"Inputs must be finite: row {i} of example (column) {j} is {v}."
        | None -> ()

    /// The min-max scaler of the inputs x (one example per column, one feature per row).
    let fitMinMax (x: Matrix<'T>) : Scaler =
        checkFittable x
        let features = Array.init x.rows (feature x)
        let minima = features |> Array.map Array.min
        let ranges = features |> Array.mapi (fun i f -> scale "range max − min" i (Array.max f - minima.[i]))
        create ScalerKind.MinMax minima ranges

    /// The standard scaler of the inputs x: μ = (1/n) Σⱼ xⱼ, σ = √((1/n) Σⱼ (xⱼ − μ)²), both in float64.
    let fitStandard (x: Matrix<'T>) : Scaler =
        checkFittable x
        let n = float x.cols
        let features = Array.init x.rows (feature x)
        let means = features |> Array.map (fun f -> Array.sum f / n)
        match Array.tryFindIndex (fun m -> not (Double.IsFinite m)) means with
        | Some i -> invalidArg "x" $"Feature {i}'s sum is {means.[i] * n}: the values exceed the range of float64; divide them by a constant first."
        | None -> ()
        let deviations = features |> Array.mapi (fun i f -> scale "standard deviation" i (Math.Sqrt(Array.sumBy (fun v -> (v - means.[i]) * (v - means.[i])) f / n)))
        create ScalerKind.Standard means deviations

    /// x' = (x − offset)/scale for every feature (row) of every example (column) of x, in float64
    /// and rounded once to 'T, written into out (which may be x's own array). No checks.
    let internal applyInto (scaler: Scaler) (x: Matrix<'T>) (out: 'T[]) : unit =
        for k in 0 .. x.values.Length - 1 do
            let i = k % x.rows
            // x' = (x − offset)/scale
            out.[k] <- Real.ofFloat ((Real.toFloat x.values.[k] - scaler.offsets.[i]) / scaler.scales.[i])

    /// The scaler's map (applyInto or inverseInto) of x, the `what` (inputs or outputs), into a new
    /// matrix, after checking that x has one row per feature.
    let private map (into: Scaler -> Matrix<'T> -> 'T[] -> unit) (what: string) (scaler: Scaler) (x: Matrix<'T>) : Matrix<'T> =
        if isNull (box scaler) then nullArg "scaler"
        if isNull (box x) then nullArg "x"
        if x.rows <> scaler.Width then
            invalidArg "x" $"""The scaler maps {Wording.count scaler.Width "feature"}, but the {what} have {Wording.count x.rows "row"} (one per feature)."""
        let values: 'T[] = Matrix.uninitialized x.values.Length
        into scaler x values
        Matrix.wrap x.rows x.cols values

    /// x' = (x − offset)/scale for every feature (row) of every example (column) of x, in float64
    /// and rounded once to 'T. A value that 'T cannot hold becomes ±∞; Network.checkInputs (and so
    /// every forward pass) refuses it.
    let apply (scaler: Scaler) (x: Matrix<'T>) : Matrix<'T> = map applyInto "inputs" scaler x

    /// x = x'·scale + offset for every feature (row) of every example (column) of x', in float64
    /// and rounded once to 'T, written into out (which may be x's own array): the inverse of
    /// applyInto, which turns a network's scaled outputs back into targets. No checks.
    let internal inverseInto (scaler: Scaler) (x: Matrix<'T>) (out: 'T[]) : unit =
        for k in 0 .. x.values.Length - 1 do
            let i = k % x.rows
            // x = x'·scale + offset
            out.[k] <- Real.ofFloat (Real.toFloat x.values.[k] * scaler.scales.[i] + scaler.offsets.[i])

    /// x = x'·scale + offset for every feature (row) of every example (column) of x', in float64
    /// and rounded once to 'T: the inverse of apply (up to the roundings of both), which turns a
    /// network's outputs on scaled targets back into the targets' units. A value that 'T cannot
    /// hold becomes ±∞.
    let inverse (scaler: Scaler) (x: Matrix<'T>) : Matrix<'T> = map inverseInto "outputs" scaler x
