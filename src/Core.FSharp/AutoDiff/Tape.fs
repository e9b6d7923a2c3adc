namespace FunctionalBackprop.Core

open System
open System.Collections.Generic

/// The elementary operations a tape records: the lecture's +, −, ×, ÷, powers, exp, log, sin,
/// cos, and the activations tanh, σ, ReLU and max (with √ and |·| for completeness).
[<RequireQualifiedAccess>]
type internal Operation =
    | Input
    | Add
    | Subtract
    | Negate
    | Multiply
    | Divide
    | Power
    | Exp
    | Log
    | Sin
    | Cos
    | Tanh
    | Sqrt
    | Abs
    | Sigmoid
    | ReLU
    | Max

/// An argument of a recorded operation: the entry it refers to (−1 for a constant) and its value.
[<Struct>]
type internal Operand = { Index: int; Value: float }

/// One line of the Wengert list, wᵢ = operation(left, right), with the local partial derivatives
/// ∂wᵢ/∂left and ∂wᵢ/∂right evaluated at the point when the line was recorded (a unary operation
/// has no right operand). The backward sweep needs nothing else.
[<Struct>]
type internal Entry =
    { Operation: Operation
      Left: Operand
      Right: Operand
      LeftPartial: float
      RightPartial: float
      Value: float }

/// The Wengert list of one differentiation, growing as the function runs. The one piece of
/// mutable state in reverse mode: each ReverseMode call makes its own tape, records into it,
/// sweeps it and marks it finished, all before returning, and never hands it out, so the public
/// functions stay pure and calls on different threads share nothing. A tape is not synchronised:
/// the function being differentiated must not use its variables from several threads at once.
[<Sealed; AllowNullLiteral>]
type internal Tape() =
    // Lines are kept in blocks of 1024 (64 KB each), the first one grown by doubling from 16 so
    // that a small function pays for a small tape: past the first block nothing is copied as the
    // tape grows, and no block reaches the 85,000 bytes from which .NET puts arrays on the
    // large-object heap, whose allocations are paid for with full collections.
    let blocks = List<Entry[]>()
    let mutable count = 0
    let mutable finished = false

    /// Line i (0-based: wᵢ₊₁ in the lecture's numbering).
    member _.Item(i: int) : Entry = blocks.[i >>> 10].[i &&& 1023]

    /// Throws ArgumentException, naming the operand, once the differentiation is over.
    member _.CheckOpen(operand: string) : unit =
        if finished then
            invalidArg operand "This variable belongs to a differentiation that has already returned: a variable kept from an earlier ReverseMode or Tables call cannot take part in new operations. Compute everything inside the function being differentiated."

    /// Appends a line and returns its index.
    member _.Push(entry: Entry) : int =
        if count = 0 then blocks.Add(Array.zeroCreate 16)
        elif count < 1024 && count = blocks.[0].Length then
            let grown = Array.zeroCreate (2 * count)
            Array.blit blocks.[0] 0 grown 0 count
            blocks.[0] <- grown
        elif count &&& 1023 = 0 then blocks.Add(Array.zeroCreate 1024)
        blocks.[count >>> 10].[count &&& 1023] <- entry
        count <- count + 1
        count - 1

    /// Marks the differentiation as over: later operations on its variables throw.
    member _.Finish() = finished <- true

