// The experiments' DLLs, from scripts/Experiments/bin/Release/net10.0 (or Debug, if only that is
// built). Build them with `dotnet build scripts/Experiments -c Release`; build-check.fsx says so
// when they are missing. ScottPlot, SkiaSharp and the rest are found beside them when first used.
// (F# Interactive warns about a search folder that does not exist; one of the two usually does not.)
#nowarn "211"
#I "Experiments/bin/Release/net10.0"
#I "Experiments/bin/Debug/net10.0"
#r "FunctionalBackprop.Core.dll"
#r "FunctionalBackprop.Experiments.dll"
