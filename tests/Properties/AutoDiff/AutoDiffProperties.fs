/// Forward and reverse mode on generated expression trees: the two modes agree with each other
/// and with finite differences, and the derivative rules of calculus hold.
module FunctionalBackprop.Properties.AutoDiffProperties

open System
open Xunit
open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open FunctionalBackprop.Core
open FunctionalBackprop.Properties.Expressions

/// ∂f/∂xᵢ at x by Ridders' extrapolation of central differences, with its uncertainty. Steps
/// that would carry the point across a kink (ReLU, max) are refused, so the estimate is the
/// derivative of the smooth piece x lies on, the one AD differentiates (None when every step
/// crosses, which the generators make impossible by keeping x 10⁻³ away from kinks).
let private centralDifference (e: Expr) (x: float[]) (i: int) : (float * float) option =
    let here = side e x
    let moved (s: float) = Array.mapi (fun j v -> if j = i then v + s else v) x
    GradientCheck.ridders 2.220446049250313e-16 true (value e x) (fun s -> value e (moved s), side e (moved s) <> here)

/// g agrees with the difference estimate ĝ ± u when what u cannot explain is below 10⁻⁶ of the
/// larger of the two (or of a floor ε^(1/3)·max(1, |f|) for entries near zero), and u itself is
/// fine enough, below 10⁻³ of that scale, for the comparison to have teeth.
let private agreesWithDifferences (what: string) (f: float) (g: float) (estimate: (float * float) option) : Property =
    match estimate with
    | None -> true |> Prop.label $"{what}: no difference step avoided the kinks"
    | Some(numeric, uncertainty) ->
        let scale = List.max [ abs g; abs numeric; 6.0554544523933395e-06 * max 1.0 (abs f) ]
        let error = max 0.0 (abs (g - numeric) - uncertainty) / scale
        (error < 1e-6 && uncertainty / scale < 1e-3)
        |> Prop.label $"{what}: AD {g:R}, differences {numeric:R} ± {uncertainty:E1} (relative error {error:E1})"

/// Entry by entry, expected and actual agree within 10⁻¹² of the size of the terms their sums
/// carry (Expressions.termSizes): rounding, however much the terms cancel, stays far below that.
let private close (what: string) (sizes: float[]) (expected: float[]) (actual: float[]) : Property =
    Array.init expected.Length (fun i ->
        (abs (expected.[i] - actual.[i]) <= 1e-12 * sizes.[i] + 1e-300)
        |> Prop.label $"{what}: entry {i} expected {expected.[i]:R}, got {actual.[i]:R} (terms of size {sizes.[i]:E1})")
    |> Array.fold (.&.) (Prop.ofTestable true)

