// LeNet-5 trained as the main job's --network lenet trains it; its six first-layer filters and a
// test digit's six feature maps, drawn side by side as one PNG (out/lenet-feature-maps.png).
//
//     dotnet build scripts/Experiments -c Release
//     dotnet fsi scripts/feature-maps.fsx [--quick] [--out DIR]
#load "build-check.fsx"
;;
#load "references.fsx"

open FunctionalBackprop.Experiments

Script.run fsi.CommandLineArgs FeatureMaps.quick FeatureMaps.full FeatureMaps.run FeatureMaps.table FeatureMaps.plot
