/// The workloads of docs/benchmarks.md, run as it defines them.
module FunctionalBackprop.Benchmarks.Workloads

open System
open System.IO
open System.Numerics
open FunctionalBackprop.Core
open FunctionalBackprop.Benchmarks.Measure

/// The bundled digits (8,000 training, 2,000 test), found from here or above.
let findData () =
    let rec up (dir: DirectoryInfo) =
        if isNull dir then failwith "data/mnist-10k not found here or above; run from the repository."
        let candidate = Path.Combine(dir.FullName, "data", "mnist-10k")
        if Directory.Exists candidate then candidate else up dir.Parent
    up (DirectoryInfo(Directory.GetCurrentDirectory()))

type Digits<'T when 'T :> IFloatingPointIeee754<'T>> = { X: Matrix<'T>; Y: Matrix<'T>; TestX: Matrix<'T>; TestY: Matrix<'T> }

let loadDigits<'T when 'T :> IFloatingPointIeee754<'T>> () : Digits<'T> =
    let train, test = Mnist.load<'T> (findData ())
    { X = train.Images; Y = ClassLabels.oneHot 10 train.Labels; TestX = test.Images; TestY = ClassLabels.oneHot 10 test.Labels }

let private provider () = (Gemm.provider ()).Name

/// Shards per mini-batch for the training workloads (--shards N; by default 0, the library's
/// automatic choice, as users get it).
let mutable shards = 0

