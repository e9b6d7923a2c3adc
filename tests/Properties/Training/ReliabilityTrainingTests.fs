/// Training that blows up, training twice, training on two threads at once: divergence ends with
/// the last finite network and the exact epoch and step; the same seed gives the same bits; two
/// runs at once give what each gives alone, on either GEMM provider.
module FunctionalBackprop.Properties.ReliabilityTrainingTests

open System
open System.IO
open System.Threading
open Xunit
open FunctionalBackprop.Core
open FunctionalBackprop.Properties.Generators

/// Every parameter's bits, in order.
let private bits (network: Network<'T>) : int64[] = Bits.ofNetwork network

let private finite (network: Network<'T>) = Parameters.toArray network |> Array.forall (fun (v: 'T) -> 'T.IsFinite v)

/// A 2 → 2 identity layer and four examples whose targets are a thousand times the inputs.
let private linear () : Network<float> =
    Network.init 1UL (Shape.Vector 2) [ LayerSpec.Dense(2, Activation.Identity, Some(Initializer.XavierNormal)) ]

let private xs = Matrix.ofColumns [ [| 0.0; 0.0 |]; [| 0.0; 1.0 |]; [| 1.0; 0.0 |]; [| 1.0; 1.0 |] ]
let private ys = Matrix.map (fun v -> 1000.0 * v) xs

/// Trains and returns the divergence, failing if training completed.
let private divergence options network x y =
    try
        Training.train options network x y |> ignore
        failwith "training did not diverge"
    with :? TrainingDivergedException<float> as e -> e

[<Fact>]
let ``SGD with η = 1e6 diverges with the network of the step before, and the exact epoch and step`` () =
    let options = TrainingOptions.create Loss.Quadratic (Optimizer.sgd (Schedule.Constant 1e6)) 100 1
    let e = divergence options (linear ()) xs ys
    Assert.True(finite e.LastFiniteNetwork)
    // Four batches an epoch: step s falls in epoch ⌈s/4⌉.
    Assert.Equal((int e.Step - 1) / 4 + 1, e.Epoch)
    Assert.Contains($"epoch {e.Epoch}, step {e.Step}", e.Message)
    // The same run stopped just before that step ends with exactly the network the error carries.
    use stop = new CancellationTokenSource()
    let stopped =
        Training.train
            { options with
                Reports = ReportFrequency.EveryBatch
                Cancellation = stop.Token
                OnReport = fun r -> if r.Kind = ReportKind.Batch && r.Step = e.Step - 1L then stop.Cancel() }
            (linear ()) xs ys
    Assert.Equal(e.Step - 1L, stopped.Steps)
    Assert.Equal<int64[]>(bits stopped.Network, bits e.LastFiniteNetwork)

[<Fact>]
let ``a step that makes a parameter infinite while the loss was finite is the step reported`` () =
    // Inputs of 1e150: the first loss is about 1e299 (finite), its gradient about 1e300, and
    // η = 1e100 sends the weights to ∞; the network before that step is the one kept.
    let x = Matrix.ofColumns [ [| 1e150; 1e150 |] ]
    let y = Matrix.ofColumns [ [| 0.0; 0.0 |] ]
    let options = TrainingOptions.create Loss.Quadratic (Optimizer.sgd (Schedule.Constant 1e100)) 10 1
    let e = divergence options (linear ()) x y
    Assert.Equal(1L, e.Step)
    Assert.Equal(1, e.Epoch)
    Assert.Contains("a parameter is no longer finite", e.Message)
    Assert.Equal<int64[]>(bits (linear ()), bits e.LastFiniteNetwork)

[<Fact>]
let ``the last finite network saves and loads, and a state holding NaN is never written`` () =
    let e = divergence (TrainingOptions.create Loss.Quadratic (Optimizer.sgd (Schedule.Constant 1e6)) 100 1) (linear ()) xs ys
    use stream = new MemoryStream()
    ModelFile.write stream (ModelContents.ofNetwork e.LastFiniteNetwork)
    stream.Position <- 0L
    Assert.Equal<int64[]>(bits e.LastFiniteNetwork, bits (ModelFile.read<float> stream).Network)
    use empty = new MemoryStream()
    let state = { OptimizerName = "line-search"; OptimizerState = LastRate(3L, nan); Epoch = 1; Step = 3L; RunningLoss = None }
    let refused = Assert.Throws<ArgumentException>(fun () -> ModelFile.write empty { ModelContents.ofNetwork e.LastFiniteNetwork with Training = Some state })
    Assert.Contains("not finite", refused.Message)
    Assert.Equal(0L, empty.Length)

/// A 6-10-4 softmax classifier trained with Adam on 48 seeded examples, mini-batches of 8.
let private trainSmall<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> (seed: uint64) (epochs: int) : Network<'T> =
    let network =
        Network.init<'T> seed (Shape.Vector 6)
            [ LayerSpec.Dense(10, Activation.Tanh, Some(Initializer.XavierNormal))
              LayerSpec.Dense(4, Activation.Softmax, Some(Initializer.XavierNormal)) ]
    let x = Random.normals (Random.derive seed 7UL) 0.0 1.0 (6 * 48) |> Array.map Real.ofFloat<'T> |> Matrix.ofColumnMajor 6 48
    let y = Matrix.init 4 48 (fun i j -> if i = j % 4 then 'T.One else 'T.Zero)
    let options = { TrainingOptions.create Loss.CrossEntropy (Optimizer.adam (Schedule.Constant 0.01)) epochs 8 with Seed = seed }
    (Training.train options network x y).Network

[<Fact>]
let ``the same seed gives bit-identical weights, run after run, on each provider, in float64 and float32`` () =
    for provider in Provider.Available do
        let first64, first32 = provider.Run(fun () -> trainSmall<float> 3UL 20, trainSmall<float32> 3UL 20)
        for _ in 1 .. 2 do
            let again64, again32 = provider.Run(fun () -> trainSmall<float> 3UL 20, trainSmall<float32> 3UL 20)
            Assert.Equal<int64[]>(bits first64, bits again64)
            Assert.Equal<int64[]>(bits first32, bits again32)
        // A different seed gives a different network, so the comparison above has teeth.
        Assert.NotEqual<int64[]>(bits first64, bits (provider.Run(fun () -> trainSmall<float> 4UL 20)))

[<Fact>]
let ``training on several threads at once gives what each run gives alone`` () =
    // Eight runs of four seeds, spread over the providers, all at once; each must equal its run alone.
    let providers = Provider.Available
    let runs = [ for k in 0 .. 7 -> providers.[k % providers.Length], uint64 (10 + k / 2) ]
    let alone = runs |> List.map (fun (provider, seed) -> bits (provider.Run(fun () -> trainSmall<float> seed 15)))
    let together = Array.zeroCreate<int64[]> runs.Length
    let failures = Collections.Concurrent.ConcurrentQueue<exn>()
    use start = new Barrier(runs.Length)
    let threads =
        runs |> List.mapi (fun k (provider, seed) ->
            Thread(fun () ->
                try
                    start.SignalAndWait()
                    together.[k] <- bits (provider.Run(fun () -> trainSmall<float> seed 15))
                with e -> failures.Enqueue e))
    threads |> List.iter (fun t -> t.Start())
    threads |> List.iter (fun t -> t.Join())
    Assert.Empty(failures)
    alone |> List.iteri (fun k expected -> Assert.Equal<int64[]>(expected, together.[k]))
