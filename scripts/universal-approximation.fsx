// Universal approximation: one hidden layer of N sigmoid units fitting sin 2πx, |x − ½| and a
// step on [0, 1]; the error against N, and plots of the fits.
//
//     dotnet build scripts/Experiments -c Release
//     dotnet fsi scripts/universal-approximation.fsx [--quick] [--out DIR]
#load "build-check.fsx"
;;
#load "references.fsx"

open System.Diagnostics
open FunctionalBackprop.Experiments

let arguments = ScriptArguments.start fsi.CommandLineArgs
let clock = Stopwatch.StartNew()
let result = UniversalApproximation.run (if arguments.Quick then UniversalApproximation.quick else UniversalApproximation.full)
printfn "%s\n" (UniversalApproximation.table result)
for path in UniversalApproximation.plot arguments.OutputFolder result do
    printfn "wrote %s" path
printfn "done in %.1f s" clock.Elapsed.TotalSeconds
