/// Numerical extremes: logits of ±1e4, inputs of 1e300 and 1e-300, targets of exactly 0 and 1,
/// saturated sigmoids, softmax over equal inputs. Losses and gradients stay finite and equal their
/// exact values where those are representable; where the math is not defined (a loss that does
/// not suit the output layer, targets outside its range, inputs that are not finite) the error
/// says so.
module FunctionalBackprop.Properties.ExtremeValueTests

open System
open Xunit
open FunctionalBackprop.Core

let private column (values: float list) = Matrix.ofColumns [ Array.ofList values ]

let private delta loss output (z: Matrix<'T>) (y: Matrix<'T>) : 'T[] =
    match Upstream.ofLoss loss output z (Activation.apply output z) y with
    | Delta d -> d.ToArray()
    | OutputGradient g -> (Activation.backward output z (Activation.apply output z) g).ToArray()

let private value loss output (z: Matrix<'T>) (y: Matrix<'T>) : 'T =
    Loss.value loss output z (Activation.apply output z) y

/// The three pairings that take logarithms, with a batch of two columns of logits ±1e4 and 0,
/// targets of exactly 0 and 1, and the exact mean cost and δ = ∂C/∂z.
let private crossEntropyCases =
    let z = Matrix.ofColumns [ [| 1e4; -1e4; 0.0 |]; [| -1e4; 1e4; 0.0 |] ]
    [ // softmax: C₁ = lse − z₂ = 2e4, C₂ = 0; δ = (a − y)/2 with a one-hot on the largest logit.
      "cross-entropy, softmax", Loss.CrossEntropy, Activation.Softmax, z,
      Matrix.ofColumns [ [| 0.0; 1.0; 0.0 |]; [| 0.0; 1.0; 0.0 |] ], 1e4,
      [| 0.5; -0.5; 0.0; 0.0; 0.0; 0.0 |]
      // sigmoid: Cₓ = Σ yᵢ softplus(−zᵢ): softplus(1e4) = 1e4 once; δ = −y σ(−z)/2.
      "cross-entropy, sigmoid", Loss.CrossEntropy, Activation.Sigmoid, z,
      Matrix.ofColumns [ [| 0.0; 1.0; 0.0 |]; [| 1.0; 0.0; 0.0 |] ], 1e4,
      [| 0.0; -0.5; 0.0; -0.5; 0.0; 0.0 |]
      // binary: softplus(1e4) = 1e4 for each of three wrong certainties, ln 2 for each 0 logit; δ = (a − y)/2.
      "binary cross-entropy", Loss.BinaryCrossEntropy, Activation.Sigmoid, z,
      Matrix.ofColumns [ [| 0.0; 1.0; 1.0 |]; [| 1.0; 1.0; 0.0 |] ], (3e4 + 2.0 * Math.Log 2.0) / 2.0,
      [| 0.5; -0.5; -0.25; -0.5; 0.0; 0.25 |] ]

[<Fact>]
let ``logits of ±1e4 with targets of exactly 0 and 1 give the exact cost and δ, in float64 and float32`` () =
    for what, loss, output, z, y, cost, expectedDelta in crossEntropyCases do
        let c = value loss output z y
        Assert.True(Approx.close 1e-15 0.0 cost c, $"{what}: C = {c:R}, expected {cost:R}")
        Assert.Equal<float[]>(expectedDelta, delta loss output z y)
        let z32 = Matrix.ofColumnMajor 3 2 (z.ToArray() |> Array.map float32)
        let y32 = Matrix.ofColumnMajor 3 2 (y.ToArray() |> Array.map float32)
        let c32 = value loss output z32 y32
        Assert.True(Single.IsFinite c32, $"{what}, float32: C = {c32}")
        Assert.Equal(float32 cost, c32)
        Assert.Equal<float32[]>(expectedDelta |> Array.map float32, delta loss output z32 y32)

[<Fact>]
let ``the textbook formula is infinite where the stable one is exact`` () =
    // σ(40) is exactly 1.0 in float64, so ln(1 − a) is ln 0; the stable path works from z.
    let z, y = column [ 40.0; -40.0 ], column [ 0.0; 1.0 ]
    let a = Activation.apply Activation.Sigmoid z
    Assert.Equal(1.0, a.[0, 0])
    Assert.True(Double.IsPositiveInfinity(Loss.ofOutputs Loss.BinaryCrossEntropy a y))
    // softplus(40) = 40 + ln(1 + e⁻⁴⁰), which is 40 in float64, twice.
    Assert.Equal(80.0, Loss.value Loss.BinaryCrossEntropy Activation.Sigmoid z a y)
    Assert.Equal<float[]>([| 1.0; a.[1, 0] - 1.0 |], delta Loss.BinaryCrossEntropy Activation.Sigmoid z y)

