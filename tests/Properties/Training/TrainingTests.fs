/// The training fold: the lecture's three modes, stopping rules, reports, reproducibility.
module FunctionalBackprop.Properties.TrainingTests

open System
open System.Threading
open Xunit
open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open FunctionalBackprop.Core

let private xor = Matrix.ofColumns [ [| 0.0; 0.0 |]; [| 0.0; 1.0 |]; [| 1.0; 0.0 |]; [| 1.0; 1.0 |] ]
let private xorTargets = Matrix.ofColumns [ [| 0.0 |]; [| 1.0 |]; [| 1.0 |]; [| 0.0 |] ]

/// A 2-3-1 sigmoid network from a fixed seed.
let private xorNetwork () : Network<float> =
    Network.init 5UL (Shape.Vector 2)
        [ LayerSpec.Dense(3, Activation.Sigmoid, Some(Initializer.StandardNormal))
          LayerSpec.Dense(1, Activation.Sigmoid, Some(Initializer.StandardNormal)) ]

let private c = Schedule.Constant

/// Each optimizer with a rate that suits XOR, and its number of epochs.
let private xorOptimizers: (string * (unit -> Optimizer<float>) * int) list =
    [ "sgd", (fun () -> Optimizer.sgd (c 2.0)), 2000
      "sgd with L2", (fun () -> Optimizer.sgdL2 (c 2.0) 0.001 4), 2000
      "momentum", (fun () -> Optimizer.momentum (c 2.0) 0.5), 2000
      "heavy-ball", (fun () -> Optimizer.heavyBall (c 0.5) 0.9), 2000
      "nesterov", (fun () -> Optimizer.nesterov (c 0.5) 0.9), 2000
      "adagrad", (fun () -> Optimizer.adaGrad (c 0.5)), 2000
      "rmsprop", (fun () -> Optimizer.rmsProp (c 0.02) 0.99), 2000
      "adam", (fun () -> Optimizer.adam (c 0.05)), 2000
      "adamw", (fun () -> Optimizer.adamW (c 0.05) 1e-4), 2000
      "clip then adam", (fun () -> Optimizer.adam (c 0.05) |> Optimizer.after [ Transform.clipByGlobalNorm 1.0 ]), 2000
      "steepest descent, backtracking", (fun () -> Optimizer.steepestDescent (LineSearch.Backtracking(10.0, 0.5, 1e-4, 30))), 2000
      "steepest descent, golden section", (fun () -> Optimizer.steepestDescent (LineSearch.GoldenSection(20.0, 1e-4))), 1000 ]

type XorCases() =
    static member Names: obj[] seq = xorOptimizers |> Seq.map (fun (name, _, _) -> [| box name |])

[<Theory; MemberData("Names", MemberType = typeof<XorCases>)>]
let ``each optimizer learns XOR`` (name: string) =
    let _, make, epochs = xorOptimizers |> List.find (fun (n, _, _) -> n = name)
    let result = Training.train (TrainingOptions.create Loss.BinaryCrossEntropy (make ()) epochs 4) (xorNetwork ()) xor xorTargets
    let outputs = (Forward.run result.Network xor).ToArray()
    Assert.Equal<int[]>([| 0; 1; 1; 0 |], outputs |> Array.map (fun a -> if a >= 0.5 then 1 else 0))
    let loss = Evaluation.loss Loss.BinaryCrossEntropy result.Network xor xorTargets
    Assert.True(loss < 0.05, $"{name}: final loss {loss}, outputs %A{outputs}")

let private bits (n: Network<float>) = Bits.ofNetwork n

let private shuffled epochs =
    { TrainingOptions.create Loss.BinaryCrossEntropy (Optimizer.adam (c 0.05)) epochs 2 with Seed = 42UL }

[<Fact>]
let ``the same seed and data give bit-identical networks`` () =
    let first = Training.train (shuffled 50) (xorNetwork ()) xor xorTargets
    let second = Training.train (shuffled 50) (xorNetwork ()) xor xorTargets
    Assert.Equal<int64[]>(bits first.Network, bits second.Network)
    let other = Training.train { shuffled 50 with Seed = 43UL } (xorNetwork ()) xor xorTargets
    Assert.NotEqual<int64[]>(bits first.Network, bits other.Network)

