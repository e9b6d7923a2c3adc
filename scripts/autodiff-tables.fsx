// The lecture's two examples of automatic differentiation, y = x₁x₂ + sin x₁ and
// y = e^(x₁x₂) + x₂³, as its tables: forward mode (one pass per input) and reverse mode (one
// backward sweep), with the gradient by hand beside them. Also written to out/autodiff-tables.txt.
//
//     dotnet build scripts/Experiments -c Release
//     dotnet fsi scripts/autodiff-tables.fsx [--quick] [--out DIR]
#load "build-check.fsx"
;;
#load "references.fsx"

open System.IO
open FunctionalBackprop.Experiments

// The tables are small: --quick changes nothing here.
let arguments = ScriptArguments.start fsi.CommandLineArgs
let text = AutoDiffTables.render (AutoDiffTables.run AutoDiffTables.full)
printfn "%s\n" text
let path = ScriptArguments.output arguments "autodiff-tables.txt"
File.WriteAllText(path, text + "\n")
printfn "wrote %s" path
