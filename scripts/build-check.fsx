// Stops a script with a clear message when the experiments' DLLs have not been built yet. A
// script loads this file, then `;;`, then references.fsx: the `;;` makes F# Interactive run this
// check before it resolves the references, which would otherwise fail first with a bare
// "unable to find the file".
open System.IO

let private builtIn configuration =
    let folder = Path.Combine(__SOURCE_DIRECTORY__, "Experiments", "bin", configuration, "net10.0")
    [ "FunctionalBackprop.Core.dll"; "FunctionalBackprop.Experiments.dll" ] |> List.forall (fun dll -> File.Exists(Path.Combine(folder, dll)))

if not (builtIn "Release" || builtIn "Debug") then
    eprintfn "The experiments are not built. Run this first, from the repository's root:"
    eprintfn "    dotnet build scripts/Experiments -c Release"
    exit 1