[<Fact>]
let ``softmax over equal inputs is uniform and its cross-entropy is ln k, however large the inputs`` () =
    for k in [ 2; 3; 7; 10 ] do
        for level in [ 0.0; -3.5; 1e4; -1e4; 1e300; -1e300 ] do
            let z = Matrix.ofColumns [ Array.create k level ]
            let a = Activation.apply Activation.Softmax z
            Assert.All(a.ToArray(), fun p -> Assert.Equal(1.0 / float k, p, 15))
            let y = Matrix.ofColumns [ Array.init k (fun i -> if i = 0 then 1.0 else 0.0) ]
            // A one-hot target: C = ln k exactly, which is lost if ln k is added to 1e300 first.
            Assert.Equal(Math.Log(float k), value Loss.CrossEntropy Activation.Softmax z y)
            let d = delta Loss.CrossEntropy Activation.Softmax z y
            Assert.Equal(1.0 / float k - 1.0, d.[0], 15)
            Assert.All(d.[1..], fun v -> Assert.Equal(1.0 / float k, v, 15))

/// A 3-input network with a saturating hidden layer and a softmax output, with fixed weights.
let private network hidden : Network<float> =
    let w1 = Matrix.ofColumns [ [| 0.5; -0.25; 1.0; 0.75 |]; [| 0.25; 0.5; -0.5; 0.5 |]; [| -0.75; 0.25; 0.25; 1.0 |] ]
    let w2 = Matrix.ofColumns [ [| 0.5; -0.5 |]; [| 1.0; 0.25 |]; [| -0.25; 0.75 |]; [| 0.5; 1.0 |] ]
    Network.ofDense
        [ Dense.create w1 (column [ 0.1; -0.2; 0.3; 0.0 ]) hidden
          Dense.create w2 (column [ 0.05; -0.05 ]) Activation.Softmax ]

let private finite (g: Gradients<float>) =
    g.Layers |> List.forall (fun l -> Array.forall Double.IsFinite (l.Tensors.[0].ToArray()) && Array.forall Double.IsFinite (l.Tensors.[1].ToArray()))

