/// Optimizers: their first steps against their formulas computed by hand, and the laws they keep.
module FunctionalBackprop.Properties.OptimizerTests

open System
open Xunit
open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open FunctionalBackprop.Core
open FunctionalBackprop.Properties.Generators

/// The fixed problem: one identity unit a = w·x + b, quadratic cost, x = (1, 2, −1), y = (1, 0, 2),
/// starting from w = 0.5, b = −0.2. With rⱼ = w xⱼ + b − yⱼ the mean-cost gradient is
/// ∂C/∂w = mean(r x), ∂C/∂b = mean(r), computed here by hand (not by backprop).
let private xs, ys = [| 1.0; 2.0; -1.0 |], [| 1.0; 0.0; 2.0 |]
let private x, y = Matrix.ofRows [ xs ], Matrix.ofRows [ ys ]
let private start = Network.ofDense [ Dense.create (Matrix.ofRows [ [| 0.5 |] ]) (Matrix.ofRows [ [| -0.2 |] ]) Activation.Identity ]
let private gradientAt (w: float) (b: float) =
    let r = Array.map2 (fun xi yi -> w * xi + b - yi) xs ys
    Array.average (Array.map2 (*) r xs), Array.average r

/// Three steps of the library's optimizer (with backprop's gradient) from the start.
let private threeSteps (optimizer: Optimizer<float>) =
    let rec go n (network: Network<float>) state acc =
        if n = 0 then List.rev acc
        else
            let g = Backprop.gradient Mode.Inference Loss.Quadratic network x y
            let network', state' = Optimizer.update optimizer state g network
            let layer = (Generators.denseLayers network').Head
            go (n - 1) network' state' ((layer.Weights.[0, 0], layer.Biases.[0, 0]) :: acc)
    go 3 start (Optimizer.init optimizer start) []

/// Three steps of a hand-written rule: step (t, w, b, gw, gb, memory) → (w, b, memory).
let private byHand (memory: 'm) (rule: int -> float -> float -> float -> float -> 'm -> float * float * 'm) =
    let rec go t w b m acc =
        if t > 3 then List.rev acc
        else
            let gw, gb = gradientAt w b
            let w', b', m' = rule t w b gw gb m
            go (t + 1) w' b' m' ((w', b') :: acc)
    go 1 0.5 -0.2 memory []

/// Agreement to rounding: the parameters are of order 1 and a step can cancel most of one (b
/// falls from −0.2 to about 10⁻⁴), so the tolerance is absolute at that scale.
let private agree (expected: (float * float) list) (actual: (float * float) list) =
    List.iteri2
        (fun i (ew, eb) (aw, ab) ->
            Assert.True(Approx.close 1e-14 1e-15 ew aw, $"step {i + 1}: w expected {ew:R}, got {aw:R}")
            Assert.True(Approx.close 1e-14 1e-15 eb ab, $"step {i + 1}: b expected {eb:R}, got {ab:R}"))
        expected actual

let private eta = 0.1

[<Fact>]
let ``SGD: w ← w − η∇C`` () =
    agree (byHand () (fun _ w b gw gb () -> w - eta * gw, b - eta * gb, ())) (threeSteps (Optimizer.sgd (Schedule.Constant eta)))

[<Fact>]
let ``SGD with a 1/t schedule: w ← w − (η/t)∇C`` () =
    agree (byHand () (fun t w b gw gb () -> w - eta / float t * gw, b - eta / float t * gb, ()))
        (threeSteps (Optimizer.sgd (Schedule.InverseTime eta)))

[<Fact>]
let ``SGD with L2: w ← (1 − ηλ/n)w − η∇C, biases undecayed`` () =
    let lambda, n = 5.0, 100
    agree (byHand () (fun _ w b gw gb () -> (1.0 - eta * lambda / float n) * w - eta * gw, b - eta * gb, ()))
        (threeSteps (Optimizer.sgdL2 (Schedule.Constant eta) lambda n))

[<Fact>]
let ``the lecture's momentum: P ← (1 − μ)P + μ∇C, w ← w − ηP`` () =
    let mu = 0.3
    agree (byHand (0.0, 0.0) (fun _ w b gw gb (pw, pb) ->
        let pw, pb = (1.0 - mu) * pw + mu * gw, (1.0 - mu) * pb + mu * gb
        w - eta * pw, b - eta * pb, (pw, pb)))
        (threeSteps (Optimizer.momentum (Schedule.Constant eta) mu))

[<Fact>]
let ``heavy-ball momentum: v ← βv + ∇C, w ← w − ηv`` () =
    let beta = 0.9
    agree (byHand (0.0, 0.0) (fun _ w b gw gb (vw, vb) ->
        let vw, vb = beta * vw + gw, beta * vb + gb
        w - eta * vw, b - eta * vb, (vw, vb)))
        (threeSteps (Optimizer.heavyBall (Schedule.Constant eta) beta))

[<Fact>]
let ``Nesterov momentum: v ← βv + ∇C, w ← w − η(∇C + βv)`` () =
    let beta = 0.9
    agree (byHand (0.0, 0.0) (fun _ w b gw gb (vw, vb) ->
        let vw, vb = beta * vw + gw, beta * vb + gb
        w - eta * (gw + beta * vw), b - eta * (gb + beta * vb), (vw, vb)))
        (threeSteps (Optimizer.nesterov (Schedule.Constant eta) beta))

[<Fact>]
let ``AdaGrad: Γ ← Γ + g², w ← w − η g/(√Γ + ε)`` () =
    let eps = 1e-8
    agree (byHand (0.0, 0.0) (fun _ w b gw gb (sw, sb) ->
        let sw, sb = sw + gw * gw, sb + gb * gb
        w - eta * gw / (Math.Sqrt sw + eps), b - eta * gb / (Math.Sqrt sb + eps), (sw, sb)))
        (threeSteps (Optimizer.adaGrad (Schedule.Constant eta)))

[<Fact>]
let ``RMSProp: Γ ← αΓ + (1 − α)g², w ← w − η g/(√Γ + ε)`` () =
    let alpha, eps = 0.9, 1e-8
    agree (byHand (0.0, 0.0) (fun _ w b gw gb (sw, sb) ->
        let sw, sb = alpha * sw + (1.0 - alpha) * gw * gw, alpha * sb + (1.0 - alpha) * gb * gb
        w - eta * gw / (Math.Sqrt sw + eps), b - eta * gb / (Math.Sqrt sb + eps), (sw, sb)))
        (threeSteps (Optimizer.rmsProp (Schedule.Constant eta) alpha))

/// Adam by the paper: m̂ and v̂ correct the new moments mₜ and vₜ.
let private adamRule (decay: float) t w b gw gb (mw, mb, vw, vb) =
    let b1, b2, eps = 0.9, 0.999, 1e-8
    let mw, mb = b1 * mw + (1.0 - b1) * gw, b1 * mb + (1.0 - b1) * gb
    let vw, vb = b2 * vw + (1.0 - b2) * gw * gw, b2 * vb + (1.0 - b2) * gb * gb
    let c1, c2 = 1.0 - Math.Pow(b1, float t), 1.0 - Math.Pow(b2, float t)
    let stepW = (mw / c1) / (Math.Sqrt(vw / c2) + eps) + decay * w
    let stepB = (mb / c1) / (Math.Sqrt(vb / c2) + eps)
    w - eta * stepW, b - eta * stepB, (mw, mb, vw, vb)

[<Fact>]
let ``Adam: bias-corrected moments of the paper`` () =
    agree (byHand (0.0, 0.0, 0.0, 0.0) (adamRule 0.0)) (threeSteps (Optimizer.adam (Schedule.Constant eta)))

[<Fact>]
let ``AdamW: Adam's step plus decoupled decay ηλw`` () =
    agree (byHand (0.0, 0.0, 0.0, 0.0) (adamRule 0.01)) (threeSteps (Optimizer.adamW (Schedule.Constant eta) 0.01))

[<Fact>]
let ``clipping by global norm, then SGD: g ← g·min(1, c/‖g‖)`` () =
    let c = 0.5
    agree (byHand () (fun _ w b gw gb () ->
        let norm = Math.Sqrt(gw * gw + gb * gb)
        let s = Math.Min(1.0, c / norm)
        w - eta * s * gw, b - eta * s * gb, ()))
        (threeSteps (Optimizer.sgd (Schedule.Constant eta) |> Optimizer.after [ Transform.clipByGlobalNorm c ]))

[<Fact>]
let ``steepest descent with golden section finds the exact step on a quadratic`` () =
    // C is quadratic in η along −∇C: C(w − η g) is minimised at η* = ‖g‖²/(gᵀHg), H = the mean
    // of [x 1][x 1]ᵀ. Near the minimum C changes by about (η − η*)²·gᵀHg/2, which rounding
    // hides once |η − η*| is below about √ε ≈ 1.5·10⁻⁸: that, not the bracket, bounds the error.
    let gw, gb = gradientAt 0.5 -0.2
    let h11, h12, h22 = Array.averageBy (fun v -> v * v) xs, Array.average xs, 1.0
    let exact = (gw * gw + gb * gb) / (gw * gw * h11 + 2.0 * gw * gb * h12 + gb * gb * h22)
    let optimizer = Optimizer.steepestDescent (LineSearch.GoldenSection(10.0, 1e-10))
    let g = Backprop.gradient Mode.Inference Loss.Quadratic start x y
    let objective n = Forward.cost Mode.Inference Loss.Quadratic n x y
    let _, state = Optimizer.updateWith objective optimizer (Optimizer.init optimizer start) g start
    let eta = (Optimizer.learningRate optimizer state).Value
    Assert.True(Math.Abs(eta - exact) < 1e-7, $"η = {eta:R}, exact {exact:R}")

[<Fact>]
let ``backtracking stops at the first rate meeting the Armijo condition`` () =
    // φ(η) = (η − 1)², φ(0) = 1, slope 2: from η₀ = 4 halving, η = 4 and 2 fail
    // φ(η) ≤ 1 − 0.5·2η, and η = 1 is the first that passes.
    let eta = LineSearch.backtracking 4.0 0.5 0.5 20 (fun e -> (e - 1.0) ** 2.0) 1.0 2.0
    Assert.Equal(1.0, eta)

[<Fact>]
let ``a line search without the objective says what it needs`` () =
    let optimizer = Optimizer.steepestDescent (LineSearch.Backtracking(1.0, 0.5, 1e-4, 10))
    let g = Backprop.gradient Mode.Inference Loss.Quadratic start x y
    let e = Assert.Throws<InvalidOperationException>(fun () -> Optimizer.update optimizer (Optimizer.init optimizer start) g start |> ignore)
    Assert.Contains("objective", e.Message)

let private rate = Schedule.Constant 0.01

/// The optimizers whose step is zero for a zero gradient (no weight decay).
let undecayed: Optimizer<float> list =
    let r = rate
    [ Optimizer.sgd r
      Optimizer.sgd (Schedule.InverseTime 0.05)
      Optimizer.momentum r 0.5
      Optimizer.heavyBall r 0.9
      Optimizer.nesterov r 0.9
      Optimizer.adaGrad r
      Optimizer.rmsProp r 0.9
      Optimizer.adam r
      Optimizer.sgd r |> Optimizer.after [ Transform.clipByGlobalNorm 1.0 ]
      Optimizer.steepestDescent (LineSearch.Backtracking(1.0, 0.5, 1e-4, 30))
      Optimizer.steepestDescent (LineSearch.GoldenSection(2.0, 1e-6)) ]

/// Every optimizer, with rates small enough for a convex quadratic.
let optimizers: Optimizer<float> list = undecayed @ [ Optimizer.sgdL2 rate 0.1 100; Optimizer.adamW rate 0.001 ]

type OptimizerCase = { Optimizer: Optimizer<float>; Case: Case }

/// An optimizer without weight decay, and a case.
type UndecayedCase = { Undecayed: OptimizerCase }

type OptimizerArbitraries =
    static member OptimizerCase() =
        Gen.map2 (fun o c -> { Optimizer = o; Case = c }) (Gen.elements optimizers) case |> Arb.fromGen
    static member UndecayedCase() =
        Gen.map2 (fun o c -> { Undecayed = { Optimizer = o; Case = c } }) (Gen.elements undecayed) case |> Arb.fromGen
    static member Case() = Arbitraries.Case()

let private snapshot (network: Network<float>) (state: OptimizerState<float>) (g: Gradients<float>) =
    let ofGradients (g: Gradients<float>) = g.Layers |> List.collect (fun l -> l.Tensors |> List.map (fun m -> m.ToArray()))
    (Parameters.arrays network |> Array.map Array.copy |> List.ofArray),
    (OptimizerState.slots state |> List.collect ofGradients),
    ofGradients g

[<Properties(Arbitrary = [| typeof<OptimizerArbitraries> |], MaxTest = 100)>]
module Laws =

    let private objective (c: Case) = fun n -> Forward.cost Mode.Inference c.Loss n (c.Inputs<float> ()) (c.TargetMatrix<float> ())

    [<Property>]
    let ``a zero gradient leaves the network unchanged`` (u: UndecayedCase) =
        let oc = u.Undecayed
        let network = oc.Case.Network<float> ()
        let zero = Gradients.zero network
        let moved, _ = Optimizer.updateWith (objective oc.Case) oc.Optimizer (Optimizer.init oc.Optimizer network) zero network
        Parameters.toArray moved = Parameters.toArray network |> Prop.label oc.Optimizer.Name

    [<Property>]
    let ``with a zero gradient, weight decay alone shrinks the weights`` (c: Case) =
        // SGD with L2: w ← (1 − ηλ/n)w; AdamW: w ← w − ηλw (Adam's own step is 0 for g = 0).
        let network = c.Network<float> ()
        let zero = Gradients.zero network
        let check (optimizer: Optimizer<float>) (factor: float) =
            let moved, _ = Optimizer.update optimizer (Optimizer.init optimizer network) zero network
            let expected = Generators.denseLayers network |> List.map (fun l -> Matrix.scale factor l.Weights, l.Biases)
            List.forall2 (fun (ew: Matrix<float>, eb: Matrix<float>) (l: Dense<float>) ->
                Array.forall2 (Approx.close 1e-15 1e-300) (ew.ToArray()) (l.Weights.ToArray()) && eb.ToArray() = l.Biases.ToArray())
                expected (Generators.denseLayers moved)
            |> Prop.label optimizer.Name
        check (Optimizer.sgdL2 rate 0.1 100) (1.0 - 0.01 * 0.1 / 100.0) .&. check (Optimizer.adamW rate 0.001) (1.0 - 0.01 * 0.001)

    [<Property>]
    let ``an update never changes its inputs`` (oc: OptimizerCase) =
        let network = oc.Case.Network<float> ()
        let g = Backprop.gradient Mode.Inference oc.Case.Loss network (oc.Case.Inputs<float> ()) (oc.Case.TargetMatrix<float> ())
        let n1, s1 = Optimizer.updateWith (objective oc.Case) oc.Optimizer (Optimizer.init oc.Optimizer network) g network
        let before = snapshot n1 s1 g
        Optimizer.updateWith (objective oc.Case) oc.Optimizer s1 g n1 |> ignore
        (before = snapshot n1 s1 g) |> Prop.label oc.Optimizer.Name

    [<Property>]
    let ``on a random convex quadratic every optimizer lowers the loss`` (oc: OptimizerCase) =
        // A linear network with the quadratic cost is a convex quadratic in its parameters.
        let c = { oc.Case with Layers = [ fst (List.last oc.Case.Layers), Activation.Identity ]; Loss = Loss.Quadratic }
        let network, x, y = c.Network<float> (), c.Inputs<float> (), c.TargetMatrix<float> ()
        let cost n = Forward.cost Mode.Inference Loss.Quadratic n x y
        let rec run k (n: Network<float>) s = if k = 0 then n else let n', s' = Optimizer.updateWith cost oc.Optimizer s (Backprop.gradient Mode.Inference Loss.Quadratic n x y) n in run (k - 1) n' s'
        let after = cost (run 5 network (Optimizer.init oc.Optimizer network))
        (after < cost network) |> Prop.label $"{oc.Optimizer.Name}: {cost network:R} → {after:R}"

    [<Property>]
    let ``Adam's first step moves each weight by about η whatever the gradient's scale`` (c: Case) (k: int) =
        let network = c.Network<float> ()
        let scale = Math.Pow(10.0, float (k % 5))
        let g = Backprop.gradient Mode.Inference c.Loss network (c.Inputs<float> ()) (c.TargetMatrix<float> ()) |> Gradients.scale scale
        let adam = Optimizer.adam (Schedule.Constant 0.01)
        let moved, _ = Optimizer.update adam (Optimizer.init adam network) g network
        let delta = Gradients.ofArray network (Array.map2 (-) (Parameters.toArray moved) (Parameters.toArray network))
        // |Δ| = η|g|/(|g| + ε) with ε = 10⁻⁸: within 10⁻⁶ of η wherever |g| ≥ 10⁻², and never above η.
        Parameters.indices network
        |> List.forall (fun p ->
            let gi, di = Math.Abs(Gradients.item p g), Math.Abs(Gradients.item p delta)
            di <= 0.01 * (1.0 + 1e-12) && (gi < 1e-2 || Math.Abs(di - 0.01) <= 1e-8))
        |> Prop.label $"scale {scale}"

    [<Property>]
    let ``schedules are positive and 1/t is η/t`` (t: PositiveInt) (k: int) =
        let t = int64 t.Get
        let eta = 0.1 + float (abs k % 10)
        let schedules =
            [ Schedule.Constant eta; Schedule.InverseTime eta; Schedule.StepDecay(eta, 0.5, 3)
              Schedule.Exponential(eta, 0.99); Schedule.Cosine(eta, eta / 100.0, 50) ]
        (schedules |> List.forall (fun s -> Schedule.rate s t > 0.0)) |> Prop.label "positive"
        .&. (Approx.close 1e-15 0.0 (eta / float t) (Schedule.rate (Schedule.InverseTime eta) t) |> Prop.label "η/t")
        .&. ((Schedule.rate (Schedule.InverseTime eta) (t + 1L) < Schedule.rate (Schedule.InverseTime eta) t) |> Prop.label "decreasing")

[<Fact>]
let ``the cosine schedule runs from η to its final rate`` () =
    let s = Schedule.Cosine(1.0, 0.1, 10)
    Assert.Equal(1.0, Schedule.rate s 1L)
    Assert.Equal(0.55, Schedule.rate s 6L, 15)
    Assert.Equal(0.1, Schedule.rate s 11L, 15)
    Assert.Equal(0.1, Schedule.rate s 1000L, 15)

[<Fact>]
let ``bad hyper-parameters are refused with their name and value`` () =
    let refuses (name: string) (value: string) (make: unit -> obj) =
        let e = Assert.ThrowsAny<ArgumentException>(fun () -> make () |> ignore)
        Assert.Contains(name, e.Message)
        Assert.Contains(value, e.Message)
    refuses "learning rate" "0" (fun () -> box (Optimizer.sgd<float> (Schedule.Constant 0.0)))
    refuses "learning rate" "-0.5" (fun () -> box (Optimizer.adam<float> (Schedule.Constant -0.5)))
    refuses "beta" "1" (fun () -> box (Optimizer.heavyBall<float> (Schedule.Constant 0.1) 1.0))
    refuses "beta1" "-0.1" (fun () -> box (Optimizer.adamWith<float> (Schedule.Constant 0.1) -0.1 0.999 1e-8))
    refuses "beta2" "1.5" (fun () -> box (Optimizer.adamWith<float> (Schedule.Constant 0.1) 0.9 1.5 1e-8))
    refuses "alpha" "1" (fun () -> box (Optimizer.rmsProp<float> (Schedule.Constant 0.1) 1.0))
    refuses "factor" "1.5" (fun () -> box (Optimizer.sgd<float> (Schedule.Exponential(0.1, 1.5))))
    refuses "maxNorm" "0" (fun () -> box (Transform.clipByGlobalNorm<float> 0.0))
