// SGD, momentum, AdaGrad, RMSProp, Adam and Levenberg–Marquardt on the same network and data,
// each at the best of a few learning rates; the loss curves in one plot.
//
//     dotnet build scripts/Experiments -c Release
//     dotnet fsi scripts/optimizers.fsx [--quick] [--out DIR]
#load "build-check.fsx"
;;
#load "references.fsx"

open System.Diagnostics
open FunctionalBackprop.Experiments

let arguments = ScriptArguments.start fsi.CommandLineArgs
let clock = Stopwatch.StartNew()
let result = OptimizerComparison.run (if arguments.Quick then OptimizerComparison.quick else OptimizerComparison.full)
printfn "%s\n" (OptimizerComparison.table result)
for path in OptimizerComparison.plot arguments.OutputFolder result do
    printfn "wrote %s" path
printfn "done in %.1f s" clock.Elapsed.TotalSeconds
