module FunctionalBackprop.Properties.ExperimentTests

// The experiments behind scripts/*.fsx, run small so that they cannot rot: their cores assert
// what the scripts show (backprop is about two forward passes, differences P + 1; more hidden
// units fit a continuous function better; every optimizer lowers the loss; the AD tables give
// the gradient by hand), and each script itself runs end to end with --quick.

open System
open System.Diagnostics
open System.IO
open Xunit
open FunctionalBackprop.Core
open FunctionalBackprop.Experiments

let private close (expected: float) (actual: float) =
    abs (expected - actual) <= 1e-12 * max 1.0 (abs expected)

[<Fact>]
let ``the AD tables of both lecture examples give the gradient by hand in both modes`` () =
    let tables = AutoDiffTables.run { Point = [| 0.7; -1.3 |] }
    Assert.Equal(2, tables.Length)
    for t in tables do
        let byHand = t.Example.Gradient t.Point
        // Forward mode: pass j, seeded with eⱼ, gives ∂y/∂xⱼ as the output's tangent.
        Assert.Equal(t.Point.Length, t.Forward.Length)
        t.Forward |> List.iteri (fun j table -> Assert.True(close byHand.[j] table.Derivative, $"{t.Example.Formula}: forward pass {j + 1} gave {table.Derivative}, by hand {byHand.[j]}"))
        // Reverse mode: one sweep gives the whole gradient.
        Array.iteri2 (fun j h g -> Assert.True(close h g, $"{t.Example.Formula}: reverse ∂y/∂x{j + 1} = {g}, by hand {h}")) byHand t.Backward.Gradient
    let text = AutoDiffTables.render tables
    Assert.Contains("Reverse mode, one backward sweep:", text)
    Assert.Contains("y = x₁x₂ + sin x₁", text)

[<Fact>]
let ``backprop costs one forward pass of products and two to three of flops; differences cost P + 1`` () =
    let settings =
        { GradientCost.quick with Widths = [ 3; 7 ]; Window = TimeSpan.FromMilliseconds 1.0; WarmUp = TimeSpan.Zero }
    let result = GradientCost.run settings
    for row in result.Rows do
        Assert.Equal((GradientCost.network settings row.Width).ParameterCount, row.Parameters)
        Assert.Equal(row.Parameters + 1, row.DifferenceForwardPasses)
        Assert.Equal(1, row.BackpropForwardPasses)
        // Backward: δ(aˡ⁻¹)ᵀ for every layer and (wˡ)ᵀδˡ for all but the first, each as many flops as wˡaˡ⁻¹.
        Assert.InRange(row.BackpropFlopRatio, 2.0, 3.0)
        Assert.InRange(row.RelativeDifference, 0.0, 1e-5)
        Assert.True(row.Forward > TimeSpan.Zero && row.Backprop > TimeSpan.Zero && row.Differences > TimeSpan.Zero)
    Assert.Contains("diff/bp", GradientCost.table result)

[<Fact>]
let ``more sigmoid units fit the continuous targets far better`` () =
    let result = UniversalApproximation.run UniversalApproximation.quick
    let units = UniversalApproximation.quick.HiddenUnits
    for target in [ TargetFunction.Sine; TargetFunction.AbsoluteValue ] do
        let fits = UniversalApproximation.fitsOf target result
        let first, last = List.head fits, List.last fits
        Assert.Equal<int list>(units, fits |> List.map (fun f -> f.Units))
        Assert.True(last.RmsError < first.RmsError / 10.0, $"{TargetFunction.name target}: RMS {first.RmsError} with N = {first.Units}, {last.RmsError} with N = {last.Units}")
    for fit in result.Fits do
        Assert.True(Array.forall Double.IsFinite fit.Fitted && fit.MaxError >= fit.RmsError)

