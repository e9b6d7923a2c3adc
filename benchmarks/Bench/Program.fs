/// `dotnet run -c Release -- W1 W3 W4 W6 W7` runs those workloads of docs/benchmarks.md and prints one
/// JSON line per result, after a W5 GEMM measurement of the active provider in the same run
/// (each throughput carries its ratio to that ceiling). `W5` itself compares the providers side by
/// side at n = 1024 and 2048, on one thread and on every core. `-- --micro [BenchmarkDotNet args]` runs
/// the micro-benchmarks.
module FunctionalBackprop.Benchmarks.Program

open System
open BenchmarkDotNet.Configs
open BenchmarkDotNet.Jobs
open BenchmarkDotNet.Running
open BenchmarkDotNet.Toolchains.InProcess.Emit
open FunctionalBackprop.Core

[<EntryPoint>]
let main args =
    match Array.tryFindIndex ((=) "--shards") args with
    | Some i when i + 1 < args.Length -> Workloads.shards <- int args.[i + 1]
    | _ -> ()
    if args |> Array.contains "--managed" then Gemm.useProvider ManagedGemm.Instance
    if args |> Array.contains "--profile" then
        let shape = args |> Array.tryFind (fun a -> a.StartsWith "W") |> Option.defaultValue "W3"
        let f32 = args |> Array.contains "--float32"
        match shape, f32 with
        | "W6", _ -> Profile.gradientAtBatchOne ()
        | "W7", _ -> Profile.layers<float32> (fst Workloads.lenet) (snd Workloads.lenet) Loss.CrossEntropy 64
        | "W1", _ -> Profile.run<float> [ 30; 10 ] Activation.Sigmoid Activation.Sigmoid Loss.Quadratic 10
        | "W4", true -> Profile.run<float32> [ 1024; 1024; 10 ] Activation.ReLU Activation.Softmax Loss.CrossEntropy 256
        | "W4", false -> Profile.run<float> [ 1024; 1024; 10 ] Activation.ReLU Activation.Softmax Loss.CrossEntropy 256
        | _, true -> Profile.run<float32> [ 100; 10 ] Activation.ReLU Activation.Softmax Loss.CrossEntropy 32
        | _ -> Profile.run<float> [ 100; 10 ] Activation.ReLU Activation.Softmax Loss.CrossEntropy 32
        0
    elif args |> Array.contains "--micro" then
        // In process: the benchmarks run in this process (with its runtime settings) rather than in
        // a generated project, which BenchmarkDotNet would look for under the assembly's name.
        let config =
            DefaultConfig.Instance.AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).AsDefault())
        BenchmarkSwitcher.FromTypes([| typeof<Micro.Passes> |]).Run(args |> Array.filter ((<>) "--micro"), config) |> ignore
        0
    else
        let known = set [ "W1"; "W2"; "W3"; "W4"; "W5"; "W6"; "W7" ]
        let asked = args |> Array.map (fun a -> a.ToUpperInvariant()) |> Array.filter (fun a -> not (a.StartsWith "--") && not (fst (Int32.TryParse a)))
        let asked = if asked.Length = 0 then [| "W1"; "W3"; "W4"; "W6" |] else asked
        match asked |> Array.tryFind (fun a -> not (known.Contains a)) with
        | Some bad ->
            eprintfn "error: unknown workload %s; the workloads are W1 … W7 (see docs/benchmarks.md)." bad
            2
        | None ->
            // --no-ceiling skips W5 (for profiling one workload alone); ratios are then omitted.
            let ceilings = not (args |> Array.contains "--no-ceiling")
            let ceiling64 = if ceilings then Workloads.gemmCeiling<float> () else nan
            let ceiling32 = if ceilings then Workloads.gemmCeiling<float32> () else nan
            for w in asked do
                match w with
                | "W1" -> Workloads.w1 ()
                | "W2" -> Workloads.w2 ()
                | "W3" -> Workloads.w3<float32> ceiling32; Workloads.w3<float> ceiling64
                | "W4" -> Workloads.w4<float32> ceiling32; Workloads.w4<float> ceiling64
                | "W5" -> Workloads.w5<float32> (); Workloads.w5<float> ()
                | "W6" -> Workloads.w6 ()
                | "W7" -> Workloads.w7 ceiling32
                | _ -> ()
            0
