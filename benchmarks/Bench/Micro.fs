/// BenchmarkDotNet micro-benchmarks: forward, backprop and one optimizer step at the W1, W3 and
/// W4 shapes.
module FunctionalBackprop.Benchmarks.Micro

open BenchmarkDotNet.Attributes
open FunctionalBackprop.Core

/// A network and a batch of one workload's shape.
type Shape =
    { Name: string; Widths: int list; Activation: Activation; Output: Activation; Loss: Loss; Batch: int }
    override s.ToString() = s.Name

let shapes =
    [ { Name = "W1"; Widths = [ 30; 10 ]; Activation = Activation.Sigmoid; Output = Activation.Sigmoid; Loss = Loss.Quadratic; Batch = 10 }
      { Name = "W3"; Widths = [ 100; 10 ]; Activation = Activation.ReLU; Output = Activation.Softmax; Loss = Loss.CrossEntropy; Batch = 32 }
      { Name = "W4"; Widths = [ 1024; 1024; 10 ]; Activation = Activation.ReLU; Output = Activation.Softmax; Loss = Loss.CrossEntropy; Batch = 256 } ]

[<MemoryDiagnoser>]
type Passes() =
    let mutable network = Unchecked.defaultof<Network<float>>
    let mutable x = Unchecked.defaultof<Matrix<float>>
    let mutable y = Unchecked.defaultof<Matrix<float>>
    let mutable gradient = Unchecked.defaultof<Gradients<float>>
    let mutable state = Unchecked.defaultof<OptimizerState<float>>
    let optimizer = Optimizer.sgd<float> (Schedule.Constant 0.1)

    [<ParamsSource("Shapes")>]
    member val Shape = shapes.Head with get, set

    member _.Shapes = shapes

    [<GlobalSetup>]
    member this.Setup() =
        let s = this.Shape
        let layers = s.Widths |> List.mapi (fun i w -> LayerSpec.Dense(w, (if i = s.Widths.Length - 1 then s.Output else s.Activation), Some(Initializer.XavierNormal)))
        network <- Network.init 1UL (Shape.Vector 784) layers
        x <- Matrix.init 784 s.Batch (fun i j -> float ((i * 7 + j) % 255) / 255.0)
        y <- Matrix.init 10 s.Batch (fun i j -> if i = j % 10 then 1.0 else 0.0)
        gradient <- Backprop.gradient Mode.Inference s.Loss network x y
        state <- Optimizer.init optimizer network

    [<Benchmark>]
    member _.Forward() = Forward.run network x

    [<Benchmark>]
    member this.Backprop() = Backprop.gradient Mode.Inference this.Shape.Loss network x y

    [<Benchmark>]
    member _.OptimizerStep() = Optimizer.update optimizer state gradient network
