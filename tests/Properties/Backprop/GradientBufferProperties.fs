/// A gradient buffer: the pure gradient's bits, again and again, with no allocation.
module FunctionalBackprop.Properties.GradientBufferProperties

open System
open Xunit
open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open FunctionalBackprop.Core
open FunctionalBackprop.Properties.Generators

let private bits (v: 'T[]) = Bits.ofValues v

/// The buffer's cost and gradient against Backprop.lossAndGradient, and its forward-only cost
/// against Forward.cost, bit for bit; twice in a row, on two batches, so that nothing of the first
/// call leaks into the second.
let private sameAsPure<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> (c: Case) =
    let network, x, y = c.Network<'T> (), c.Inputs<'T> (), c.TargetMatrix<'T> ()
    let other = { c with Seed = c.Seed + 1UL }
    let x2, y2 = other.Inputs<'T> (), other.TargetMatrix<'T> ()
    let buffer = GradientBuffer<'T>(network, x.Cols)
    [ x, y; x2, y2; x, y ]
    |> List.map (fun (x, y) ->
        let cost, gradient = Backprop.lossAndGradient Mode.Inference c.Loss network x y
        let cost' = buffer.LossAndGradient(Mode.Inference, c.Loss, network, x, y)
        let sameGradient = bits (Gradients.toArray gradient) = bits (Gradients.toArray buffer.Gradient)
        let sameOutput = bits ((Forward.run network x).ToArray()) = bits (buffer.Output.ToArray())
        let forwardOnly = buffer.Loss(Mode.Inference, c.Loss, network, x, y)
        (sameGradient |> Prop.label "gradient")
        .&. (sameOutput |> Prop.label "output")
        .&. (bits [| cost |] = bits [| cost' |] |> Prop.label $"cost {cost} against {cost'}")
        .&. (bits [| Forward.cost Mode.Inference c.Loss network x y |] = bits [| forwardOnly |] |> Prop.label "forward-only cost"))
    |> List.reduce (.&.)

[<Properties(Arbitrary = [| typeof<Arbitraries> |], MaxTest = 100)>]
module Properties =

    [<Property>]
    let ``a gradient buffer gives the pure gradient's bits, call after call`` (c: Case) (p: Provider) (f32: bool) =
        p.Run(fun () -> if f32 then sameAsPure<float32> c else sameAsPure<float> c)

[<Fact>]
let ``after its first call a gradient buffer allocates nothing`` () =
    // W6's shape at batch 10: 784-100-10 sigmoid, quadratic; and a softmax output with cross-entropy.
    for loss, output in [ Loss.Quadratic, Activation.Sigmoid; Loss.CrossEntropy, Activation.Softmax ] do
        let hidden = LayerSpec.Dense(100, Activation.Sigmoid, Some(Initializer.XavierNormal))
        let network = Network.init<float> 3UL (Shape.Vector 784) [ hidden; LayerSpec.Dense(10, output, Some Initializer.XavierNormal) ]
        let x = Matrix.init 784 10 (fun i j -> float ((i + 3 * j) % 17) / 17.0)
        let y = Matrix.init 10 10 (fun i j -> if i = j then 1.0 else 0.0)
        let buffer = GradientBuffer<float>(network, 10)
        for _ in 1 .. 3 do buffer.LossAndGradient(Mode.Inference, loss, network, x, y) |> ignore
        // Seven windows of 200 calls of each. An allocation per call, however small (24 bytes for
        // the smallest object), adds at least 9,600 bytes to every window. The runtime allocates
        // now and then on the calling thread on its own (when tiered compilation swaps in a
        // method's optimised code, at moments its background compiler chooses, so they can fall in
        // any window: seen once in 20 runs of the suite as more than 2,048 bytes over 1,000 calls);
        // such one-off allocations touch a few windows, not most of them. So the median window
        // must stay far below a per-call allocation.
        let window () =
            let before = GC.GetAllocatedBytesForCurrentThread()
            for _ in 1 .. 200 do
                buffer.LossAndGradient(Mode.Inference, loss, network, x, y) |> ignore
                buffer.Loss(Mode.Inference, loss, network, x, y) |> ignore
            GC.GetAllocatedBytesForCurrentThread() - before
        let windows = Array.init 7 (fun _ -> window ()) |> Array.sort
        Assert.True(windows.[3] < 1024L, $"bytes per window of 400 calls, sorted: %A{windows}")

[<Fact>]
let ``a gradient buffer refuses another network's shapes or batch size, naming them`` () =
    let spec units = LayerSpec.Dense(units, Activation.Sigmoid, Some(Initializer.XavierNormal))
    let network = Network.init<float> 1UL (Shape.Vector 4) [ spec 3; spec 2 ]
    let buffer = GradientBuffer<float>(network, 5)
    let x, y = Matrix.zeros<float> 4 5, Matrix.zeros<float> 2 5
    let wider = Network.init<float> 1UL (Shape.Vector 4) [ spec 6; spec 2 ]
    let e = Assert.Throws<ArgumentException>(fun () -> buffer.LossAndGradient(Mode.Inference, Loss.Quadratic, wider, x, y) |> ignore)
    Assert.Contains("4-3-2", e.Message)
    let e = Assert.Throws<ArgumentException>(fun () -> buffer.LossAndGradient(Mode.Inference, Loss.Quadratic, network, Matrix.zeros 4 6, Matrix.zeros 2 6) |> ignore)
    Assert.Contains("batches of 5 examples", e.Message)
    Assert.Throws<ArgumentOutOfRangeException>(fun () -> GradientBuffer<float>(network, 0) |> ignore) |> ignore
