// Backprop against finite differences: the time of one gradient for growing networks, the
// ratios, and the forward passes counted — the texts' argument that backprop costs about two
// forward passes while differences cost one per weight.
//
//     dotnet build scripts/Experiments -c Release
//     dotnet fsi scripts/gradient-cost.fsx [--quick] [--out DIR]
#load "build-check.fsx"
;;
#load "references.fsx"

open System.Diagnostics
open FunctionalBackprop.Experiments

let arguments = ScriptArguments.start fsi.CommandLineArgs
let clock = Stopwatch.StartNew()
let result = GradientCost.run (if arguments.Quick then GradientCost.quick else GradientCost.full)
printfn "%s\n" (GradientCost.table result)
for path in GradientCost.plot arguments.OutputFolder result do
    printfn "wrote %s" path
printfn "done in %.1f s" clock.Elapsed.TotalSeconds
