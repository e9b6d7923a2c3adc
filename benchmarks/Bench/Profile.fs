/// `--profile`: where the time of one training step goes, kernel by kernel, for a workload's
/// shape (a diagnostic, not a benchmark: it times pieces in isolation).
module FunctionalBackprop.Benchmarks.Profile

open System
open System.Numerics
open System.Numerics.Tensors
open FunctionalBackprop.Core
open FunctionalBackprop.Benchmarks.Measure

let run<'T when 'T :> IFloatingPointIeee754<'T>> (widths: int list) (hidden: Activation) (output: Activation) (loss: Loss) (batch: int) =
    let d = Workloads.loadDigits<'T> ()
    let layers = widths |> List.mapi (fun i w -> LayerSpec.Dense(w, (if i = widths.Length - 1 then output else hidden), Some(Initializer.XavierNormal)))
    let network = Network.init<'T> 1UL (Shape.Vector 784) layers
    let optimizer = Optimizer.sgd<'T> (Schedule.Constant 0.01)
    let ws = new Workspace<'T>(loss, network, batch, 0, Shards.resolve Workloads.shards, None)
    let indices = Array.init batch id
    let key = { Seed = 1UL; Step = 1L; First = 0 }
    let stages = Optimizer.start optimizer (Optimizer.init optimizer network)
    let step () =
        ws.Compute(indices, 0, batch, d.X, d.Y, key) |> ignore
        let context = { Network = ws.Current; Gradient = ws.Gradient; Objective = None }
        ws.Step(Optimizer.stepInPlace stages context ws.Gradient, ws.Gradient)
    let report name (f: unit -> unit) =
        perCall 1.0 f |> ignore
        let t = median [ for _ in 1 .. 7 -> perCall 0.1 f ]
        printfn "%-40s %9.2f us" name (t * 1e6)
    report "whole step" step
    if Shards.resolve Workloads.shards > 1 then
        let idle = new ShardWorkers(Shards.resolve Workloads.shards, ignore)
        report "shard hand-off (no work)" idle.Run
        let half = batch / 2
        let xs = Array.init 2 (fun k -> Matrix.sliceColumns (k * half) half d.X)
        let ys = Array.init 2 (fun k -> Matrix.sliceColumns (k * half) half d.Y)
        let passes = Array.init 2 (fun k -> Backprop.allocate network xs.[k])
        let pass k = Backprop.lossAndGradientInto ValueNone loss network passes.[k] ys.[k] batch |> ignore
        let alone = new ShardWorkers(2, fun k -> if k = 0 then pass 0)
        let both = new ShardWorkers(2, pass)
        report "one half-batch pass, other core idle" alone.Run
        report "two half-batch passes, one per core" both.Run
        (alone :> IDisposable).Dispose()
        (both :> IDisposable).Dispose()
        (idle :> IDisposable).Dispose()
    let order = Random.permutation 7UL d.X.Cols
    let mutable b = 0
    let batches = d.X.Cols / batch
    report "whole step, shuffled batches" (fun () ->
        let indices = order.[b * batch .. b * batch + batch - 1]
        b <- (b + 1) % batches
        ws.Compute(indices, 0, batch, d.X, d.Y, key) |> ignore
        let context = { Network = ws.Current; Gradient = ws.Gradient; Objective = None }
        ws.Step(Optimizer.stepInPlace stages context ws.Gradient, ws.Gradient))
    report "gather only, shuffled" (fun () ->
        let indices = order.[b * batch .. b * batch + batch - 1]
        b <- (b + 1) % batches
        let xb, _ = ws.Batch
        indices |> Array.iteri (fun k j -> Array.Copy(d.X.values, j * 784, xb.values, k * 784, 784)))
    let times = Collections.Generic.List<float>()
    let mutable last = TimeSpan.Zero
    let options = { TrainingOptions.create loss optimizer 6 batch with Shards = Workloads.shards; OnReport = fun r -> (times.Add((r.Elapsed - last).TotalSeconds); last <- r.Elapsed) }
    Training.train options network d.X d.Y |> ignore
    let steps = float ((d.X.Cols + batch - 1) / batch)
    printfn "%-40s %9.2f us (median of epochs 2-6 of one Training.train); epoch 1: %.2f us" "per step in an epoch" (median (Seq.skip 1 times) / steps * 1e6) (times.[0] / steps * 1e6)
    report "compute (forward + backward)" (fun () -> ws.Compute(indices, 0, batch, d.X, d.Y, key) |> ignore)
    let context () = { Network = ws.Current; Gradient = ws.Gradient; Objective = None }
    report "optimizer step (in place)" (fun () -> Optimizer.stepInPlace stages (context ()) ws.Gradient |> ignore)
    report "apply" (fun () -> ws.Step('T.One, ws.Gradient))
    let mutable input = d.X
    for (l, layer) in List.indexed network.Layers do
        match layer with
        | Layer.Dense layer ->
            let x = Matrix.zeros<'T> layer.InputWidth batch
            let t = Forward.layer Mode.Inference network l x
            let z, a = t.Z, t.A
            let dw = Array.zeroCreate<'T> (layer.OutputWidth * layer.InputWidth)
            let up = Array.zeroCreate<'T> (layer.InputWidth * batch)
            report $"layer {l + 1} z = Wa + b ({layer.OutputWidth}×{layer.InputWidth}×{batch})" (fun () -> Dense.forwardInto layer x z)
            report $"layer {l + 1} σ" (fun () -> Activation.applyInto layer.Activation z a)
            report $"layer {l + 1} σ' backward" (fun () -> Activation.backwardInto layer.Activation z a a z)
            report $"layer {l + 1} dW = δ aᵀ" (fun () -> Gemm.run false true layer.OutputWidth layer.InputWidth batch 'T.One a.values x.values 'T.Zero dw)
            report $"layer {l + 1} up = Wᵀ δ" (fun () -> Gemm.run true false layer.InputWidth batch layer.OutputWidth 'T.One layer.Weights.values a.values 'T.Zero up)
        | other -> printfn "layer %d (%O): not profiled" (l + 1) other
    let g = Gradients.zero network
    report "gradient norm (not used by SGD)" (fun () -> Gradients.norm g |> ignore)
    // Bytes allocated by each piece of a training step, on this thread (after warm-up above).
    let allocated name (f: unit -> unit) =
        f ()
        let before = GC.GetAllocatedBytesForCurrentThread()
        for _ in 1 .. 100 do f ()
        printfn "%-40s %9.0f bytes per call" name (float (GC.GetAllocatedBytesForCurrentThread() - before) / 100.0)
    allocated "allocated: compute" (fun () -> ws.Compute(order, 0, batch, d.X, d.Y, key) |> ignore)
    allocated "allocated: context" (fun () -> context () |> ignore)
    let ctx = context ()
    allocated "allocated: optimizer step" (fun () -> Optimizer.stepInPlace stages ctx ws.Gradient |> ignore)
    allocated "allocated: step" (fun () -> ws.Step('T.Zero, ws.Gradient))

/// W6 at batch 1: the pieces of one pure gradient.
let gradientAtBatchOne () =
    let d = Workloads.loadDigits<float> ()
    let spec u = LayerSpec.Dense(u, Activation.Sigmoid, Some(Initializer.StandardNormal))
    let network = Network.init<float> 1UL (Shape.Vector 784) [ spec 100; spec 10 ]
    let x, y = Matrix.sliceColumns 0 1 d.X, Matrix.sliceColumns 0 1 d.Y
    let report name (f: unit -> unit) =
        perCall 0.5 f |> ignore
        let t = median [ for _ in 1 .. 15 -> perCall 0.05 f ]
        printfn "%-44s %9.2f us" name (t * 1e6)
    let delta = Array.create 100 0.5
    let dw: float[] = Array.zeroCreate 78400
    report "Forward.cost" (fun () -> Forward.cost Mode.Inference Loss.Quadratic network x y |> ignore)
    report "Forward.trace" (fun () -> Forward.trace Mode.Inference network x |> ignore)
    report "Backprop.lossAndGradient" (fun () -> Backprop.lossAndGradient Mode.Inference Loss.Quadratic network x y |> ignore)
    report "Network.checkInputs (784 values)" (fun () -> Network.checkInputs network x)
    report "dW = δ xᵀ (100×784, k = 1) into a reused array" (fun () -> Gemm.run false true 100 784 1 1.0 delta x.values 0.0 dw)
    report "dW into a new uninitialised array" (fun () -> Gemm.run false true 100 784 1 1.0 delta x.values 0.0 (GC.AllocateUninitializedArray<float> 78400))
    report "a new uninitialised 78,400-array alone" (fun () -> GC.AllocateUninitializedArray<float> 78400 |> ignore)

/// Where a training step of any network goes, layer by layer: each kind's own forward and
/// backward steps and σ's, timed in isolation on a batch of the training digits.
let layers<'T when 'T :> IFloatingPointIeee754<'T>> (input: Shape) (specs: LayerSpec list) (loss: Loss) (batch: int) =
    let d = Workloads.loadDigits<'T> ()
    let network = Network.init<'T> 1UL input specs
    // FBP_PROFILE_CPU=1 times by the process's processor time instead of the wall clock: on a
    // busy machine, with one shard and one BLAS thread, it still counts only this work.
    let cpu = Environment.GetEnvironmentVariable "FBP_PROFILE_CPU" = "1"
    let perCallCpu (budget: float) (f: unit -> unit) =
        let self = Diagnostics.Process.GetCurrentProcess()
        let start = self.TotalProcessorTime
        let mutable calls = 0
        while calls = 0 || (self.Refresh(); (self.TotalProcessorTime - start).TotalSeconds < budget) do
            f ()
            calls <- calls + 1
        self.Refresh()
        (self.TotalProcessorTime - start).TotalSeconds / float calls
    let timed = if cpu then perCallCpu else perCall
    let report name (f: unit -> unit) =
        timed 0.5 f |> ignore
        let t = median [ for _ in 1 .. 7 -> timed 0.1 f ]
        printfn "%-60s %9.2f us" name (t * 1e6)
    let ws = new Workspace<'T>(loss, network, batch, 0, Shards.resolveFor network Workloads.shards, None)
    let indices = Array.init batch id
    let key = { Seed = 1UL; Step = 1L; First = 0 }
    report "compute (forward + backward, whole batch)" (fun () -> ws.Compute(indices, 0, batch, d.X, d.Y, key) |> ignore)
    let x = Matrix.sliceColumns 0 batch d.X
    let pass = Backprop.allocate network x
    let draws = ValueSome key
    Forward.traceInto draws network x pass.Z pass.A pass.Scratch pass.Statistics
    for (l, layer) in List.indexed network.Layers do
        let shape = network.Shapes.[l]
        let below = if l > 0 then ValueSome pass.OutputGradients.[l - 1] else ValueNone
        let segment = Network.statisticsOf network pass.Statistics l
        report $"layer {l + 1} {layer} forward" (fun () -> Layer.forwardInto layer draws (l + 1) shape (pass.Input l) pass.Z.[l] pass.Scratch.[l] segment)
        report $"layer {l + 1} σ" (fun () -> Activation.applyInto (Layer.activation layer) pass.Z.[l] pass.A.[l])
        report $"layer {l + 1} σ' backward" (fun () -> Activation.backwardInto (Layer.activation layer) pass.Z.[l] pass.A.[l] pass.OutputGradients.[l] pass.Deltas.[l])
        report $"layer {l + 1} backward" (fun () -> Layer.backwardInto layer shape (pass.Input l) pass.Deltas.[l] pass.Scratch.[l] pass.Gradient.[l] below)
        match layer with
        | Layer.Conv2D c ->
            let cols, y = pass.Scratch.[l].[0].values, pass.Scratch.[l].[1].values
            let filters, rows = c.Kernels.Rows, c.Kernels.Cols
            let pn = pass.Z.[l].Rows / filters * batch
            report $"  y = cols·wᵀ ({pn}×{filters}×{rows})" (fun () -> Gemm.run false true pn filters rows 'T.One cols c.Kernels.values 'T.Zero y)
            report $"  dW = δᵀ·cols ({filters}×{rows}×{pn}), GEMM" (fun () -> Gemm.run true false filters rows pn 'T.One y cols 'T.Zero pass.Gradient.[l].[0].values)
            report $"  dW = δᵀ·cols ({filters}×{rows}×{pn}), column products" (fun () -> ColumnProducts.transposeInto pn filters rows y cols pass.Gradient.[l].[0].values)
            if l > 0 then
                let scratchCols = Array.copy cols
                report $"  dCols = δ·w ({pn}×{rows}×{filters})" (fun () -> Gemm.run false false pn rows filters 'T.One y c.Kernels.values 'T.Zero scratchCols)
        | _ -> ()
