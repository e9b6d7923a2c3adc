/// Generated expression trees over a few inputs, and one evaluator for every scalar type: the
/// same tree evaluated on dual numbers (forward mode), nested duals and tape variables (reverse
/// mode), so that the modes can be compared with each other and with finite differences.
module FunctionalBackprop.Properties.Expressions

open System
open FsCheck
open FsCheck.FSharp
open FunctionalBackprop.Core

/// An expression in the inputs x₁ … xₙ built from the elementary operations AD knows.
type Expr =
    | X of int
    | Add of Expr * Expr
    | Sub of Expr * Expr
    | Mul of Expr * Expr
    | Div of Expr * Expr
    | Neg of Expr
    /// c·e
    | Scale of float * Expr
    /// c + e
    | Shift of float * Expr
    /// eᵖ for a constant p
    | Power of Expr * float
    | Exp of Expr
    | Log of Expr
    | Sin of Expr
    | Cos of Expr
    | Tanh of Expr
    | Sqrt of Expr
    | Sigmoid of Expr
    | ReLU of Expr
    | Max of Expr * Expr

    override e.ToString() =
        match e with
        | X i -> $"x{i + 1}"
        | Add(a, b) -> $"({a} + {b})"
        | Sub(a, b) -> $"({a} - {b})"
        | Mul(a, b) -> $"{a}·{b}"
        | Div(a, b) -> $"{a}/{b}"
        | Neg a -> $"-{a}"
        | Scale(c, a) -> $"{c}·{a}"
        | Shift(c, a) -> $"({c} + {a})"
        | Power(a, p) -> $"{a}^{p}"
        | Exp a -> $"exp {a}"
        | Log a -> $"ln {a}"
        | Sin a -> $"sin {a}"
        | Cos a -> $"cos {a}"
        | Tanh a -> $"tanh {a}"
        | Sqrt a -> $"sqrt {a}"
        | Sigmoid a -> $"σ({a})"
        | ReLU a -> $"relu({a})"
        | Max(a, b) -> $"max({a}, {b})"

