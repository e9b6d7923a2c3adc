namespace FunctionalBackprop.Core

/// A dual number w + ẇε with ε² = 0: a value w and its tangent ẇ = ∂w/∂x, the derivative along
/// the direction the inputs were seeded with (the lecture's forward mode, where each variable w
/// is paired with its derivative ẇ). Every operation computes its value and, by the rule in its
/// doc comment, its tangent; so evaluating f on x + 1ε gives f(x) + f'(x)ε.
///
/// 'T is float, float32, or a dual number itself: Dual&lt;Dual&lt;float&gt;&gt; carries second
/// derivatives (nested forward mode, see ForwardMode.secondDerivative). Constants come from
/// Dual.constant or Scalar.lift: a dual does not mix with a bare float (see the Scalar module).
/// Immutable; a plain struct.
[<Struct; NoComparison>]
type Dual<'T> =
    { /// The value w.
      Value: 'T
      /// The tangent ẇ, the derivative of w along the seeded direction.
      Tangent: 'T }

    /// "2.5 + 1ε".
    override d.ToString() = $"{d.Value} + {d.Tangent}ε"

    /// The constant c + 0ε (Scalar.ofFloat's case for dual numbers).
    static member inline FromFloat(c: float, _: Dual< ^a>, _: Scalar) : Dual< ^a> =
        { Value = Scalar.ofFloat c; Tangent = Scalar.ofFloat 0.0 }

    /// The constant c + 0ε (Scalar.lift's case for dual numbers).
    static member inline Lift(c: float) : Dual< ^a> = { Value = Scalar.ofFloat c; Tangent = Scalar.ofFloat 0.0 }

    /// (a + b)˙ = ȧ + ḃ.
    static member inline (+)(a: Dual< ^a>, b: Dual< ^a>) : Dual< ^a> =
        { Value = a.Value + b.Value; Tangent = a.Tangent + b.Tangent }

    /// (a − b)˙ = ȧ − ḃ.
    static member inline (-)(a: Dual< ^a>, b: Dual< ^a>) : Dual< ^a> =
        { Value = a.Value - b.Value; Tangent = a.Tangent - b.Tangent }

    /// (−a)˙ = −ȧ.
    static member inline (~-)(a: Dual< ^a>) : Dual< ^a> = { Value = -a.Value; Tangent = -a.Tangent }

    /// (ab)˙ = ȧb + aḃ (the product rule).
    static member inline (*)(a: Dual< ^a>, b: Dual< ^a>) : Dual< ^a> =
        { Value = a.Value * b.Value; Tangent = a.Tangent * b.Value + a.Value * b.Tangent }

    /// (a/b)˙ = (ȧ − (a/b)ḃ)/b (the quotient rule (ȧb − aḃ)/b², with one division fewer).
    static member inline (/)(a: Dual< ^a>, b: Dual< ^a>) : Dual< ^a> =
        let q = a.Value / b.Value
        { Value = q; Tangent = (a.Tangent - q * b.Tangent) / b.Value }

    /// (aⁿ)˙ = n aⁿ⁻¹ ȧ for a constant exponent n (F#'s a ** n with a float n).
    static member inline Pow(a: Dual< ^a>, n: float) : Dual< ^a> =
        let n': ^a = Scalar.ofFloat n
        { Value = Scalar.power a.Value n; Tangent = n' * Scalar.power a.Value (n - 1.0) * a.Tangent }

    /// aⁿ for a constant n (Scalar.power's case for dual numbers).
    static member inline PowerOf(a: Dual< ^a>, n: float, _: Scalar) : Dual< ^a> = Dual< ^a>.Pow(a, n)

    /// (aᵇ)˙ = b aᵇ⁻¹ ȧ + aᵇ ln a · ḃ, for a > 0 (ln a is NaN below 0 even where ḃ = 0: for a
    /// constant exponent use a ** n with a float n).
    static member inline Pow(a: Dual< ^a>, b: Dual< ^a>) : Dual< ^a> =
        let one: ^a = Scalar.ofFloat 1.0
        let p = a.Value ** b.Value
        { Value = p; Tangent = b.Value * a.Value ** (b.Value - one) * a.Tangent + p * log a.Value * b.Tangent }

    /// (eᵃ)˙ = eᵃ ȧ.
    static member inline Exp(a: Dual< ^a>) : Dual< ^a> =
        let e = exp a.Value
        { Value = e; Tangent = e * a.Tangent }

    /// (ln a)˙ = ȧ/a.
    static member inline Log(a: Dual< ^a>) : Dual< ^a> = { Value = log a.Value; Tangent = a.Tangent / a.Value }

    /// (sin a)˙ = cos a · ȧ.
    static member inline Sin(a: Dual< ^a>) : Dual< ^a> = { Value = sin a.Value; Tangent = cos a.Value * a.Tangent }

    /// (cos a)˙ = −sin a · ȧ.
    static member inline Cos(a: Dual< ^a>) : Dual< ^a> = { Value = cos a.Value; Tangent = -(sin a.Value) * a.Tangent }

    /// (tanh a)˙ = (1 − tanh² a) ȧ.
    static member inline Tanh(a: Dual< ^a>) : Dual< ^a> =
        let one: ^a = Scalar.ofFloat 1.0
        let t = tanh a.Value
        { Value = t; Tangent = (one - t * t) * a.Tangent }

    /// (√a)˙ = ȧ/(2√a).
    static member inline Sqrt(a: Dual< ^a>) : Dual< ^a> =
        let two: ^a = Scalar.ofFloat 2.0
        let r = sqrt a.Value
        { Value = r; Tangent = a.Tangent / (two * r) }

    /// |a|˙ = sign(a) ȧ, taking sign(0) = 1.
    static member inline Abs(a: Dual< ^a>) : Dual< ^a> = if float a.Value < 0.0 then -a else a

    /// σ(a)˙ = σ(a)(1 − σ(a)) ȧ, with σ(a) = 1/(1 + e⁻ᵃ) (0 or 1, never NaN, where e⁻ᵃ overflows).
    static member inline Sigmoid(a: Dual< ^a>) : Dual< ^a> =
        let one: ^a = Scalar.ofFloat 1.0
        let s = one / (one + exp (-a.Value))
        { Value = s; Tangent = s * (one - s) * a.Tangent }

    /// ReLU(a)˙ = ȧ where a > 0, else 0.
    static member inline ReLU(a: Dual< ^a>) : Dual< ^a> =
        if float a.Value > 0.0 then a else { Value = Scalar.ofFloat 0.0; Tangent = Scalar.ofFloat 0.0 }

    /// max(a, b)˙ = ȧ where a ≥ b, else ḃ.
    static member inline Max(a: Dual< ^a>, b: Dual< ^a>) : Dual< ^a> = if float a.Value >= float b.Value then a else b

    /// The value as a float (for a nested dual, the innermost value): what branches compare.
    static member inline op_Explicit(a: Dual< ^a>) : float = float a.Value

/// Making dual numbers.
module Dual =

    /// c + 0ε: a constant, whose tangent is zero.
    let inline constant (c: ^T) : Dual< ^T> = { Value = c; Tangent = Scalar.ofFloat 0.0 }

    /// x + 1ε: the variable to differentiate by.
    let inline variable (x: ^T) : Dual< ^T> = { Value = x; Tangent = Scalar.ofFloat 1.0 }
