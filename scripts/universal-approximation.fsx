// Universal approximation: one hidden layer of N sigmoid units fitting sin 2πx, |x − ½| and a
// step on [0, 1]; the error against N, and plots of the fits.
//
//     dotnet build scripts/Experiments -c Release
//     dotnet fsi scripts/universal-approximation.fsx [--quick] [--out DIR]
#load "build-check.fsx"
;;
#load "references.fsx"

open FunctionalBackprop.Experiments

Script.run fsi.CommandLineArgs UniversalApproximation.quick UniversalApproximation.full UniversalApproximation.run UniversalApproximation.table UniversalApproximation.plot
