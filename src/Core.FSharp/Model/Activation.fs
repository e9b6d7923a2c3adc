namespace FunctionalBackprop.Core

open System
open System.Numerics
open System.Numerics.Tensors
open FunctionalBackprop.Core.GenericArithmetic

/// An activation function σ, applied to a layer's weighted input z to give its output a = σ(z).
[<RequireQualifiedAccess>]
type Activation =
    /// σ(z) = z; σ'(z) = 1. For regression outputs.
    | Identity
    /// σ(z) = 1 if z > 0, else 0 (the perceptron's threshold); σ'(z) = 0 wherever it exists, so
    /// no gradient passes through it: usable for inference, not for training.
    | Step
    /// σ(z) = 1/(1 + e⁻ᶻ); σ'(z) = σ(z)(1 − σ(z)).
    | Sigmoid
    /// σ(z) = tanh z; σ'(z) = 1 − tanh² z.
    | Tanh
    /// σ(z) = max(0, z); σ'(z) = 1 if z > 0, else 0 (the lecture's choice at z = 0).
    | ReLU
    /// σ(z) = z if z > 0, else slope·z, with 0 &lt; slope &lt; 1; σ'(z) = 1 or slope.
    | LeakyReLU of slope: float
    /// σ(z)ⱼ = e^zⱼ / Σₖ e^zₖ over one example's column; its Jacobian is diag(s) − s sᵀ.
    | Softmax