[<Fact>]
let ``resuming from a checkpoint equals the uninterrupted run`` () =
    let straight = Training.train (shuffled 40) (xorNetwork ()) xor xorTargets
    let half = Training.train (shuffled 15) (xorNetwork ()) xor xorTargets
    let resumed = Training.resume (shuffled 40) half.Checkpoint xor xorTargets
    Assert.Equal<int64[]>(bits straight.Network, bits resumed.Network)
    Assert.Equal(straight.OptimizerState, resumed.OptimizerState)
    Assert.Equal(straight.Steps, resumed.Steps)
    Assert.Equal<int list>([ 16 .. 40 ], resumed.History |> List.map (fun r -> r.Epoch))

[<Fact>]
let ``training leaves the network passed in unchanged`` () =
    let network = xorNetwork ()
    let before = bits network
    Training.train (shuffled 10) network xor xorTargets |> ignore
    Assert.Equal<int64[]>(before, bits network)

/// Ten examples of a 3→2 regression.
let private x10 = Matrix.init 3 10 (fun i j -> float (i + 1) * Math.Sin(float (j + 1)))
let private y10 = Matrix.init 2 10 (fun i j -> Math.Cos(float (i + j)))
let private linear () : Network<float> = Network.init 1UL (Shape.Vector 3) [ LayerSpec.Dense(2, Activation.Identity, Some(Initializer.XavierNormal)) ]

[<Theory>]
[<InlineData(10, 1)>] // batch gradient descent: the whole set
[<InlineData(100, 1)>] // larger than the set: still the whole set
[<InlineData(1, 10)>] // stochastic: one example at a time
[<InlineData(3, 4)>] // mini-batches of 3, 3, 3 and 1
let ``the batch size chooses the mode and the steps per epoch`` (batchSize: int) (stepsPerEpoch: int) =
    let result = Training.train (TrainingOptions.create Loss.Quadratic (Optimizer.sgd (c 0.01)) 3 batchSize) (linear ()) x10 y10
    Assert.Equal(int64 (3 * stepsPerEpoch), result.Steps)
    Assert.All(result.History, fun r -> Assert.Equal(stepsPerEpoch, r.BatchesPerEpoch))

[<Fact>]
let ``batch gradient descent is the fold of backprop and the optimizer's update`` () =
    // With the default shard count (automatic: Shards.resolve), each batch's gradient is its shards' sum.
    let optimizer = Optimizer.heavyBall (c 0.01) 0.9
    let options = TrainingOptions.create Loss.Quadratic optimizer 5 10
    let result = Training.train options (linear ()) x10 y10
    let byHand =
        [ 1 .. 5 ]
        |> List.fold (fun (n, s) _ -> Optimizer.update optimizer s (snd (Shards.lossAndGradient (Shards.resolve options.Shards) Mode.Inference Loss.Quadratic n x10 y10)) n) (linear (), Optimizer.init optimizer (linear ()))
    Assert.Equal<int64[]>(bits (fst byHand), bits result.Network)

[<Fact>]
let ``stochastic descent visits the examples in a seeded random order`` () =
    let run seed = Training.train { TrainingOptions.create Loss.Quadratic (Optimizer.sgd (c 0.05)) 1 1 with Seed = seed } (linear ()) x10 y10
    Assert.Equal<int64[]>(bits (run 7UL).Network, bits (run 7UL).Network)
    Assert.NotEqual<int64[]>(bits (run 7UL).Network, bits (run 8UL).Network)

[<Fact>]
let ``reports come once per epoch, or per batch as well when asked`` () =
    let reports = Collections.Generic.List<TrainingReport>()
    let options = { TrainingOptions.create Loss.Quadratic (Optimizer.sgd (Schedule.InverseTime 0.1)) 4 3 with OnReport = reports.Add }
    let result = Training.train options (linear ()) x10 y10
    Assert.Equal(4, reports.Count)
    Assert.Equal<TrainingReport list>(result.History, List.ofSeq reports)
    // After epoch 2 (8 steps of 1/t), the rate of the last step is 0.1/8.
    Assert.Equal(Some(0.1 / 8.0), reports.[1].LearningRate)
    reports.Clear()
    Training.train { options with Reports = ReportFrequency.EveryBatch } (linear ()) x10 y10 |> ignore
    Assert.Equal(4 * 4 + 4, reports.Count)
    Assert.Equal(16, reports |> Seq.filter (fun r -> r.Kind = ReportKind.Batch) |> Seq.length)

