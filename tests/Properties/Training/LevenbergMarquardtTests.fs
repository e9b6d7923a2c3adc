/// Levenberg–Marquardt: its Jacobian, and why it is worth having on small regressions.
module FunctionalBackprop.Properties.LevenbergMarquardtTests

open System
open Xunit
open FunctionalBackprop.Core

/// 40 points of y = ½ sin 2πx on [0, 1] and a 1-8-1 tanh network.
let private n = 40
let private x = Matrix.init 1 n (fun _ j -> float j / float (n - 1))
let private y = Matrix.init 1 n (fun _ j -> 0.5 * Math.Sin(2.0 * Math.PI * float j / float (n - 1)))
let private network () : Network<float> =
    Network.init 3UL (Shape.Vector 1)
        [ LayerSpec.Dense(8, Activation.Tanh, Some(Initializer.XavierNormal))
          LayerSpec.Dense(1, Activation.Identity, Some(Initializer.XavierNormal)) ]

[<Fact>]
let ``the Jacobian equals central differences of the residuals`` () =
    let net = network ()
    let r, j = LevenbergMarquardt.jacobian net x y
    let residuals (n: Network<float>) = Matrix.subtract (Forward.run n x) y |> fun m -> m.ToArray()
    Assert.Equal<float[]>(residuals net, r)
    // Column p of J by central differences with h = 10⁻⁶ (error about h² = 10⁻¹²).
    let h = 1e-6
    // The network with parameter p (in the order of Parameters.indices) moved by delta.
    let moved (p: int) (delta: float) =
        Parameters.addScaled 1.0 (Gradients.arrays (Gradients.ofArray net (Array.init net.ParameterCount (fun i -> if i = p then delta else 0.0)))) net
    Parameters.indices net
    |> List.iteri (fun p index ->
        let numeric = Array.map2 (fun a b -> (a - b) / (2.0 * h)) (residuals (moved p h)) (residuals (moved p -h))
        let analytic = Matrix.column p j
        Array.iteri2 (fun row e a -> Assert.True(Approx.close 1e-6 1e-9 e a, $"J[{row}, {index}]: differences {e:R}, backprop {a:R}")) numeric analytic)

[<Fact>]
let ``it fits a smooth regression in far fewer epochs than gradient descent`` () =
    let target = 1e-6
    let lm = LevenbergMarquardt.fit { LevenbergMarquardt.defaults with MaxIterations = 100; TargetCost = target } (network ()) x y
    let lmCost = List.last lm.Costs
    Assert.True(lmCost <= target, $"Levenberg–Marquardt reached C = {lmCost} in {lm.Iterations} iterations")
    // Full-batch descent gets 20 times as many epochs at several rates, and Adam too; none gets there.
    let budget = 20 * lm.Iterations
    let descents =
        [ for eta in [ 0.05; 0.2; 0.5; 1.0 ] -> Optimizer.sgd (Schedule.Constant eta)
          yield Optimizer.adam (Schedule.Constant 0.01) ]
    for optimizer in descents do
        let result = Training.train (TrainingOptions.create Loss.Quadratic optimizer budget n) (network ()) x y
        let cost = Evaluation.loss Loss.Quadratic result.Network x y
        Assert.True(cost > 10.0 * target, $"{optimizer.Name} reached C = {cost} in {budget} epochs; Levenberg–Marquardt {lmCost} in {lm.Iterations}")

[<Fact>]
let ``only steps that lower the cost are accepted`` () =
    let lm = LevenbergMarquardt.fit { LevenbergMarquardt.defaults with MaxIterations = 20 } (network ()) x y
    Assert.Equal(21, lm.Costs.Length)
    Assert.All(List.pairwise lm.Costs, fun (before, after) -> Assert.True(after < before, $"{before} → {after}"))

[<Fact>]
let ``long fits survive a damping below rounding error`` () =
    // 1-4-1 sigmoid units on sin 2πx: λ is divided by 10 at every accepted step until
    // JᵀJ + λ diag(JᵀJ) no longer factors in floating point; that λ must count as rejected.
    let points = 200
    let x = Matrix.init 1 points (fun _ j -> (float j + 0.5) / float points)
    let y = Matrix.init 1 points (fun _ j -> Math.Sin(2.0 * Math.PI * x.[0, j]))
    let start =
        Network.init 1UL (Shape.Vector 1)
            [ LayerSpec.Dense(4, Activation.Sigmoid, Some(Initializer.StandardNormal))
              LayerSpec.Dense(1, Activation.Identity, Some(Initializer.XavierNormal)) ]
    let result = LevenbergMarquardt.fit { LevenbergMarquardt.defaults with MaxIterations = 200 } start x y
    let costs = Array.ofList result.Costs
    Assert.True(result.Iterations > 30, $"only {result.Iterations} steps")
    Assert.True(Array.last costs < costs.[0] / 10.0, $"cost {costs.[0]} → {Array.last costs}")
    Assert.True(Array.pairwise costs |> Array.forall (fun (a, b) -> b < a), "every accepted step lowers the cost")
