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
    let layers = widths |> List.mapi (fun i w -> { Units = w; Activation = (if i = widths.Length - 1 then output else hidden); Initializer = Initializer.XavierNormal })
    let network = Network.init<'T> 1UL 784 layers
    let optimizer = Optimizer.sgd<'T> (Schedule.Constant 0.01)
    let ws = Workspace<'T>(loss, network, batch, 0)
    let indices = Array.init batch id
    let mutable state = Optimizer.init optimizer network
    let step () =
        ws.Compute(indices, d.X, d.Y) |> ignore
        let context = { Network = ws.Current; Gradient = ws.Gradient; Objective = None }
        let delta, s = Optimizer.change InPlace optimizer context state
        ws.Apply delta
        state <- s
    let report name (f: unit -> unit) =
        perCall 1.0 f |> ignore
        let t = median [ for _ in 1 .. 7 -> perCall 0.1 f ]
        printfn "%-40s %9.2f us" name (t * 1e6)
    report "whole step" step
    report "compute (forward + backward)" (fun () -> ws.Compute(indices, d.X, d.Y) |> ignore)
    let context () = { Network = ws.Current; Gradient = ws.Gradient; Objective = None }
    report "optimizer change (in place)" (fun () -> let _, s = Optimizer.change InPlace optimizer (context ()) state in state <- s)
    report "apply" (fun () -> ws.Apply ws.Gradient)
    let mutable input = d.X
    for (l, layer) in List.indexed network.Layers do
        let x = Matrix.zeros<'T> layer.InputWidth batch
        let z = Array.zeroCreate<'T> (layer.OutputWidth * batch)
        let a = Array.zeroCreate<'T> (layer.OutputWidth * batch)
        let dw = Array.zeroCreate<'T> (layer.OutputWidth * layer.InputWidth)
        let up = Array.zeroCreate<'T> (layer.InputWidth * batch)
        report $"layer {l + 1} z = Wa + b ({layer.OutputWidth}×{layer.InputWidth}×{batch})" (fun () -> Forward.weightedInputInto layer x.values batch z)
        report $"layer {l + 1} σ" (fun () -> Activation.applyInto (layer.Activation, layer.OutputWidth, ReadOnlySpan z, Span a))
        report $"layer {l + 1} σ' backward" (fun () -> Activation.backwardInto (layer.Activation, layer.OutputWidth, ReadOnlySpan z, ReadOnlySpan a, ReadOnlySpan a, Span z))
        report $"layer {l + 1} dW = δ aᵀ" (fun () -> Gemm.run false true layer.OutputWidth layer.InputWidth batch 'T.One a x.values 'T.Zero dw)
        report $"layer {l + 1} up = Wᵀ δ" (fun () -> Gemm.run true false layer.InputWidth batch layer.OutputWidth 'T.One layer.Weights.values a 'T.Zero up)
    let g = Gradients.zero network
    report "gradient norm (not used by SGD)" (fun () -> Gradients.norm g |> ignore)
