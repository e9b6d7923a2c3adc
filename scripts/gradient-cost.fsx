// Backprop against finite differences: the time of one gradient for growing networks, the
// ratios, and the forward passes counted — the texts' argument that backprop costs about two
// forward passes while differences cost one per weight.
//
//     dotnet build scripts/Experiments -c Release
//     dotnet fsi scripts/gradient-cost.fsx [--quick] [--out DIR]
#load "build-check.fsx"
;;
#load "references.fsx"

open FunctionalBackprop.Experiments

Script.run fsi.CommandLineArgs GradientCost.quick GradientCost.full GradientCost.run GradientCost.table GradientCost.plot