/// The operations an evaluator needs from a scalar type.
type Algebra<'S> =
    { Constant: float -> 'S
      Add: 'S -> 'S -> 'S
      Sub: 'S -> 'S -> 'S
      Mul: 'S -> 'S -> 'S
      Div: 'S -> 'S -> 'S
      Neg: 'S -> 'S
      Power: 'S -> float -> 'S
      Exp: 'S -> 'S
      Log: 'S -> 'S
      Sin: 'S -> 'S
      Cos: 'S -> 'S
      Tanh: 'S -> 'S
      Sqrt: 'S -> 'S
      Sigmoid: 'S -> 'S
      ReLU: 'S -> 'S
      Max: 'S -> 'S -> 'S
      ToFloat: 'S -> float }

/// The algebra of an AD scalar type, from F#'s operators and the Scalar module alone: the way a
/// user writes one function for every mode.
let inline algebra () : Algebra< ^S> =
    { Constant = Scalar.lift
      Add = fun a b -> a + b
      Sub = fun a b -> a - b
      Mul = fun a b -> a * b
      Div = fun a b -> a / b
      Neg = fun a -> -a
      Power = fun a p -> a ** p
      Exp = exp
      Log = log
      Sin = sin
      Cos = cos
      Tanh = tanh
      Sqrt = sqrt
      Sigmoid = Scalar.sigmoid
      ReLU = Scalar.relu
      Max = Scalar.max
      ToFloat = float }

let dual: Algebra<Dual<float>> = algebra ()
let dual2: Algebra<Dual<Dual<float>>> = algebra ()
let var: Algebra<Var> = algebra ()

/// e evaluated with the inputs x in the algebra's scalar type.
let rec evaluate (ops: Algebra<'S>) (x: 'S[]) (e: Expr) : 'S =
    let go = evaluate ops x
    match e with
    | X i -> x.[i]
    | Add(a, b) -> ops.Add (go a) (go b)
    | Sub(a, b) -> ops.Sub (go a) (go b)
    | Mul(a, b) -> ops.Mul (go a) (go b)
    | Div(a, b) -> ops.Div (go a) (go b)
    | Neg a -> ops.Neg (go a)
    | Scale(c, a) -> ops.Mul (ops.Constant c) (go a)
    | Shift(c, a) -> ops.Add (ops.Constant c) (go a)
    | Power(a, p) -> ops.Power (go a) p
    | Exp a -> ops.Exp (go a)
    | Log a -> ops.Log (go a)
    | Sin a -> ops.Sin (go a)
    | Cos a -> ops.Cos (go a)
    | Tanh a -> ops.Tanh (go a)
    | Sqrt a -> ops.Sqrt (go a)
    | Sigmoid a -> ops.Sigmoid (go a)
    | ReLU a -> ops.ReLU (go a)
    | Max(a, b) -> ops.Max (go a) (go b)

/// f(x) in plain arithmetic (dual numbers with zero tangents).
let value (e: Expr) (x: float[]) : float = (evaluate dual (Array.map Dual.constant x) e).Value

/// ∇f(x) by forward mode, one pass per input.
let forwardGradient (e: Expr) (x: float[]) : float[] = ForwardMode.gradient (fun v -> evaluate dual v e) x

/// ∇f(x) by reverse mode, one evaluation and one sweep.
let reverseGradient (e: Expr) (x: float[]) : float[] = ReverseMode.gradient (fun v -> evaluate var v e) x

/// Forward mode on magnitudes: each tangent is Σ |∂wᵢ/∂wⱼ|·|ẇⱼ| instead of Σ (∂wᵢ/∂wⱼ)·ẇⱼ, so
/// the gradient it gives is the sum over every path of |the product of its partials|: the size
/// of the terms whose rounding AD's sums carry, however much they cancel. Tolerances of the
/// comparisons are relative to it.
let private magnitudes: Algebra<Dual<float>> =
    let d v t : Dual<float> = { Value = v; Tangent = t }
    let unary (f: float -> float) (f': float -> float) (a: Dual<float>) = d (f a.Value) (abs (f' a.Value) * abs a.Tangent)
    { Constant = fun c -> d c 0.0
      Add = fun a b -> d (a.Value + b.Value) (abs a.Tangent + abs b.Tangent)
      Sub = fun a b -> d (a.Value - b.Value) (abs a.Tangent + abs b.Tangent)
      Mul = fun a b -> d (a.Value * b.Value) (abs b.Value * abs a.Tangent + abs a.Value * abs b.Tangent)
      Div = fun a b -> let q = a.Value / b.Value in d q ((abs a.Tangent + abs q * abs b.Tangent) / abs b.Value)
      Neg = fun a -> d (-a.Value) (abs a.Tangent)
      Power = fun a p -> unary (fun v -> v ** p) (fun v -> p * v ** (p - 1.0)) a
      Exp = unary exp exp
      Log = unary log (fun v -> 1.0 / v)
      Sin = unary sin cos
      Cos = unary cos sin
      Tanh = unary tanh (fun v -> 1.0 - tanh v * tanh v)
      Sqrt = unary sqrt (fun v -> 0.5 / sqrt v)
      Sigmoid = unary Real.sigmoid (fun v -> Real.sigmoid v * (1.0 - Real.sigmoid v))
      ReLU = fun a -> if a.Value > 0.0 then d a.Value (abs a.Tangent) else d 0.0 0.0
      Max = fun a b -> if a.Value >= b.Value then d a.Value (abs a.Tangent) else d b.Value (abs b.Tangent)
      ToFloat = fun a -> a.Value }

/// For each input, the sum over all paths from it to f of |the product of the partials|.
let termSizes (e: Expr) (x: float[]) : float[] = ForwardMode.gradient (fun v -> evaluate magnitudes v e) x

