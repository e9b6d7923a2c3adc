/// The theorems backprop keeps, checked on generated networks, losses and batches.
module FunctionalBackprop.Properties.BackpropProperties

open System
open Xunit
open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open FunctionalBackprop.Core
open FunctionalBackprop.Properties.Generators

let private flat (m: Matrix<float>) = m.ToArray()

let private setup (c: Case) =
    let network = c.Network<float> ()
    network, c.Inputs<float> (), c.TargetMatrix<float> ()

/// The reference's textbook chain, (a − y)/(a(1 − a)) times σ', is 0/0 once a sigmoid output
/// rounds to exactly 0 or 1 — the reason the library takes the fused path; such cases are
/// left to the comparison with finite differences.
let private referenceIsFinite (layers: (float[,] * float[]) list) =
    layers |> List.forall (fun (dW, db) -> Array.forall Double.IsFinite db && Seq.forall Double.IsFinite (Seq.cast<float> dW))

[<Properties(Arbitrary = [| typeof<Arbitraries> |], MaxTest = 100)>]
module Properties =

    [<Property>]
    let ``backprop equals central differences`` (c: Case) (p: Provider) =
        p.Run(fun () ->
            let network, x, y = setup c
            Checks.gradientCheck network (GradientCheck.run Mode.Inference c.Loss network x y))

    [<Property>]
    let ``BP3 the bias gradient is delta summed over the batch`` (c: Case) (p: Provider) =
        p.Run(fun () ->
            let network, x, y = setup c
            let g = Backprop.gradient Mode.Inference c.Loss network x y
            let expected, _ = Reference.gradient network c.Loss x y
            referenceIsFinite expected ==> lazy (
            List.zip expected g.Layers
            |> List.mapi (fun l ((_, db), actual) ->
                Approx.allClose $"layer {l + 1} ∂C/∂b" 1e-9 (1e-12 * (1.0 + Approx.scale db)) db (flat actual.Tensors.[1]))
            |> List.reduce (.&.)))

    [<Property>]
    let ``BP4 the weight gradient is delta times the layer input transposed`` (c: Case) (p: Provider) =
        p.Run(fun () ->
            let network, x, y = setup c
            let g = Backprop.gradient Mode.Inference c.Loss network x y
            let expected, _ = Reference.gradient network c.Loss x y
            referenceIsFinite expected ==> lazy (
            List.zip expected g.Layers
            |> List.mapi (fun l ((dW, _), actual) ->
                let dW = Matrix.ofArray2D dW |> flat
                Approx.allClose $"layer {l + 1} ∂C/∂w" 1e-9 (1e-12 * (1.0 + Approx.scale dW)) dW (flat actual.Tensors.[0]))
            |> List.reduce (.&.)))

    [<Property>]
    let ``dx equals W transpose delta`` (c: Case) (p: Provider) =
        p.Run(fun () ->
            let network, x, y = setup c
            let trace = Forward.trace Mode.Inference network x
            let last = List.last trace.Layers
            let _, dx = Backprop.backward network trace (Upstream.ofLoss c.Loss network.OutputActivation last.Z last.A y)
            let layers, expected = Reference.gradient network c.Loss x y
            let expected = Array.concat expected
            (referenceIsFinite layers && Array.forall Double.IsFinite expected) ==> lazy
            Approx.allClose "∂C/∂x" 1e-9 (1e-12 * (1.0 + Approx.scale expected)) expected (flat dx))

    [<Property>]
    let ``the batch gradient is the mean of the per-example gradients`` (c: Case) (p: Provider) =
        p.Run(fun () ->
            let network, x, y = setup c
            let batch = Backprop.gradient Mode.Inference c.Loss network x y
            let mean =
                [ for j in 0 .. x.Cols - 1 -> Backprop.gradient Mode.Inference c.Loss network (Matrix.sliceColumns j 1 x) (Matrix.sliceColumns j 1 y) ]
                |> List.reduce Gradients.add
                |> Gradients.scale (1.0 / float x.Cols)
            let flatten (g: Gradients<float>) = g.Layers |> List.collect (fun l -> [ flat l.Tensors.[0]; flat l.Tensors.[1] ]) |> Array.concat
            let expected = flatten mean
            Approx.allClose "∇C" 1e-9 (1e-12 * (1.0 + Approx.scale expected)) expected (flatten batch))

    [<Property>]
    let ``backprop is linear in what the loss sends down`` (c: Case) (k: int) (p: Provider) =
        p.Run(fun () ->
            // α = 0 or ±2ʲ (j = −4 … 3): multiplying by a power of two is exact and rounding is
            // scale-invariant, so every rounded operation of the backward pass commutes with α and
            // linearity holds to the last bit. For other α it holds only to rounding relative to
            // the terms, which cancellation (softmax over two nearly equal outputs, say) makes
            // arbitrarily large relative to the result: 2,238 cases found one at α = 1.5.
            let alpha = match abs k % 9 with 0 -> 0.0 | j -> float (sign k) * Math.ScaleB(1.0, j - 5)
            let network, x, y = setup c
            let trace = Forward.trace Mode.Inference network x
            let last = List.last trace.Layers
            let scaled =
                match Upstream.ofLoss c.Loss network.OutputActivation last.Z last.A y with
                | OutputGradient g -> OutputGradient(Matrix.scale alpha g), OutputGradient g
                | Delta d -> Delta(Matrix.scale alpha d), Delta d
            let gAlpha, dxAlpha = Backprop.backward network trace (fst scaled)
            let g, dx = Backprop.backward network trace (snd scaled)
            let flatten (g: Gradients<float>, dx: Matrix<float>) =
                Array.concat [ yield! g.Layers |> List.collect (fun l -> [ flat l.Tensors.[0]; flat l.Tensors.[1] ]); yield flat dx ]
            let expected = flatten (Gradients.scale alpha g, Matrix.scale alpha dx)
            Approx.allClose $"α = {alpha}" 1e-10 (1e-14 * Approx.scale expected) expected (flatten (gAlpha, dxAlpha)))

    [<Property>]
    let ``backprop through g after f equals g's input gradient chained into f`` (s: Split) (p: Provider) =
        p.Run(fun () ->
            let network, x, y = setup s.Case
            let f = Network.ofDense (List.take s.Cut (Generators.denseLayers network))
            let g = Network.ofDense (List.skip s.Cut (Generators.denseLayers network))
            let whole = Backprop.gradient Mode.Inference s.Case.Loss network x y
            let fx = Forward.run f x
            let traceG = Forward.trace Mode.Inference g fx
            let last = List.last traceG.Layers
            let gradG, dxG = Backprop.backward g traceG (Upstream.ofLoss s.Case.Loss g.OutputActivation last.Z last.A y)
            let gradF, _ = Backprop.backward f (Forward.trace Mode.Inference f x) (OutputGradient dxG)
            let flatten (layers: LayerGradient<float> list) = layers |> List.collect (fun l -> List.map flat l.Tensors) |> Array.concat
            let expected = flatten whole.Layers
            Approx.allClose "∇C" 1e-12 1e-300 expected (flatten (gradF.Layers @ gradG.Layers)))

    [<Property>]
    let ``backprop leaves the network and the data unchanged`` (c: Case) (p: Provider) =
        p.Run(fun () ->
            let network, x, y = setup c
            let before = Parameters.toArray network, x.ToArray(), y.ToArray()
            Backprop.gradient Mode.Inference c.Loss network x y |> ignore
            NumericalGradient.centralDifference Mode.Inference c.Loss network x y 1e-4 |> ignore
            before = (Parameters.toArray network, x.ToArray(), y.ToArray()))