/// The training options of a workload, with the run's shard count.
let private optionsFor (loss: Loss) (optimizer: Optimizer<'T>) (epochs: int) (batch: int) =
    { TrainingOptions.create loss optimizer epochs batch with Shards = shards }

/// Trains for `epochs` epochs and returns the seconds of each (evaluation excluded: nothing is
/// measured between batches), the bytes allocated on the training thread in each, the trained
/// network, and the process's processor seconds in each (from report to report, so it includes
/// the evaluation the report carries, if any: none in these workloads).
let private timedEpochs (options: TrainingOptions<'T>) (network: Network<'T>) (d: Digits<'T>) =
    let times = Collections.Generic.List<float>()
    let cpu = Collections.Generic.List<float>()
    let bytes = Collections.Generic.List<int64>()
    let mutable last = TimeSpan.Zero
    let mutable lastCpu = processorSeconds ()
    let mutable allocated = GC.GetTotalAllocatedBytes(true)
    let onReport (r: TrainingReport) =
        let now = GC.GetTotalAllocatedBytes(true)
        let nowCpu = processorSeconds ()
        times.Add((r.Elapsed - last).TotalSeconds)
        cpu.Add(nowCpu - lastCpu)
        bytes.Add(now - allocated)
        last <- r.Elapsed
        lastCpu <- nowCpu
        // After reading the processor time, whose Process object is not the training's allocation.
        allocated <- GC.GetTotalAllocatedBytes(true)
    let result = Training.train { options with OnReport = onReport } network d.X d.Y
    List.ofSeq times, List.ofSeq bytes, result.Network, List.ofSeq cpu

/// The median allocation of the epochs after the first, and per training step.
let private allocation (bytes: int64 list) (steps: int) =
    let perEpoch = median (bytes |> List.tail |> List.map float)
    [ "allocated_bytes_per_epoch_median", box perEpoch; "allocated_bytes_per_step", box (perEpoch / float steps) ]

/// The GEMM ceiling of the active provider: a 2048×2048 product on its default threads (median of
/// 5), the denominator of every workload's ceiling_ratio.
let gemmCeiling<'T when 'T :> IFloatingPointIeee754<'T>> () =
    let n = 2048
    let a: 'T[] = Array.init (n * n) (fun i -> Real.ofFloat (float (i % 17) / 17.0))
    let b: 'T[] = Array.init (n * n) (fun i -> Real.ofFloat (float (i % 13) / 13.0))
    let c: 'T[] = Array.zeroCreate (n * n)
    let run () = Gemm.run false false n n n 'T.One a b 'T.Zero c
    run ()
    let flops = 2.0 * float n * float n * float n
    let rates = [ for _ in 1 .. 5 -> flops / seconds run / 1e9 ]
    emit [ "workload", box "W5"; "dtype", box (Real.typeName<'T> ()); "n", box n; "gflops_median", box (median rates)
           "gflops_min", box (List.min rates); "gflops_max", box (List.max rates); "provider", box (provider ()) ]
    median rates

/// W5 side by side: n×n products (n = 1024 and 2048) through each provider, the native library's
/// (when one loads) and the managed kernel, on one thread and on every core; the providers take
/// turns, 7 rounds each, so that both see the same machine. Each line carries the managed
/// kernel's median over the native one's (`managed_over_native`) where both ran.
let w5<'T when 'T :> IFloatingPointIeee754<'T>> () =
    let native = Gemm.native ()
    let providers: IGemmProvider list = [ yield! native |> Option.map (fun p -> p :> IGemmProvider) |> Option.toList; ManagedGemm.Instance ]
    let savedNative, savedManaged = native |> Option.map (fun p -> p.MaxThreads), ManagedKernel.maxThreads
    try
        for n in [ 1024; 2048 ] do
            let a: 'T[] = Array.init (n * n) (fun i -> Real.ofFloat (float (i % 17) / 17.0))
            let b: 'T[] = Array.init (n * n) (fun i -> Real.ofFloat (float (i % 13) / 13.0))
            let c: 'T[] = Array.zeroCreate (n * n)
            let flops = 2.0 * float n * float n * float n
            for threads in List.distinct [ 1; Environment.ProcessorCount ] do
                native |> Option.iter (fun p -> p.MaxThreads <- threads)
                ManagedKernel.maxThreads <- threads
                // Wall-clock and process-processor-time rates of one product (on one thread the
                // second is what the product costs, however loaded the machine).
                let rate (p: IGemmProvider) =
                    let mutable wall = 0.0
                    let cpu = cpuSeconds (fun () -> wall <- seconds (fun () -> Gemm.withProvider p (fun () -> Gemm.run false false n n n 'T.One a b 'T.Zero c)))
                    flops / wall / 1e9, flops / cpu / 1e9
                for p in providers do rate p |> ignore
                let rounds = [ for _ in 1 .. 7 -> [ for p in providers -> rate p ] ]
                let medianOf (pick: float * float -> float) i = median (rounds |> List.map (fun r -> pick r.[i]))
                let medians = providers |> List.mapi (fun i _ -> medianOf fst i)
                let cpuMedians = providers |> List.mapi (fun i _ -> medianOf snd i)
                providers |> List.iteri (fun i p ->
                    let rates = rounds |> List.map (fun r -> fst r.[i])
                    emit ([ "workload", box "W5"; "dtype", box (Real.typeName<'T> ()); "n", box n; "threads", box threads
                            "gflops_median", box medians.[i]; "gflops_min", box (List.min rates); "gflops_max", box (List.max rates)
                            "cpu_gflops_median", box cpuMedians.[i]; "provider", box p.Name ]
                          @ (if providers.Length = 2 && i = 1 then
                                 [ "managed_over_native", box (medians.[1] / medians.[0]); "cpu_managed_over_native", box (cpuMedians.[1] / cpuMedians.[0]) ]
                             else [])))
    finally
        match native, savedNative with
        | Some p, Some t -> p.MaxThreads <- t
        | _ -> ()
        ManagedKernel.maxThreads <- savedManaged

let private spec units activation init = LayerSpec.Dense(units, activation, Some(init))

/// W1: Nielsen's chapter 1 network, float64.
let w1 () =
    let d = loadDigits<float> ()
    let network = Network.init<float> 1UL (Shape.Vector 784) [ spec 30 Activation.Sigmoid Initializer.StandardNormal; spec 10 Activation.Sigmoid Initializer.StandardNormal ]
    let times, bytes, trained, cpu = timedEpochs (optionsFor Loss.Quadratic (Optimizer.sgd (Schedule.Constant 3.0)) 30 10) network d
    emit ([ "workload", box "W1"; "dtype", box "float64"; "batch", box 10
            "s_per_epoch_median", box (median times); "s_per_epoch_min", box (List.min times); "s_per_epoch_max", box (List.max times)
            "cpu_s_per_epoch_median", box (median (List.tail cpu))
            "s_first_epoch", box times.Head; "first_epoch_over_median", box (times.Head / median times)
            "final_acc", box (Evaluation.accuracy trained d.TestX d.TestY); "weights_sha256", box (weightsHash trained)
            "provider", box (provider ()); "shards", box (Shards.resolve shards) ] @ allocation bytes (d.X.Cols / 10))

/// W2: Nielsen's chapter 3 network (cross-entropy on sigmoid outputs, L2), float64.
let w2 () =
    let d = loadDigits<float> ()
    let network = Network.init<float> 1UL (Shape.Vector 784) [ spec 100 Activation.Sigmoid Initializer.ScaledNormal; spec 10 Activation.Sigmoid Initializer.ScaledNormal ]
    let optimizer = Optimizer.sgdL2 (Schedule.Constant 0.5) 5.0 8000
    let times, _, trained, _ = timedEpochs (optionsFor Loss.BinaryCrossEntropy optimizer 30 10) network d
    emit [ "workload", box "W2"; "dtype", box "float64"; "batch", box 10
           "s_per_epoch_median", box (median times); "s_per_epoch_min", box (List.min times); "s_per_epoch_max", box (List.max times)
           "final_acc", box (Evaluation.accuracy trained d.TestX d.TestY); "provider", box (provider ()) ]

/// Examples per second over `epochs` timed epochs after one warm-up epoch (then `more` epochs
/// before the test accuracy), and GFLOP/s at 6 flops per multiply-add of the forward pass per
/// example.
let private throughputOf<'T when 'T :> IFloatingPointIeee754<'T>>
    (name: string) (input: Shape) (layers: LayerSpec list) (multiplyAdds: int) (optimizer: Optimizer<'T>) (batch: int) (epochs: int) (more: int) (ceiling: float) =
    let d = loadDigits<'T> ()
    let network = Network.init<'T> 1UL input layers
    let times, bytes, trained, cpu = timedEpochs (optionsFor Loss.CrossEntropy optimizer (epochs + 1 + more) batch) network d
    let rates = times |> List.tail |> List.truncate epochs |> List.map (fun t -> float d.X.Cols / t)
    let cpuRates = cpu |> List.tail |> List.truncate epochs |> List.map (fun t -> float d.X.Cols / t)
    let gflops = rates |> List.map (fun r -> r * 6.0 * float multiplyAdds / 1e9)
    let first = float d.X.Cols / times.Head
    emit ([ "workload", box name; "dtype", box (Real.typeName<'T> ()); "batch", box batch
            "samples_per_s_median", box (median rates); "samples_per_s_min", box (List.min rates); "samples_per_s_max", box (List.max rates)
            "samples_per_cpu_s_median", box (median cpuRates)
            "samples_per_s_first_epoch", box first; "median_over_first_epoch", box (median rates / first)
            "gflops_median", box (median gflops); "ceiling_ratio", box (median gflops / ceiling)
            "final_acc", box (Evaluation.accuracy trained d.TestX d.TestY); "weights_sha256", box (weightsHash trained)
            "provider", box (provider ()); "shards", box (Shards.resolveFor network shards) ]
          @ allocation bytes ((d.X.Cols + batch - 1) / batch))

/// Examples per second of a dense network on vectors under SGD (6 flops per weight per example).
let private throughput<'T when 'T :> IFloatingPointIeee754<'T>> (name: string) (layers: LayerSpec list) (rate: float) (batch: int) (epochs: int) (ceiling: float) =
    let weights = Network.init<'T> 1UL (Shape.Vector 784) layers |> Parameters.specs |> List.filter (fun p -> p.Name = "weight") |> List.sumBy (fun p -> p.Count)
    throughputOf<'T> name (Shape.Vector 784) layers weights (Optimizer.sgd (Schedule.Constant rate)) batch epochs 0 ceiling

/// W3: 784-100-10 ReLU, softmax and cross-entropy, SGD 0.1, batch 32; 5 epochs after 1 warm-up.
let w3<'T when 'T :> IFloatingPointIeee754<'T>> (ceiling: float) =
    throughput<'T> "W3" [ spec 100 Activation.ReLU Initializer.HeNormal; spec 10 Activation.Softmax Initializer.XavierNormal ] 0.1 32 5 ceiling

/// W4: 784-1024-1024-10 ReLU, softmax and cross-entropy, SGD, batch 256; 3 epochs after 1 warm-up.
let w4<'T when 'T :> IFloatingPointIeee754<'T>> (ceiling: float) =
    throughput<'T> "W4" [ spec 1024 Activation.ReLU Initializer.HeNormal; spec 1024 Activation.ReLU Initializer.HeNormal; spec 10 Activation.Softmax Initializer.XavierNormal ] 0.05 256 3 ceiling

/// LeNet-5 as W7 defines it (peers/torch_peer.py), ReLU, each layer's default initializer.
let lenet: Shape * LayerSpec list = Architectures.lenet5 Activation.ReLU None

/// LeNet-5's forward multiply-adds per example: 28·28·6·25 + 10·10·16·150 + 400·120 + 120·84 + 84·10.
let private lenetMultiplyAdds = 28 * 28 * 6 * 25 + 10 * 10 * 16 * 150 + 400 * 120 + 120 * 84 + 84 * 10

/// W7: LeNet-5, float32, heavy-ball SGD (η 0.05, β 0.9), cross-entropy, batch 64; 3 epochs after
/// 1 warm-up, the test accuracy after 5.
let w7 (ceiling: float) =
    throughputOf<float32> "W7" (fst lenet) (snd lenet) lenetMultiplyAdds (Optimizer.heavyBall (Schedule.Constant 0.05) 0.9) 64 3 1 ceiling

/// W6: 784-100-10 sigmoid, quadratic; one full gradient over one forward pass (both computing
/// the cost), at batch 1 and 100; and, at batch 1, forward differences over every parameter.
let w6 () =
    let d = loadDigits<float> ()
    let network = Network.init<float> 1UL (Shape.Vector 784) [ spec 100 Activation.Sigmoid Initializer.StandardNormal; spec 10 Activation.Sigmoid Initializer.StandardNormal ]
    for batch in [ 1; 100 ] do
        let x, y = Matrix.sliceColumns 0 batch d.X, Matrix.sliceColumns 0 batch d.Y
        let buffer = GradientBuffer<float>(network, batch)
        // Through a gradient buffer (no allocation: the forward pass in the buffer's arrays too),
        // and through the pure functions (fresh arrays each call).
        for api, forward, gradient in
            [ "buffer", (fun () -> buffer.Loss(Mode.Inference, Loss.Quadratic, network, x, y) |> ignore), (fun () -> buffer.LossAndGradient(Mode.Inference, Loss.Quadratic, network, x, y) |> ignore)
              "pure", (fun () -> Forward.cost Mode.Inference Loss.Quadratic network x y |> ignore), (fun () -> Backprop.lossAndGradient Mode.Inference Loss.Quadratic network x y |> ignore) ] do
            // Forward and gradient are timed in alternation (31 pairs of 50 ms each), so that both
            // see the same machine; the ratio is of the medians.
            for _ in 1 .. 3 do (perCall 0.1 forward |> ignore; perCall 0.1 gradient |> ignore)
            let pairs = [ for _ in 1 .. 31 -> perCall 0.05 forward, perCall 0.05 gradient ]
            let f, g = List.map fst pairs, List.map snd pairs
            emit [ "workload", box "W6"; "dtype", box "float64"; "batch", box batch; "api", box api
                   "forward_us", box (median f * 1e6); "gradient_us", box (median g * 1e6); "ratio", box (median g / median f)
                   "ratio_min", box (List.min (List.map2 (/) g f)); "ratio_max", box (List.max (List.map2 (/) g f)); "provider", box (provider ()) ]
    let x, y = Matrix.sliceColumns 0 1 d.X, Matrix.sliceColumns 0 1 d.Y
    let fd = seconds (fun () -> NumericalGradient.forwardDifference Mode.Inference Loss.Quadratic network x y 1e-6 |> ignore)
    emit [ "workload", box "W6"; "dtype", box "float64"; "batch", box 1; "method", box "forward-differences"
           "parameters", box network.ParameterCount; "seconds", box fd; "provider", box (provider ()) ]