/// A variable wᵢ of reverse mode: a value, and where it stands on the tape (the Wengert list)
/// of the differentiation that made it. Every operation on variables computes its value and
/// records a line with its local partial derivatives, by the rule in its doc comment; the
/// backward sweep then accumulates the adjoints w̄ = ∂y/∂w. Variables come from ReverseMode and
/// Tables, which pass them to the function being differentiated, and from Scalar.lift, which
/// makes constants (recorded on no tape, so their derivative is zero). A variable is only valid
/// inside the call that made it.
[<Struct; NoEquality; NoComparison>]
type Var =
    internal
        { tape: Tape
          index: int
          value: float }

    /// The value wᵢ at the point (what branches of the differentiated function may compare).
    member v.Value = v.value

    /// True for a constant, which is recorded on no tape and has derivative zero.
    member v.IsConstant = isNull v.tape

    /// "w₃ = 6" as "w3 = 6", or "6 (constant)".
    override v.ToString() = if isNull v.tape then $"{v.value} (constant)" else $"w{v.index + 1} = {v.value}"

    static member internal Constant(c: float) : Var = { tape = null; index = -1; value = c }

    /// Input i of the function, recorded as the next line of the tape (so inputs are w₁ … wₙ).
    static member internal Input(tape: Tape, x: float) : Var =
        let none = { Index = -1; Value = Double.NaN }
        let i = tape.Push { Operation = Operation.Input; Left = none; Right = none; LeftPartial = 0.0; RightPartial = 0.0; Value = x }
        { tape = tape; index = i; value = x }

    /// Records w = operation(a, b) with ∂w/∂a = da and ∂w/∂b = db on the operands' tape;
    /// between constants it records nothing and returns a constant.
    static member private Record(operation: Operation, a: Var, b: Var, value: float, da: float, db: float) : Var =
        if not (isNull a.tape) then a.tape.CheckOpen "a"
        if not (isNull b.tape) then b.tape.CheckOpen "b"
        let tape =
            if isNull a.tape then b.tape
            elif isNull b.tape || Object.ReferenceEquals(a.tape, b.tape) then a.tape
            else invalidArg "b" "The two operands were recorded on different tapes: a variable from one differentiation was used inside another (for example a variable captured from an outer ReverseMode call). Reverse mode does not nest; keep each variable inside the call that made it."
        if isNull tape then Var.Constant value
        else
            let operand (v: Var) = { Index = v.index; Value = v.value }
            let i = tape.Push { Operation = operation; Left = operand a; Right = operand b; LeftPartial = da; RightPartial = db; Value = value }
            { tape = tape; index = i; value = value }

    /// Records the unary w = operation(a) with ∂w/∂a = da.
    static member private Record(operation: Operation, a: Var, value: float, da: float) : Var =
        Var.Record(operation, a, { tape = null; index = -1; value = Double.NaN }, value, da, 0.0)

    /// The constant c, recorded on no tape (Scalar.lift's case for variables).
    static member Lift(c: float) : Var = Var.Constant c

    /// w = a + b; ∂w/∂a = 1, ∂w/∂b = 1.
    static member (+)(a: Var, b: Var) : Var = Var.Record(Operation.Add, a, b, a.value + b.value, 1.0, 1.0)

    /// w = a − b; ∂w/∂a = 1, ∂w/∂b = −1.
    static member (-)(a: Var, b: Var) : Var = Var.Record(Operation.Subtract, a, b, a.value - b.value, 1.0, -1.0)

    /// w = −a; ∂w/∂a = −1.
    static member (~-)(a: Var) : Var = Var.Record(Operation.Negate, a, -a.value, -1.0)

    /// w = ab; ∂w/∂a = b, ∂w/∂b = a.
    static member (*)(a: Var, b: Var) : Var = Var.Record(Operation.Multiply, a, b, a.value * b.value, b.value, a.value)

    /// w = a/b; ∂w/∂a = 1/b, ∂w/∂b = −a/b² = −w/b.
    static member (/)(a: Var, b: Var) : Var =
        let q = a.value / b.value
        Var.Record(Operation.Divide, a, b, q, 1.0 / b.value, -q / b.value)

    /// w = aⁿ for a constant n (F#'s a ** n); ∂w/∂a = n aⁿ⁻¹.
    static member Pow(a: Var, n: float) : Var =
        Var.Record(Operation.Power, a, Var.Constant n, Math.Pow(a.value, n), n * Math.Pow(a.value, n - 1.0), 0.0)

    /// w = aᵇ; ∂w/∂a = b aᵇ⁻¹, ∂w/∂b = aᵇ ln a (taken as 0 when b is a constant, so that a
    /// negative base with a constant exponent has no NaN).
    static member Pow(a: Var, b: Var) : Var =
        let p = Math.Pow(a.value, b.value)
        Var.Record(Operation.Power, a, b, p, b.value * Math.Pow(a.value, b.value - 1.0), (if b.IsConstant then 0.0 else p * Math.Log a.value))

    /// w = eᵃ; ∂w/∂a = eᵃ.
    static member Exp(a: Var) : Var =
        let e = Math.Exp a.value
        Var.Record(Operation.Exp, a, e, e)

    /// w = ln a; ∂w/∂a = 1/a.
    static member Log(a: Var) : Var = Var.Record(Operation.Log, a, Math.Log a.value, 1.0 / a.value)

    /// w = sin a; ∂w/∂a = cos a.
    static member Sin(a: Var) : Var = Var.Record(Operation.Sin, a, Math.Sin a.value, Math.Cos a.value)

    /// w = cos a; ∂w/∂a = −sin a.
    static member Cos(a: Var) : Var = Var.Record(Operation.Cos, a, Math.Cos a.value, -(Math.Sin a.value))

    /// w = tanh a; ∂w/∂a = 1 − tanh² a.
    static member Tanh(a: Var) : Var =
        let t = Math.Tanh a.value
        Var.Record(Operation.Tanh, a, t, 1.0 - t * t)

    /// w = √a; ∂w/∂a = 1/(2√a).
    static member Sqrt(a: Var) : Var =
        let r = Math.Sqrt a.value
        Var.Record(Operation.Sqrt, a, r, 0.5 / r)

    /// w = |a|; ∂w/∂a = sign a, taking sign 0 = 1.
    static member Abs(a: Var) : Var =
        let sign = if a.value < 0.0 then -1.0 else 1.0
        Var.Record(Operation.Abs, a, sign * a.value, sign)

    /// w = σ(a) = 1/(1 + e⁻ᵃ); ∂w/∂a = σ(a)(1 − σ(a)). (Computed as written, as dual numbers
    /// compute it, so that both modes give the same value; 0 or 1, never NaN, where e⁻ᵃ overflows.)
    static member Sigmoid(a: Var) : Var =
        let s = 1.0 / (1.0 + Math.Exp(-a.value))
        Var.Record(Operation.Sigmoid, a, s, s * (1.0 - s))

    /// w = ReLU(a) = max(a, 0); ∂w/∂a = 1 where a > 0, else 0.
    static member ReLU(a: Var) : Var =
        if a.value > 0.0 then Var.Record(Operation.ReLU, a, a.value, 1.0)
        else Var.Record(Operation.ReLU, a, 0.0, 0.0)

    /// w = max(a, b), a on ties; ∂w/∂a = 1, ∂w/∂b = 0 where a ≥ b, else the other way round.
    static member Max(a: Var, b: Var) : Var =
        if a.value >= b.value then Var.Record(Operation.Max, a, b, a.value, 1.0, 0.0)
        else Var.Record(Operation.Max, a, b, b.value, 0.0, 1.0)

    /// The value as a float.
    static member op_Explicit(v: Var) : float = v.value
