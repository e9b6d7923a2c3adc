// SGD, momentum, AdaGrad, RMSProp, Adam and Levenberg–Marquardt on the same network and data,
// each at the best of a few learning rates; the loss curves in one plot.
//
//     dotnet build scripts/Experiments -c Release
//     dotnet fsi scripts/optimizers.fsx [--quick] [--out DIR]
#load "build-check.fsx"
;;
#load "references.fsx"

open FunctionalBackprop.Experiments

Script.run fsi.CommandLineArgs OptimizerComparison.quick OptimizerComparison.full OptimizerComparison.run OptimizerComparison.table OptimizerComparison.plot
