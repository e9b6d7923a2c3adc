namespace FunctionalBackprop.Experiments

open System
open System.Diagnostics

/// Wall-clock timing for the experiments that compare costs (never for tests).
module Timing =

    /// The time of one call of f: the median over five windows, each calling f repeatedly for at
    /// least `window`, after one window of warm-up so that the JIT has compiled what f runs.
    let perCall (window: TimeSpan) (f: unit -> 'R) : TimeSpan =
        let measureWindow () =
            let clock = Stopwatch.StartNew()
            let mutable calls = 0
            while calls = 0 || clock.Elapsed < window do
                f () |> ignore
                calls <- calls + 1
            clock.Elapsed / float calls
        measureWindow () |> ignore
        List.init 5 (fun _ -> measureWindow ()) |> List.sort |> List.item 2