[<Fact>]
let ``the running loss is the mean of the epoch's batch losses`` () =
    let batchLosses = Collections.Generic.List<float>()
    let epochs = Collections.Generic.List<TrainingReport>()
    let options =
        { TrainingOptions.create Loss.Quadratic (Optimizer.sgd (c 0.01)) 1 3 with
            Reports = ReportFrequency.EveryBatch
            OnReport = fun r -> if r.Kind = ReportKind.Batch then batchLosses.Add r.BatchLoss else epochs.Add r }
    Training.train options (linear ()) x10 y10 |> ignore
    Assert.Equal(Seq.average batchLosses, epochs.[0].RunningLoss, 15)

[<Property(MaxTest = 100)>]
let ``the running estimates follow the lecture's recurrences`` (losses: NormalFloat list) (k: int) =
    let losses = losses |> List.map float
    let lambda = 0.05 + float (abs k % 19) / 20.0
    let mean = losses |> List.mapi (fun i l -> int64 (i + 1), l) |> List.fold (fun q (t, l) -> RunningLoss.update RunningLoss.Mean q t l) 0.0
    let ema = losses |> List.mapi (fun i l -> int64 (i + 1), l) |> List.fold (fun q (t, l) -> RunningLoss.update (RunningLoss.Exponential lambda) q t l) 0.0
    let expectedEma = match losses with [] -> 0.0 | first :: rest -> rest |> List.fold (fun q l -> lambda * l + (1.0 - lambda) * q) first
    let scale = 1.0 + (losses |> List.sumBy Math.Abs)
    (losses.IsEmpty || Approx.close 1e-12 (1e-15 * scale) (List.average losses) mean) |> Prop.label $"mean {mean}"
    .&. (Approx.close 1e-15 1e-300 expectedEma ema |> Prop.label $"ema {ema}")

[<Fact>]
let ``weight-change stopping ends the run once an epoch moves the weights by at most ε`` () =
    let options = { TrainingOptions.create Loss.Quadratic (Optimizer.sgd (c 0.001)) 50 10 with Stopping = [ StoppingRule.WeightChange 1.0 ] }
    let result = Training.train options (linear ()) x10 y10
    Assert.Equal(StopReason.WeightsConverged, result.Stopped)
    Assert.Equal(1, result.Epochs)

[<Fact>]
let ``early stopping keeps the best network`` () =
    // Validation targets are XOR's complement: as the network learns XOR, validation gets worse.
    let complement = Matrix.ofColumns [ [| 1.0 |]; [| 0.0 |]; [| 0.0 |]; [| 1.0 |] ]
    let options =
        { TrainingOptions.create Loss.BinaryCrossEntropy (Optimizer.adam (c 0.05)) 500 4 with
            Validation = Some(xor, complement)
            Stopping = [ StoppingRule.EarlyStopping 5 ] }
    let result = Training.train options (xorNetwork ()) xor xorTargets
    Assert.Equal(StopReason.NoImprovement, result.Stopped)
    let best = result.History |> List.minBy (fun r -> r.ValidationLoss.Value)
    Assert.Equal(best.Epoch, result.Epochs)
    Assert.Equal(best.ValidationLoss.Value, Evaluation.loss Loss.BinaryCrossEntropy result.Network xor complement, 12)
    Assert.True(result.Epochs < 500)

[<Fact>]
let ``a learning rate that blows up ends with the last finite network`` () =
    let options = TrainingOptions.create Loss.Quadratic (Optimizer.sgd (c 1e6)) 20 2
    let e = Assert.Throws<TrainingDivergedException<float>>(fun () -> Training.train options (linear ()) x10 y10 |> ignore)
    Assert.True(e.Step >= 1L && e.Epoch >= 1)
    Assert.True(Parameters.toArray e.LastFiniteNetwork |> Array.forall Double.IsFinite)
    Assert.Contains($"epoch {e.Epoch}, step {e.Step}", e.Message)

