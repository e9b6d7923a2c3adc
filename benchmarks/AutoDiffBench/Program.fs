/// How the cost of a gradient grows with the number of inputs n, for f(x) = Σᵢ sin xᵢ · xᵢ₊₁:
/// reverse mode (one evaluation on a tape and one backward sweep) costs a constant multiple of
/// evaluating f, whatever n; forward mode (one dual-number evaluation per input) costs about n
/// evaluations.
///
///   dotnet run -c Release --project benchmarks/AutoDiffBench -- --quick   the ratio table, quickly
///   dotnet run -c Release --project benchmarks/AutoDiffBench              the full BenchmarkDotNet run
///   (arguments after -- other than --quick go to BenchmarkDotNet, e.g. --filter '*')
module FunctionalBackprop.Benchmarks.AutoDiffBench

open System
open System.Diagnostics
open BenchmarkDotNet.Attributes
open BenchmarkDotNet.Running
open FunctionalBackprop.Core

/// f(x) = Σᵢ sin xᵢ · xᵢ₊₁ over n ≥ 2 inputs, one inline definition for floats, dual numbers
/// and tape variables: about 3n elementary operations.
let inline f (x: ^S[]) : ^S =
    let mutable total = sin x.[0] * x.[1]
    for i in 1 .. x.Length - 2 do
        total <- total + sin x.[i] * x.[i + 1]
    total

/// A point with n inputs.
let point (n: int) : float[] = Array.init n (fun i -> sin (float i + 0.5))

/// The three measurements side by side; BenchmarkDotNet's Ratio column gives each one's time
/// over the baseline, evaluating f.
[<MemoryDiagnoser>]
type Gradient() =
    let mutable x: float[] = [||]

    /// The number of inputs.
    [<Params(10, 100, 1000)>]
    member val N = 10 with get, set

    [<GlobalSetup>]
    member this.Setup() = x <- point this.N

    [<Benchmark(Baseline = true, Description = "f(x)")>]
    member _.Function() : float = f x

    [<Benchmark(Description = "reverse-mode gradient")>]
    member _.Reverse() : float[] = ReverseMode.gradient f x

    [<Benchmark(Description = "forward-mode gradient")>]
    member _.Forward() : float[] = ForwardMode.gradient f x

/// The median over `trials` of the time per call of action, each trial timing enough calls to
/// last about 10 ms.
let private median (trials: int) (action: unit -> 'a) : float =
    let time calls =
        let watch = Stopwatch.StartNew()
        for _ in 1 .. calls do
            action () |> ignore
        watch.Elapsed.TotalSeconds
    let mutable calls = 1
    while time calls < 0.01 do
        calls <- calls * 2
    let samples = Array.init trials (fun _ -> time calls / float calls) |> Array.sort
    samples.[trials / 2]

/// The quick table: for n = 10, 100, 1000, median Stopwatch times of f, of its reverse-mode and
/// of its forward-mode gradient, and the gradients' times over f's.
let quick () =
    printfn "Gradient time / function time, f(x) = Σ sin xᵢ · xᵢ₊₁ (Stopwatch medians of 15 trials)"
    printfn "%6s %12s %14s %9s %14s %9s" "n" "f (µs)" "reverse (µs)" "ratio" "forward (µs)" "ratio"
    for n in [ 10; 100; 1000 ] do
        let x = point n
        // Warm up for a third of a second each, so that the tiered JIT has moved every path to
        // its optimised code before it is timed.
        let warm (action: unit -> 'a) =
            let watch = Stopwatch.StartNew()
            while watch.Elapsed.TotalSeconds < 0.3 do
                action () |> ignore
        warm (fun () -> f x)
        warm (fun () -> ReverseMode.gradient f x)
        warm (fun () -> ForwardMode.gradient f x)
        let plain = median 15 (fun () -> f x)
        let reverse = median 15 (fun () -> ReverseMode.gradient f x)
        let forward = median 15 (fun () -> ForwardMode.gradient f x)
        printfn "%6d %12.3f %14.3f %9.1f %14.3f %9.1f" n (plain * 1e6) (reverse * 1e6) (reverse / plain) (forward * 1e6) (forward / plain)

[<EntryPoint>]
let main argv =
    if Array.contains "--quick" argv then quick ()
    else BenchmarkSwitcher.FromTypes([| typeof<Gradient> |]).Run(argv) |> ignore
    0