/// Values and backward steps of activations over whole batches (one example per column).
module Activation =

    /// A short lower-case name: "sigmoid", "leaky-relu(0.01)", …
    let name (f: Activation) : string =
        match f with
        | Activation.Identity -> "identity"
        | Activation.Step -> "step"
        | Activation.Sigmoid -> "sigmoid"
        | Activation.Tanh -> "tanh"
        | Activation.ReLU -> "relu"
        | Activation.LeakyReLU slope -> $"leaky-relu({slope})"
        | Activation.Softmax -> "softmax"

    /// Throws ArgumentException when the activation's parameter is out of range.
    let validate (f: Activation) : unit =
        match f with
        | Activation.LeakyReLU slope when not (slope > 0.0 && slope < 1.0) ->
            invalidArg "f" $"A leaky ReLU's slope must lie strictly between 0 and 1, got {slope}."
        | _ -> ()

    /// True when σ acts on each entry alone (everything but softmax).
    let isElementwise (f: Activation) : bool = f <> Activation.Softmax

    /// True when σ has a kink or jump (ReLU, leaky ReLU, step), where finite differences that
    /// straddle the kink do not approximate the derivative.
    let isPiecewise (f: Activation) : bool =
        match f with
        | Activation.ReLU | Activation.LeakyReLU _ | Activation.Step -> true
        | _ -> false

    /// a = σ(z) for columns of height `rows`, written into a (which may be z itself).
    let internal applyInto<'T when 'T :> IFloatingPointIeee754<'T>>
        (f: Activation, rows: int, z: ReadOnlySpan<'T>, a: Span<'T>) : unit =
        match f with
        | Activation.Identity -> z.CopyTo a
        | Activation.Step ->
            for i in 0 .. z.Length - 1 do
                a.[i] <- if 'T.op_GreaterThan (z.[i], 'T.Zero) then 'T.One else 'T.Zero
        | Activation.Sigmoid -> TensorPrimitives.Sigmoid(z, a)
        | Activation.Tanh -> TensorPrimitives.Tanh(z, a)
        | Activation.ReLU -> TensorPrimitives.Max(z, 'T.Zero, a)
        | Activation.LeakyReLU slope ->
            let s: 'T = Real.ofFloat slope
            for i in 0 .. z.Length - 1 do
                a.[i] <- if 'T.op_GreaterThan (z.[i], 'T.Zero) then z.[i] else s * z.[i]
        | Activation.Softmax ->
            // Per column: subtract the largest entry before exponentiating, so no eᶻ overflows.
            let columns = if rows = 0 then 0 else z.Length / rows
            for j in 0 .. columns - 1 do
                let zj = z.Slice(j * rows, rows)
                let aj = a.Slice(j * rows, rows)
                let largest = TensorPrimitives.Max(zj)
                TensorPrimitives.Subtract(zj, largest, aj)
                TensorPrimitives.Exp(Span<'T>.op_Implicit aj, aj)
                let total = TensorPrimitives.Sum(Span<'T>.op_Implicit aj)
                TensorPrimitives.Divide(Span<'T>.op_Implicit aj, total, aj)

    /// a = σ(z) for a whole batch.
    let apply (f: Activation) (z: Matrix<'T>) : Matrix<'T> =
        let a = Matrix.uninitialized z.values.Length
        applyInto (f, z.rows, ReadOnlySpan z.values, Span a)
        Matrix.wrap z.rows z.cols a

    /// The vector–Jacobian product dz = J_σ(z)ᵀ g, written into dz (which may alias g): how a
    /// gradient g with respect to the outputs a = σ(z) becomes the gradient with respect to z.
    /// For element-wise σ this is g ⊙ σ'(z); for softmax, s ⊙ (g − (s·g)) column by column,
    /// never forming the Jacobian.
    let internal backwardInto<'T when 'T :> IFloatingPointIeee754<'T>>
        (f: Activation, rows: int, z: ReadOnlySpan<'T>, a: ReadOnlySpan<'T>, g: ReadOnlySpan<'T>, dz: Span<'T>) : unit =
        match f with
        | Activation.Identity -> g.CopyTo dz
        | Activation.Step -> dz.Clear()
        | Activation.Sigmoid ->
            // σ'(z) = a(1 − a): dz = g ⊙ a ⊙ (1 − a)
            Elementwise.sigmoidBackward (a, g, dz)
        | Activation.Tanh ->
            // tanh'(z) = 1 − a²: dz = g ⊙ (1 − a ⊙ a)
            Elementwise.tanhBackward (a, g, dz)
        | Activation.ReLU ->
            // ReLU'(z) = 1 if z > 0, else 0
            Elementwise.rectifierBackward ('T.Zero, z, g, dz)
        | Activation.LeakyReLU slope ->
            // leaky'(z) = 1 if z > 0, else the slope
            Elementwise.rectifierBackward (Real.ofFloat slope, z, g, dz)
        | Activation.Softmax ->
            // Jᵀg = s ⊙ (g − (s·g)), per column
            let columns = if rows = 0 then 0 else dz.Length / rows
            for j in 0 .. columns - 1 do
                let s = a.Slice(j * rows, rows)
                let gj = g.Slice(j * rows, rows)
                let sg = TensorPrimitives.Dot(s, gj)
                let dzj = dz.Slice(j * rows, rows)
                TensorPrimitives.Subtract(gj, sg, dzj)
                TensorPrimitives.Multiply(Span<'T>.op_Implicit dzj, s, dzj)

    /// dz = J_σ(z)ᵀ g for a batch, given z, a = σ(z) and the gradient g with respect to a.
    let backward (f: Activation) (z: Matrix<'T>) (a: Matrix<'T>) (g: Matrix<'T>) : Matrix<'T> =
        Matrix.checkSameShape "backward (z and a)" z a
        Matrix.checkSameShape "backward (z and g)" z g
        let dz = Matrix.uninitialized z.values.Length
        backwardInto (f, z.rows, ReadOnlySpan z.values, ReadOnlySpan a.values, ReadOnlySpan g.values, Span dz)
        Matrix.wrap z.rows z.cols dz

    /// σ'(z) entry by entry, for element-wise activations. Softmax has no such derivative (its
    /// Jacobian is not diagonal): use backward or jacobian.
    let derivative (f: Activation) (z: Matrix<'T>) : Matrix<'T> =
        if not (isElementwise f) then
            invalidArg "f" "Softmax has no element-wise derivative: its Jacobian diag(s) − s sᵀ is full. Use Activation.backward or Activation.jacobian."
        let a = apply f z
        let ones = Matrix.wrap z.rows z.cols (Array.create z.values.Length 'T.One)
        backward f z a ones

    /// The full Jacobian ∂aᵢ/∂zⱼ for one example z (a column): diag(σ'(z)) for element-wise σ,
    /// diag(s) − s sᵀ for softmax. For tests and teaching; the backward pass never forms it.
    let jacobian (f: Activation) (z: 'T[]) : Matrix<'T> =
        if isNull z then nullArg "z"
        let column = Matrix.wrap z.Length 1 (Array.copy z)
        let a = apply f column
        let n = z.Length
        match f with
        | Activation.Softmax ->
            Matrix.init n n (fun i j -> (if i = j then a.values.[i] else 'T.Zero) - a.values.[i] * a.values.[j])
        | _ ->
            let d = derivative f column
            Matrix.init n n (fun i j -> if i = j then d.values.[i] else 'T.Zero)
