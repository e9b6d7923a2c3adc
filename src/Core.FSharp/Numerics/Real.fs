namespace FunctionalBackprop.Core

open System
open System.Numerics
open FunctionalBackprop.Core.GenericArithmetic

/// Conversions between the library's two real types, float (float64) and float32.
///
/// Every numeric type in the core is generic over 'T with the constraint
/// 'T :> IFloatingPointIeee754&lt;'T&gt;, which float and float32 satisfy. The JIT compiles a
/// separate, fully specialised copy of each generic function for each of them, so the generic
/// arithmetic costs nothing at run time.
module Real =

    /// Converts a float to 'T (rounding to nearest when 'T is float32).
    let inline ofFloat<'T when 'T :> IFloatingPointIeee754<'T>> (x: float) : 'T = 'T.CreateTruncating(x)

    /// Converts a 'T to float (exact for both float and float32).
    let inline toFloat<'T when 'T :> IFloatingPointIeee754<'T>> (x: 'T) : float = Double.CreateTruncating x

    /// Converts an int to 'T.
    let inline ofInt<'T when 'T :> IFloatingPointIeee754<'T>> (n: int) : 'T = 'T.CreateTruncating(n)

    /// The name users see for 'T: "float64" or "float32".
    let typeName<'T when 'T :> IFloatingPointIeee754<'T>> () : string =
        if Type.op_Equality (typeof<'T>, typeof<float32>) then "float32"
        elif Type.op_Equality (typeof<'T>, typeof<float>) then "float64"
        else typeof<'T>.Name

    /// Machine epsilon of 'T: 2⁻⁵² for float, 2⁻²³ for float32.
    let epsilon<'T when 'T :> IFloatingPointIeee754<'T>> () : float =
        if Type.op_Equality (typeof<'T>, typeof<float32>) then 1.1920928955078125e-07 else 2.220446049250313e-16

    /// The natural logarithm ln x ('T.Log is overloaded, which F#'s operators cannot see through).
    let ln<'T when 'T :> IFloatingPointIeee754<'T>> (x: 'T) : 'T = 'T.Log(x)

    /// ln(1 + x), accurate for tiny x (Goldberg's trick: with u = 1 ⊕ x, ln u · x / (u − 1)
    /// corrects the rounding of 1 + x), where ln(1 + x) computed directly would return 0.
    let log1p<'T when 'T :> IFloatingPointIeee754<'T>> (x: 'T) : 'T =
        let u: 'T = 'T.One + x
        if 'T.op_Equality (u, 'T.One) then x
        elif 'T.IsPositiveInfinity(u) then u
        else ln u * x / (u - 'T.One)

    /// softplus(x) = ln(1 + eˣ) = max(x, 0) + ln(1 + e^−|x|), never overflowing.
    let softplus<'T when 'T :> IFloatingPointIeee754<'T>> (x: 'T) : 'T =
        'T.Max(x, 'T.Zero) + log1p ('T.Exp(-('T.Abs(x))))

    /// The logistic sigmoid 1/(1 + e⁻ˣ), computed without overflow for either sign of x.
    let sigmoid<'T when 'T :> IFloatingPointIeee754<'T>> (x: 'T) : 'T =
        if 'T.IsNegative(x) then
            let e = 'T.Exp(x)
            e / ('T.One + e)
        else 'T.One / ('T.One + 'T.Exp(-x))
