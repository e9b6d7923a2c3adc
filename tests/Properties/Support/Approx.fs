/// Comparisons of computed reals that allow for rounding and say what differed.
module FunctionalBackprop.Properties.Approx

open System
open FsCheck
open FsCheck.FSharp

/// |a − b| ≤ rel·(|a| + |b|) + abs: relative for ordinary values, absolute near zero.
let close (rel: float) (abs: float) (a: float) (b: float) = Math.Abs(a - b) <= rel * (Math.Abs a + Math.Abs b) + abs

/// Every pair close, as a property that names the first pair that is not.
let allClose (what: string) (rel: float) (abs: float) (expected: float[]) (actual: float[]) : Property =
    if expected.Length <> actual.Length then
        false |> Prop.label $"{what}: lengths differ, expected {expected.Length}, got {actual.Length}"
    else
        match Array.tryFindIndex id (Array.map2 (fun e a -> not (close rel abs e a)) expected actual) with
        | None -> true |> Prop.ofTestable
        | Some i -> false |> Prop.label $"{what}: entry {i} expected {expected.[i]:R}, got {actual.[i]:R}"

/// The largest magnitude in an array (0 for an empty one), to scale absolute tolerances.
let scale (xs: float[]) = if xs.Length = 0 then 0.0 else xs |> Array.map Math.Abs |> Array.max