[<Fact>]
let ``every optimizer lowers the loss and Levenberg–Marquardt ends lowest`` () =
    let result = OptimizerComparison.run OptimizerComparison.quick
    Assert.Equal(OptimizerComparison.quick.Rates.Length, result.Best.Length)
    for run in result.Best do
        Assert.False(run.Diverged, OptimizerComparison.label run)
        Assert.Equal(result.InitialLoss, run.Losses.[0])
        Assert.True(run.FinalLoss < result.InitialLoss / 2.0, $"{OptimizerComparison.label run}: {result.InitialLoss} → {run.FinalLoss}")
    let lm = result.Best |> List.find (fun r -> r.Kind = OptimizerKind.LevenbergMarquardt)
    let lowest = result.Best |> List.minBy (fun r -> r.FinalLoss)
    Assert.True((lowest.Kind = OptimizerKind.LevenbergMarquardt), $"lowest final loss: {OptimizerComparison.label lowest} {lowest.FinalLoss}, Levenberg–Marquardt {lm.FinalLoss}")

[<Fact>]
let ``script arguments: --quick, --out and a clear error for anything else`` () =
    Assert.Equal(Ok { Quick = true; OutputFolder = "plots" }, ScriptArguments.parse [| "s.fsx"; "--out"; "plots"; "--quick" |])
    Assert.Equal(Ok { Quick = false; OutputFolder = "out" }, ScriptArguments.parse [| "s.fsx" |])
    Assert.Equal(Error "unknown argument --fast", ScriptArguments.parse [| "s.fsx"; "--fast" |])
    Assert.Equal(Error "--out needs a folder", ScriptArguments.parse [| "s.fsx"; "--out" |])

[<Fact>]
let ``the feature-map picture holds LeNet's six 5×5 filters and the digit's six 28×28 maps, after training that beats chance`` () =
    let settings = { FeatureMaps.quick with Data = Path.Combine(Repository.root (), "data", "mnist-10k") }
    let result = FeatureMaps.run settings
    Assert.Equal(6, result.Filters.Length)
    Assert.All(result.Filters, fun f -> Assert.Equal(25, f.Length))
    Assert.All(result.Maps, fun m -> Assert.Equal(784, m.Length); Assert.True(Array.forall (fun v -> v >= 0.0) m, "a map after ReLU has a negative value"))
    Assert.Equal(784, result.Image.Length)
    Assert.True(result.Accuracy > 0.2, $"accuracy {result.Accuracy} after a quick run (chance is 0.1)")
    let again = FeatureMaps.run settings
    Assert.Equal<float[]>(Array.concat result.Filters, Array.concat again.Filters)

[<Theory>]
[<InlineData("feature-maps.fsx", "lenet-feature-maps.png")>]
[<InlineData("autodiff-tables.fsx", "autodiff-tables.txt")>]
[<InlineData("gradient-cost.fsx", "gradient-cost.png")>]
[<InlineData("optimizers.fsx", "optimizers.png")>]
[<InlineData("universal-approximation.fsx", "universal-approximation-error.png")>]
let ``each script runs with --quick and writes its output`` (script: string, written: string) =
    let root = Repository.root ()
    let output = Directory.CreateTempSubdirectory("fbp-script-").FullName
    let path = Path.Combine(root, "scripts", script)
    try
        let start =
            ProcessStartInfo("dotnet", $"fsi \"{path}\" --quick --out \"{output}\"",
                             RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = root)
        use proc = Process.Start start
        let stdout = proc.StandardOutput.ReadToEndAsync()
        let stderr = proc.StandardError.ReadToEndAsync()
        Assert.True(proc.WaitForExit(TimeSpan.FromMinutes 3.0), $"{script} did not finish in 3 minutes.")
        let text = stdout.Result + stderr.Result
        Assert.True(proc.ExitCode = 0, $"{script} failed ({proc.ExitCode}):\n{text}")
        let file = Path.Combine(output, written)
        Assert.True(File.Exists file, $"{script} did not write {written}:\n{text}")
        if written.EndsWith ".png" then
            // The PNG signature: the plot was rendered, not just the file created.
            Assert.Equal<byte[]>([| 0x89uy; 0x50uy; 0x4Euy; 0x47uy |], File.ReadAllBytes(file).[0..3])
    finally
        Directory.Delete(output, true)
