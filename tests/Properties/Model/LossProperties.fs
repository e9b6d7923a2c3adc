/// The losses: stable values equal the textbook formulas, fused deltas equal the chain rule.
module FunctionalBackprop.Properties.LossProperties

open System
open Xunit
open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open FunctionalBackprop.Core
open FunctionalBackprop.Properties.Generators

let private flat (m: Matrix<float>) = m.ToArray()

/// Output-layer weighted inputs, activations and targets for a generated case.
let private outputs (c: Case) =
    let network, x, y = c.Network<float> (), c.Inputs<float> (), c.TargetMatrix<float> ()
    let last = List.last (Forward.trace Mode.Inference network x).Layers
    network.OutputActivation, last.Z, last.A, y

[<Properties(Arbitrary = [| typeof<Arbitraries> |], MaxTest = 100)>]
module Properties =

    [<Property>]
    let ``the stable value equals the definition evaluated independently`` (c: Case) =
        let activation, z, a, y = outputs c
        let definition = Reference.lossValue c.Loss activation z y
        // The definition underflows to ln 0 only for |z| > 745; the stable value never does.
        Double.IsFinite definition ==> lazy (
            let stable = Loss.value c.Loss activation z a y
            Approx.close 1e-12 1e-15 definition stable |> Prop.label $"definition {definition:R}, stable {stable:R}")

    [<Property>]
    let ``the fused delta equals the activation's Jacobian applied to the loss gradient`` (c: Case) =
        let activation, z, a, y = outputs c
        let chained = Activation.backward activation z a (Loss.gradientOfOutputs c.Loss a y) |> flat
        (Array.forall Double.IsFinite chained) ==> lazy (
            let delta =
                match Upstream.ofLoss c.Loss activation z a y with
                | Delta d -> flat d
                | OutputGradient g -> flat (Activation.backward activation z a g)
            Approx.allClose "δᴸ" 1e-9 (1e-13 * (1.0 + Approx.scale chained)) chained delta)

    [<Property>]
    let ``every loss is non-negative and finite`` (c: Case) =
        let activation, z, a, y = outputs c
        let v = Loss.value c.Loss activation z a y
        (Double.IsFinite v && v >= 0.0) |> Prop.label $"C = {v}"

    [<Fact>]
    let ``the quadratic loss is zero exactly at the target`` () =
        let a = Matrix.ofColumns [ [| 0.3; -2.0 |]; [| 1.0; 5.0 |] ]
        Xunit.Assert.Equal(0.0, Loss.value Loss.Quadratic Activation.Identity a a a)

    [<Fact>]
    let ``cross-entropy stays finite for logits of 1e4 and saturated sigmoids`` () =
        let z = Matrix.ofColumns [ [| 1e4; -1e4; 0.0 |]; [| -1e4; 1e4; 0.0 |] ]
        let y = Matrix.ofColumns [ [| 0.0; 1.0; 0.0 |]; [| 0.0; 1.0; 0.0 |] ]
        let softmax = Activation.apply Activation.Softmax z
        // Example 1 puts all mass on the wrong class: Cₓ = lse(z) − z₂ = 2e4 exactly.
        Xunit.Assert.Equal((2e4 + 0.0) / 2.0, Loss.value Loss.CrossEntropy Activation.Softmax z softmax y)
        let sigmoid = Activation.apply Activation.Sigmoid z
        let bce = Loss.value Loss.BinaryCrossEntropy Activation.Sigmoid z sigmoid y
        Xunit.Assert.True(Double.IsFinite bce, $"binary cross-entropy {bce}")
        // The textbook formula is infinite there, which is why the stable path exists.
        Xunit.Assert.True(Double.IsInfinity(Loss.ofOutputs Loss.CrossEntropy softmax y))

    [<Fact>]
    let ``cross-entropy refuses an output layer whose range leaves (0, 1]`` () =
        for activation in [ Activation.Identity; Activation.ReLU; Activation.Tanh ] do
            let e = Xunit.Assert.Throws<ArgumentException>(fun () -> Loss.checkPairing Loss.CrossEntropy activation)
            Xunit.Assert.Contains(Activation.name activation, e.Message)
        Xunit.Assert.Throws<ArgumentException>(fun () -> Loss.checkPairing Loss.BinaryCrossEntropy Activation.Softmax) |> ignore

    [<Fact>]
    let ``targets outside the loss's range are refused with their position`` () =
        let y = Matrix.ofColumns [ [| 0.5; 1.5 |] ]
        let e = Xunit.Assert.Throws<ArgumentException>(fun () -> Loss.checkTargets Loss.BinaryCrossEntropy y)
        Xunit.Assert.Contains("row 1, column 0 is 1.5", e.Message)