/// Every kink (ReLU argument, difference of max's arguments) at x: how far the point is from one.
let rec kinks (x: float[]) (e: Expr) : float list =
    let children =
        match e with
        | X _ -> []
        | Add(a, b) | Sub(a, b) | Mul(a, b) | Div(a, b) | Max(a, b) -> [ a; b ]
        | Neg a | Scale(_, a) | Shift(_, a) | Power(a, _) | Exp a | Log a | Sin a | Cos a | Tanh a | Sqrt a | Sigmoid a | ReLU a -> [ a ]
    let here =
        match e with
        | ReLU a -> [ value a x ]
        | Max(a, b) -> [ value a x - value b x ]
        | _ -> []
    here @ List.collect (kinks x) children

/// Which side of each kink x lies on: two points with the same pattern lie on one smooth piece.
let side (e: Expr) (x: float[]) : bool list = kinks x e |> List.map (fun k -> k > 0.0)

/// The distance from x to the nearest kink (∞ for a smooth expression).
let kinkMargin (e: Expr) (x: float[]) : float = kinks x e |> List.fold (fun m k -> min m (abs k)) Double.PositiveInfinity

/// The expression with X 0 replaced by g: f∘g for expressions in one input.
let rec compose (f: Expr) (g: Expr) : Expr =
    let go e = compose e g
    match f with
    | X _ -> g
    | Add(a, b) -> Add(go a, go b)
    | Sub(a, b) -> Sub(go a, go b)
    | Mul(a, b) -> Mul(go a, go b)
    | Div(a, b) -> Div(go a, go b)
    | Neg a -> Neg(go a)
    | Scale(c, a) -> Scale(c, go a)
    | Shift(c, a) -> Shift(c, go a)
    | Power(a, p) -> Power(go a, p)
    | Exp a -> Exp(go a)
    | Log a -> Log(go a)
    | Sin a -> Sin(go a)
    | Cos a -> Cos(go a)
    | Tanh a -> Tanh(go a)
    | Sqrt a -> Sqrt(go a)
    | Sigmoid a -> Sigmoid(go a)
    | ReLU a -> ReLU(go a)
    | Max(a, b) -> Max(go a, go b)

let private constant: Gen<float> = Gen.choose (-30, 30) |> Gen.map (fun k -> float k / 10.0)

/// A tree of the given depth in n inputs. Operations with a restricted domain get arguments
/// that respect it by construction: ln, √, fractional and negative powers take 1 + e², and
/// division divides by 1 + e², so every generated expression is defined everywhere.
let rec tree (n: int) (depth: int) : Gen<Expr> =
    let leaf = Gen.choose (0, n - 1) |> Gen.map X
    if depth = 0 then leaf
    else
        let sub = tree n (depth - 1)
        let positive = sub |> Gen.map (fun e -> Shift(1.0, Mul(e, e)))
        Gen.frequency
            [ 3, leaf
              2, Gen.map2 (fun a b -> Add(a, b)) sub sub
              2, Gen.map2 (fun a b -> Sub(a, b)) sub sub
              3, Gen.map2 (fun a b -> Mul(a, b)) sub sub
              1, Gen.map2 (fun a b -> Div(a, b)) sub positive
              1, Gen.map Neg sub
              1, Gen.map2 (fun c e -> Scale(c, e)) constant sub
              1, Gen.map2 (fun c e -> Shift(c, e)) constant sub
              1, Gen.map2 (fun e p -> Power(e, p)) sub (Gen.elements [ 2.0; 3.0 ])
              1, Gen.map2 (fun e p -> Power(e, p)) positive (Gen.elements [ 0.5; 1.5; -0.5; -2.0 ])
              1, Gen.map Exp sub
              1, Gen.map Log positive
              1, Gen.map Sin sub
              1, Gen.map Cos sub
              1, Gen.map Tanh sub
              1, Gen.map Sqrt positive
              1, Gen.map Sigmoid sub
              1, Gen.map ReLU sub
              1, Gen.map2 (fun a b -> Max(a, b)) sub sub ]

/// True when an expression's value and gradient at x are finite and of moderate size, so that
/// comparisons are about derivatives and not about overflow.
let moderate (e: Expr) (x: float[]) : bool =
    let ok (v: float) = Double.IsFinite v && abs v < 1e6
    ok (value e x) && Array.forall ok (forwardGradient e x)