[<Fact>]
let ``cancellation stops between batches and returns what was learned`` () =
    use source = new CancellationTokenSource()
    let mutable batches = 0
    let options =
        { TrainingOptions.create Loss.Quadratic (Optimizer.sgd (c 0.01)) 100 1 with
            Reports = ReportFrequency.EveryBatch
            Cancellation = source.Token
            OnReport = fun r -> if r.Kind = ReportKind.Batch then (batches <- batches + 1; if batches = 3 then source.Cancel()) }
    let result = Training.train options (linear ()) x10 y10
    Assert.Equal(StopReason.Cancelled, result.Stopped)
    Assert.Equal(3L, result.Steps)
    Assert.Equal(0, result.Epochs)

[<Fact>]
let ``a step activation cannot be trained, and training says why`` () =
    let network = Network.init<float> 1UL (Shape.Vector 2) [ LayerSpec.Dense(2, Activation.Step, Some(Initializer.StandardNormal)); LayerSpec.Dense(1, Activation.Sigmoid, Some(Initializer.StandardNormal)) ]
    let e = Assert.Throws<ArgumentException>(fun () -> Training.train (TrainingOptions.create Loss.BinaryCrossEntropy (Optimizer.sgd (c 0.1)) 1 4) network xor xorTargets |> ignore)
    Assert.Contains("Layer 1 uses the step activation", e.Message)
    Assert.Contains("derivative is 0", e.Message)

[<Fact>]
let ``bad options and data are refused with their name and value`` () =
    let options = TrainingOptions.create Loss.Quadratic (Optimizer.sgd (c 0.1)) 2 2
    let refuses (name: string) (value: string) (run: unit -> unit) =
        let e = Assert.ThrowsAny<ArgumentException>(run)
        Assert.Contains(name, e.Message)
        Assert.Contains(value, e.Message)
    refuses "batch size" "0" (fun () -> Training.train { options with BatchSize = 0 } (linear ()) x10 y10 |> ignore)
    refuses "batch size" "-3" (fun () -> Training.train { options with BatchSize = -3 } (linear ()) x10 y10 |> ignore)
    refuses "epoch" "0" (fun () -> Training.train { options with Epochs = 0 } (linear ()) x10 y10 |> ignore)
    refuses "empty" "" (fun () -> Training.train options (linear ()) (Matrix.zeros 3 0) (Matrix.zeros 2 0) |> ignore)
    refuses "10 examples" "9" (fun () -> Training.train options (linear ()) x10 (Matrix.sliceColumns 0 9 y10) |> ignore)
    refuses "validation" "" (fun () -> Training.train { options with Stopping = [ StoppingRule.EarlyStopping 2 ] } (linear ()) x10 y10 |> ignore)
    refuses "forgetting" "1.5" (fun () -> Training.train { options with RunningLoss = RunningLoss.Exponential 1.5 } (linear ()) x10 y10 |> ignore)

[<Fact>]
let ``accuracy and the confusion matrix count classes`` () =
    // A fixed identity layer predicts the larger input as the class.
    let network = Network.ofDense [ Dense.create (Matrix.ofRows [ [| 1.0; 0.0 |]; [| 0.0; 1.0 |] ]) (Matrix.zeros 2 1) Activation.Softmax ]
    let inputs = Matrix.ofColumns [ [| 2.0; 1.0 |]; [| 0.0; 3.0 |]; [| 5.0; 1.0 |]; [| 1.0; 2.0 |] ]
    let targets = Matrix.ofColumns [ [| 1.0; 0.0 |]; [| 0.0; 1.0 |]; [| 0.0; 1.0 |]; [| 1.0; 0.0 |] ]
    Assert.Equal(0.5, Evaluation.accuracy network inputs targets)
    // Rows are actual classes, columns predicted: class 0 once right and once taken for 1, class 1 likewise.
    Assert.Equal<int[,]>(array2D [ [ 1; 1 ]; [ 1; 1 ] ], Evaluation.confusionMatrix network inputs targets)
