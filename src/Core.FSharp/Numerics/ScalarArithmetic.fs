namespace FunctionalBackprop.Core

/// The arithmetic of one kind of scalar as an object, so that a computation written once, one
/// scalar at a time, runs on plain floats, on dual numbers (forward mode) and on tape variables
/// (reverse mode): each layer kind writes its forward rule this way beside its batched one, and
/// automatic differentiation of that scalar code is an independent check of backprop
/// (NetworkAutoDiff).
[<AbstractClass>]
type ScalarArithmetic<'S>() =
    /// The constant c, whose derivative is zero.
    abstract Lift: c: float -> 'S
    /// The value as a float (for comparisons that choose a branch: a kink, a maximum).
    abstract Value: x: 'S -> float
    /// a + b.
    abstract Add: a: 'S * b: 'S -> 'S
    /// a − b.
    abstract Subtract: a: 'S * b: 'S -> 'S
    /// −a.
    abstract Negate: a: 'S -> 'S
    /// a·b.
    abstract Multiply: a: 'S * b: 'S -> 'S
    /// a/b.
    abstract Divide: a: 'S * b: 'S -> 'S
    /// eˣ.
    abstract Exp: x: 'S -> 'S
    /// ln x.
    abstract Log: x: 'S -> 'S
    /// √x.
    abstract Sqrt: x: 'S -> 'S
    /// tanh x.
    abstract Tanh: x: 'S -> 'S
    /// 1/(1 + e⁻ˣ).
    abstract Sigmoid: x: 'S -> 'S
    /// max(x, 0), with derivative 0 at the kink.
    abstract ReLU: x: 'S -> 'S

    /// The sum of the terms from the first to the last, a + b + c … in that order (0 for none).
    member s.Sum(terms: 'S[]) : 'S =
        if terms.Length = 0 then s.Lift 0.0 else Array.reduce (fun a b -> s.Add(a, b)) terms