/// ∂²f/∂xᵢ² for each input, by nested duals along xᵢ.
let curvatures (e: Expr) (x: float[]) : float[] =
    Array.init x.Length (fun i ->
        ForwardMode.secondDerivative (fun t -> evaluate dual2 (Array.mapi (fun j xj -> if i = j then t + Dual.constant (Dual.constant xj) else Dual.constant (Dual.constant xj)) x) e) 0.0)

/// An expression, a point and its input count.
type Point =
    { Expr: Expr
      X: float[] }

    override p.ToString() = $"""f = {p.Expr} at x = [{String.Join("; ", p.X |> Array.map (fun v -> v.ToString "R"))}]"""

let private coordinate: Gen<float> = Gen.choose (-2000, 2000) |> Gen.map (fun k -> float k / 1000.0)

/// A point for an expression in n inputs.
let pointFor (n: int) (e: Expr) : Gen<Point> = Gen.arrayOfLength n coordinate |> Gen.map (fun x -> { Expr = e; X = x })

/// An expression of depth 1–4 in 1–4 inputs with a point where it is moderate, at least 10⁻³
/// from every kink (where finite differences would straddle the kink), and curved gently enough
/// (|∂²f/∂xᵢ²| < 10⁴) for differences to resolve its derivative: near x = 1.3,
/// cos(exp(exp x)) turns through a radian every 10⁻³, and no step size serves.
let point: Gen<Point> =
    gen {
        let! n = Gen.choose (1, 4)
        let! depth = Gen.choose (1, 4)
        let! e = tree n depth
        return! pointFor n e
    }
    |> Gen.filter (fun p ->
        moderate p.Expr p.X && kinkMargin p.Expr p.X >= 1e-3 && curvatures p.Expr p.X |> Array.forall (fun c -> abs c < 1e4))

/// Two expressions in the same inputs at a point where both are moderate.
type Pair = { F: Expr; G: Expr; At: float[] }

/// Two expressions in 1–4 inputs at a moderate point.
let pair (inputs: int) : Gen<Pair> =
    gen {
        let! n = Gen.choose (1, inputs)
        let! f = Gen.choose (1, 3) |> Gen.bind (tree n)
        let! g = Gen.choose (1, 3) |> Gen.bind (tree n)
        let! p = pointFor n f
        return { F = f; G = g; At = p.X }
    }
    |> Gen.filter (fun p -> moderate p.F p.At && moderate p.G p.At)

/// f and g of one input, at a point where f∘g is moderate.
type Composition = { Outer: Expr; Inner: Expr; At: float }

/// A composition f∘g at a moderate point.
let composition: Gen<Composition> =
    pair 1
    |> Gen.map (fun p -> { Outer = p.F; Inner = p.G; At = p.At.[0] })
    |> Gen.filter (fun c -> moderate (compose c.Outer c.Inner) [| c.At |])

/// An expression in one input at a point 10⁻³ or more from every kink, where its first and
/// second derivatives are moderate.
type Univariate = { F: Expr; At: float }

/// An expression of depth 1–3 in one input at such a point.
let univariate: Gen<Univariate> =
    gen {
        let! depth = Gen.choose (1, 3)
        let! f = tree 1 depth
        let! p = pointFor 1 f
        return { Univariate.F = f; At = p.X.[0] }
    }
    |> Gen.filter (fun u ->
        let ok (v: float) = Double.IsFinite v && abs v < 1e6
        moderate u.F [| u.At |] && kinkMargin u.F [| u.At |] >= 1e-3
        && ok (ForwardMode.secondDerivative (fun x -> evaluate dual2 [| x |] u.F) u.At))

/// The generators FsCheck looks up by type.
type Arbitraries =
    static member Point() : Arbitrary<Point> = Arb.fromGen point
    static member Pair() : Arbitrary<Pair> = Arb.fromGen (pair 4)
    static member Composition() : Arbitrary<Composition> = Arb.fromGen composition
    static member Univariate() : Arbitrary<Univariate> = Arb.fromGen univariate