[<Properties(Arbitrary = [| typeof<Arbitraries> |], MaxTest = 100)>]
module Properties =

    [<Property>]
    let ``forward mode equals reverse mode equals central differences`` (p: Point) =
        let forward = forwardGradient p.Expr p.X
        let reverse = reverseGradient p.Expr p.X
        let f = value p.Expr p.X
        close "forward vs reverse" (termSizes p.Expr p.X) forward reverse
        .&. (forward
             |> Array.mapi (fun i g -> agreesWithDifferences $"∂f/∂x{i + 1}" f g (centralDifference p.Expr p.X i))
             |> Array.reduce (.&.))

    [<Property>]
    let ``sum rule: the gradient of f + g is the sum of their gradients`` (p: Pair) =
        let sum = Add(p.F, p.G)
        [ "forward", forwardGradient; "reverse", reverseGradient ]
        |> List.map (fun (mode, gradient) ->
            close $"{mode} ∇(f + g)" (termSizes sum p.At) (Array.map2 (+) (gradient p.F p.At) (gradient p.G p.At)) (gradient sum p.At))
        |> List.reduce (.&.)

    [<Property>]
    let ``product rule: the gradient of fg is g∇f + f∇g`` (p: Pair) =
        let f, g = value p.F p.At, value p.G p.At
        [ "forward", forwardGradient; "reverse", reverseGradient ]
        |> List.map (fun (mode, gradient) ->
            let expected = Array.map2 (fun df dg -> g * df + f * dg) (gradient p.F p.At) (gradient p.G p.At)
            close $"{mode} ∇(fg)" (termSizes (Mul(p.F, p.G)) p.At) expected (gradient (Mul(p.F, p.G)) p.At))
        |> List.reduce (.&.)

    [<Property>]
    let ``quotient rule: the gradient of f/g is (g∇f − f∇g)/g²`` (p: Pair) =
        let f, g = value p.F p.At, value p.G p.At
        abs g >= 0.1 ==> lazy (
        [ "forward", forwardGradient; "reverse", reverseGradient ]
        |> List.map (fun (mode, gradient) ->
            let expected = Array.map2 (fun df dg -> (g * df - f * dg) / (g * g)) (gradient p.F p.At) (gradient p.G p.At)
            close $"{mode} ∇(f/g)" (termSizes (Div(p.F, p.G)) p.At) expected (gradient (Div(p.F, p.G)) p.At))
        |> List.reduce (.&.))

    [<Property>]
    let ``chain rule: the derivative of f∘g is f'(g(x))·g'(x)`` (c: Composition) =
        let inner = value c.Inner [| c.At |]
        let outerDerivative = ForwardMode.derivative (fun x -> evaluate dual [| x |] c.Outer) inner
        let innerDerivative = ForwardMode.derivative (fun x -> evaluate dual [| x |] c.Inner) c.At
        let expected = [| outerDerivative * innerDerivative |]
        let composite = compose c.Outer c.Inner
        let sizes = termSizes composite [| c.At |]
        close "forward (f∘g)'" sizes expected [| ForwardMode.derivative (fun x -> evaluate dual [| x |] composite) c.At |]
        .&. close "reverse (f∘g)'" sizes expected [| ReverseMode.derivative (fun x -> evaluate var [| x |] composite) c.At |]

    [<Property>]
    let ``nested duals give the second derivative: it equals central differences of the first`` (u: Univariate) =
        let second = ForwardMode.secondDerivative (fun x -> evaluate dual2 [| x |] u.F) u.At
        let first (x: float) = ForwardMode.derivative (fun v -> evaluate dual [| v |] u.F) x
        let here = side u.F [| u.At |]
        let estimate =
            GradientCheck.ridders 2.220446049250313e-16 true (first u.At) (fun s ->
                first (u.At + s), side u.F [| u.At + s |] <> here)
        agreesWithDifferences "f''" (first u.At) second estimate

    [<Property>]
    let ``a Jacobian–vector product and a vector–Jacobian product agree: u·(Jv) = (uᵀJ)·v`` (p: Pair) (seed: int) =
        let n = p.At.Length
        let random = Random(seed)
        let v = Array.init n (fun _ -> random.NextDouble() - 0.5)
        let u = [| random.NextDouble() - 0.5; random.NextDouble() - 0.5 |]
        let valuesForward, jv = ForwardMode.jacobianVectorProduct (fun x -> [| evaluate dual x p.F; evaluate dual x p.G |]) p.At v
        let valuesReverse, uj = ReverseMode.vectorJacobianProduct (fun x -> [| evaluate var x p.F; evaluate var x p.G |]) p.At u
        let dot (a: float[]) (b: float[]) = Array.fold2 (fun acc x y -> acc + x * y) 0.0 a b
        // Both sides are Σᵢⱼ uᵢ (∂fᵢ/∂xⱼ) vⱼ, summed in different orders: the terms' sizes bound the rounding.
        let sizes = [| termSizes p.F p.At; termSizes p.G p.At |]
        let size = Array.map2 (fun ui si -> abs ui * dot si (Array.map abs v)) u sizes |> Array.sum
        (valuesForward = valuesReverse) |> Prop.label $"f(x) differs between the modes: %A{valuesForward} and %A{valuesReverse}"
        .&. close "u·(Jv) = (uᵀJ)·v" [| size |] [| dot u jv |] [| dot uj v |]
