namespace FunctionalBackprop.Core

/// Plumbing for constants and powers inside dual numbers: the float and float32 cases of
/// Scalar.ofFloat and Scalar.power, and the witness through which F# picks, at compile time, the
/// case for a value's type (a dual number's own cases are members of Dual). It has no instances;
/// code calls the Scalar module's functions rather than its members.
[<Sealed>]
type Scalar private () =

    /// The constant c as a float (no change).
    static member FromFloat(c: float, _: float, _: Scalar) : float = c

    /// The constant c as a float32 (rounded to nearest).
    static member FromFloat(c: float, _: float32, _: Scalar) : float32 = float32 c

    /// xⁿ for a float x and a constant n.
    static member PowerOf(x: float, n: float, _: Scalar) : float = System.Math.Pow(x, n)

    /// xⁿ for a float32 x and a constant n.
    static member PowerOf(x: float32, n: float, _: Scalar) : float32 = float32 (System.Math.Pow(float x, n))

    /// Finds PowerOf for ^S among the witness's members and ^S's own.
    static member inline InvokePowerOf(x: ^S, n: float, witness: ^W) : ^S =
        ((^W or ^S): (static member PowerOf: ^S * float * ^W -> ^S) (x, n, witness))

    /// Finds FromFloat for the result type ^R among the witness's members and ^R's own.
    static member inline InvokeFromFloat(c: float, witness: ^W) : ^R =
        ((^W or ^R): (static member FromFloat: float * ^R * ^W -> ^R) (c, Unchecked.defaultof< ^R>, witness))

/// Functions that work alike on the two kinds of AD scalar, dual numbers (Dual, forward mode)
/// and tape variables (Var, reverse mode). With them and F#'s own +, −, ×, ÷, ** (by a float
/// exponent or a scalar), exp, log, sin, cos, tanh, sqrt and abs, one inline function can be
/// differentiated by both modes and by nested duals:
///
///   let inline f (x1: ^S) (x2: ^S) : ^S = x1 * x2 + sin x1 + Scalar.lift 2.0 * Scalar.sigmoid x2
///
/// Constants enter through Scalar.lift: AD scalars do not mix with bare floats (F# would
/// resolve `2.0 * x` in generic code to float arithmetic before it knew the type of x).
module Scalar =

    /// The constant c as a float, float32 or dual number of them (c + 0ε): how dual numbers
    /// build constants for their components. AD code uses lift.
    let inline ofFloat (c: float) : ^R = Scalar.InvokeFromFloat(c, Unchecked.defaultof<Scalar>)

    /// xⁿ for a constant n, with x a float, float32 or dual number of them: how dual numbers
    /// raise their components to a power. AD code writes x ** n.
    let inline power (x: ^S) (n: float) : ^S = Scalar.InvokePowerOf(x, n, Unchecked.defaultof<Scalar>)

    /// The constant c as the AD scalar the context needs: c + 0ε for a dual number, a constant
    /// recorded on no tape for a tape variable. Its derivative is zero.
    let inline lift (c: float) : ^S = (^S: (static member Lift: float -> ^S) c)

    /// σ(x) = 1/(1 + e⁻ˣ), whose derivative is σ(x)(1 − σ(x)).
    let inline sigmoid (x: ^S) : ^S = (^S: (static member Sigmoid: ^S -> ^S) x)

    /// ReLU(x) = max(x, 0), whose derivative is 1 for x > 0 and 0 otherwise (0 at the kink, the
    /// lecture's choice and the library's).
    let inline relu (x: ^S) : ^S = (^S: (static member ReLU: ^S -> ^S) x)

    /// max(a, b) by value: a when a ≥ b, else b; the derivative is that of the one chosen (ties
    /// go to a).
    let inline max (a: ^S) (b: ^S) : ^S = (^S: (static member Max: ^S * ^S -> ^S) (a, b))