[<Fact>]
let ``inputs of 1e300 saturate sigmoid and tanh layers: the gradient is finite and equals the saturated one`` () =
    let y = column [ 0.0; 1.0 ]
    for hidden in [ Activation.Sigmoid; Activation.Tanh ] do
        let huge = column [ 1e300; -1e300; 1e300 ]
        // Inputs of 1e6 saturate the layer just as completely in float64 (σ(z) is exactly 0 below
        // z ≈ −745 and exactly 1 above 37).
        let large = column [ 1e6; -1e6; 1e6 ]
        let cost, g = Backprop.lossAndGradient Mode.Inference Loss.CrossEntropy (network hidden) huge y
        let cost', g' = Backprop.lossAndGradient Mode.Inference Loss.CrossEntropy (network hidden) large y
        Assert.True(Double.IsFinite cost && finite g, $"{Activation.name hidden}: cost {cost}")
        Assert.Equal(cost', cost)
        // σ'(z) is exactly 0 at saturation, so layer 1's gradient is 0 (its true value, e^(−1e300)·1e300, underflows).
        Assert.All(g.Layers.[0].Tensors.[0].ToArray(), fun v -> Assert.Equal(0.0, v))
        Assert.Equal<float[]>(g'.Layers.[1].Tensors.[0].ToArray(), g.Layers.[1].Tensors.[0].ToArray())
        Assert.Equal<float[]>(g'.Layers.[1].Tensors.[1].ToArray(), g.Layers.[1].Tensors.[1].ToArray())

[<Fact>]
let ``inputs of 1e300 through ReLU stay finite under cross-entropy: the cost is the logit gap`` () =
    // The hidden layer passes (0, 0.5, 0.75, 2.25)·1e300, the logits are (1.4375, 2.9375)·1e300,
    // and the target is the smaller: C = 1.5e300, δ = a − y = (−1, 1).
    let cost, g = Backprop.lossAndGradient Mode.Inference Loss.CrossEntropy (network Activation.ReLU) (column [ 1e300; 1e300; 1e300 ]) (column [ 1.0; 0.0 ])
    Assert.True(Approx.close 1e-15 0.0 1.5e300 cost, $"cost {cost:R}")
    Assert.True(finite g)
    Assert.Equal<float[]>([| -1.0; 1.0 |], g.Layers.[1].Tensors.[1].ToArray())

[<Fact>]
let ``inputs of 1e-300 give a gradient that is δ times the input, not flushed to zero`` () =
    for hidden in [ Activation.Sigmoid; Activation.Tanh; Activation.ReLU ] do
        let x = column [ 1e-300; -3e-300; 2e-300 ]
        let _, g = Backprop.lossAndGradient Mode.Inference Loss.CrossEntropy (network hidden) x (column [ 1.0; 0.0 ])
        Assert.True(finite g)
        // For one example, dW¹ = δ¹ xᵀ and db¹ = δ¹.
        let dW, db = g.Layers.[0].Tensors.[0], g.Layers.[0].Tensors.[1]
        for j in 0 .. 3 do
            for k in 0 .. 2 do
                let expected = db.[j, 0] * x.[k, 0]
                Assert.True(Approx.close 1e-15 0.0 expected dW.[j, k], $"{Activation.name hidden}: dW[{j},{k}] = {dW.[j, k]:R}, δ·x = {expected:R}")
                if db.[j, 0] <> 0.0 then Assert.NotEqual(0.0, dW.[j, k])

[<Fact>]
let ``a saturated sigmoid output under the quadratic loss has a zero, not NaN, gradient`` () =
    let net = Network.ofDense [ Dense.create (Matrix.ofColumns [ [| 1.0 |] ]) (column [ 0.0 ]) Activation.Sigmoid ]
    for x in [ 1e4; -1e4; 1e300 ] do
        let cost, g = Backprop.lossAndGradient Mode.Inference Loss.Quadratic net (column [ x ]) (column [ 0.5 ])
        Assert.Equal(0.125, cost)
        Assert.Equal(0.0, g.Layers.[0].Tensors.[0].[0, 0])

[<Fact>]
let ``an identity output of 1e300 overflows the quadratic loss to +∞, never NaN`` () =
    // ½(1e300)² exceeds float64: the core returns +∞ (the facade raises OverflowException).
    let net = Network.ofDense [ Dense.create (Matrix.ofColumns [ [| 1.0 |] ]) (column [ 0.0 ]) Activation.Identity ]
    let cost, g = Backprop.lossAndGradient Mode.Inference Loss.Quadratic net (column [ 1e300 ]) (column [ 0.0 ])
    Assert.True(Double.IsPositiveInfinity cost)
    Assert.Equal(1e300, g.Layers.[0].Tensors.[1].[0, 0])
    Assert.False(Double.IsNaN g.Layers.[0].Tensors.[0].[0, 0])

[<Fact>]
let ``where a cost is not defined the error says why`` () =
    let z = column [ 1e4; -1e4 ]
    let onehot = column [ 1.0; 0.0 ]
    for output in [ Activation.Identity; Activation.ReLU; Activation.Tanh ] do
        let e = Assert.Throws<ArgumentException>(fun () -> value Loss.CrossEntropy output z onehot |> ignore)
        Assert.Contains("needs outputs in (0, 1]", e.Message)
    let e = Assert.Throws<ArgumentException>(fun () -> value Loss.BinaryCrossEntropy Activation.Softmax z onehot |> ignore)
    Assert.Contains("sigmoid output layer", e.Message)
    let e = Assert.Throws<ArgumentException>(fun () -> Loss.checkTargets Loss.BinaryCrossEntropy (column [ 1.0; 1.0000001 ]))
    Assert.Contains("within [0, 1]", e.Message)
    let e = Assert.Throws<ArgumentException>(fun () -> Loss.checkTargets Loss.CrossEntropy (column [ -1e-300; 1.0 ]))
    Assert.Contains("within [0, 1]", e.Message)
    let e = Assert.Throws<ArgumentException>(fun () -> Loss.checkTargets Loss.Quadratic (column [ nan; 1.0 ]))
    Assert.Contains("finite", e.Message)
    let e = Assert.Throws<ArgumentException>(fun () -> value Loss.CrossEntropy Activation.Softmax (Matrix.zeros<float> 2 0) (Matrix.zeros<float> 2 0) |> ignore)
    Assert.Contains("empty", e.Message)

[<Fact>]
let ``inputs beyond float32's range are refused, naming the entry`` () =
    // 1e300 becomes +∞ in float32; the forward pass refuses it rather than computing NaN.
    let net = Network.init<float32> 1UL (Shape.Vector 2) [ LayerSpec.Dense(2, Activation.Softmax, Some(Initializer.XavierNormal)) ]
    let x = Matrix.ofColumnMajor 2 1 [| Real.ofFloat<float32> 1e300; 1.0f |]
    let e = Assert.Throws<ArgumentException>(fun () -> Forward.run net x |> ignore)
    Assert.Contains("row 0 of example (column) 0", e.Message)
    Assert.Contains("∞", e.Message.Replace("Infinity", "∞"))
