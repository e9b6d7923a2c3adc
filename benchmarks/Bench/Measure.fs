/// Timing helpers and the JSON result lines of docs/benchmarks.md.
module FunctionalBackprop.Benchmarks.Measure

open System
open System.Diagnostics
open System.Globalization
open System.Text.Json

/// The median of a non-empty sample.
let median (xs: float seq) =
    let s = Seq.sort xs |> Array.ofSeq
    if s.Length % 2 = 1 then s.[s.Length / 2] else (s.[s.Length / 2 - 1] + s.[s.Length / 2]) / 2.0

/// Seconds taken by f.
let seconds (f: unit -> unit) =
    let clock = Stopwatch.StartNew()
    f ()
    clock.Elapsed.TotalSeconds

/// The process's processor time so far, in seconds (every thread's, user and kernel).
let processorSeconds () =
    use me = Process.GetCurrentProcess()
    me.TotalProcessorTime.TotalSeconds

/// Seconds of processor time the whole process spent in f: on a shared machine, the measure that
/// other processes' load does not inflate.
let cpuSeconds (f: unit -> unit) =
    let before = processorSeconds ()
    f ()
    processorSeconds () - before

/// Repeats f until at least `budget` seconds have passed (and at least once), returning seconds per call.
let perCall (budget: float) (f: unit -> unit) =
    let clock = Stopwatch.StartNew()
    let mutable calls = 0
    while calls = 0 || clock.Elapsed.TotalSeconds < budget do
        f ()
        calls <- calls + 1
    clock.Elapsed.TotalSeconds / float calls

/// SHA-256 of a network's parameters in their order (layer by layer: a dense layer's weights
/// column-major, then its biases), each
/// value's IEEE bits in little-endian order: equal hashes mean bit-identical training results.
let weightsHash (network: FunctionalBackprop.Core.Network<'T>) =
    use sha = Security.Cryptography.SHA256.Create()
    let bytes =
        [| for v in FunctionalBackprop.Core.Parameters.toArray network do
               yield! (match box v with
                       | :? float as d -> BitConverter.GetBytes d
                       | :? float32 as f -> BitConverter.GetBytes f
                       | _ -> failwith "float or float32 only") |]
    Convert.ToHexString(sha.ComputeHash bytes).ToLowerInvariant()

/// A result line: the workload's fields, in order, as one JSON object.
let emit (fields: (string * obj) list) =
    let options = JsonWriterOptions(Indented = false)
    use buffer = new IO.MemoryStream()
    (
        use w = new Utf8JsonWriter(buffer, options)
        w.WriteStartObject()
        for name, value in fields do
            match value with
            | :? string as s -> w.WriteString(name, s)
            | :? int as i -> w.WriteNumber(name, i)
            | :? float as f when Double.IsFinite f -> w.WriteNumber(name, Math.Round(f, 6))
            | :? float -> w.WriteNull name
            | other -> w.WriteString(name, Convert.ToString(other, CultureInfo.InvariantCulture))
        w.WriteEndObject()
    )
    Console.WriteLine(Text.Encoding.UTF8.GetString(buffer.ToArray()))
