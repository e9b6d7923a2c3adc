/// Checks on the exceptions bad input gets: their type, the caller's parameter they name, and the
/// words of their message, as properties that say what was missing.
module FunctionalBackprop.Properties.Messages

open System
open Xunit
open FsCheck
open FsCheck.FSharp

/// The exception f throws, which must be of type 'E exactly (not a type derived from it).
let refused<'E when 'E :> exn> (f: unit -> obj) : 'E = Assert.Throws<'E>(fun () -> f () |> ignore)

/// Every fragment appears in the message, as a property naming the first that does not.
let mentions (message: string) (fragments: string list) : Property =
    fragments
    |> List.map (fun (f: string) -> message.Contains f |> Prop.label $"\"{message}\" should mention \"{f}\"")
    |> List.reduce (.&.)

/// The exception names the caller's parameter.
let names (parameter: string) (e: #ArgumentException) : Property =
    e.ParamName = parameter |> Prop.label $"parameter {e.ParamName}, expected {parameter}"
