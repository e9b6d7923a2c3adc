/// README.md's F# quick start is this code, and it runs.
module FunctionalBackprop.Properties.QuickStartTests

open System
open System.IO
open System.Text.RegularExpressions
open Xunit
open FunctionalBackprop.Core

let private quickStart () =
    // quick start begins
    let network: Network<float> =
        Network.init 42UL (Shape.Vector 2)
            [ LayerSpec.Dense(3, Activation.Tanh, Some Initializer.XavierNormal)
              LayerSpec.Dense(1, Activation.Sigmoid, Some Initializer.XavierNormal) ]
    let x = Matrix.ofColumns [ [| 0.0; 0.0 |]; [| 0.0; 1.0 |]; [| 1.0; 0.0 |]; [| 1.0; 1.0 |] ]
    let y = Matrix.ofColumns [ [| 0.0 |]; [| 1.0 |]; [| 1.0 |]; [| 0.0 |] ]

    // Backprop's gradient, checked against finite differences (in inference mode: no dropout here).
    let gradient = Backprop.gradient Mode.Inference Loss.BinaryCrossEntropy network x y
    let check = GradientCheck.run Mode.Inference Loss.BinaryCrossEntropy network x y
    printfn "‖∇C‖ = %g, largest relative error %g" (Gradients.norm gradient) check.MaxRelativeError

    // Training is a fold of pure optimizer steps; the network passed in is unchanged.
    let options = TrainingOptions.create Loss.BinaryCrossEntropy (Optimizer.adam (Schedule.Constant 0.05)) 2000 4
    let trained = (Training.train options network x y).Network
    printfn "%A" ((Forward.run trained x).ToArray())
    // quick start ends
    check, trained, x

let private normalise (code: string) =
    code.Split('\n') |> Array.map (fun l -> l.Trim()) |> Array.filter (fun l -> l.Length > 0 && l <> "check, trained, x") |> String.concat "\n"

[<Fact>]
let ``the F# quick start checks the gradient and learns XOR`` () =
    let check, trained, x = quickStart ()
    Assert.True(check.MaxRelativeError < 1e-6)
    Assert.Equal<int[]>([| 0; 1; 1; 0 |], Evaluation.predict trained x)

[<Fact>]
let ``the README shows this quick start`` () =
    let root = Repository.root ()
    let readme = File.ReadAllText(Path.Combine(root, "README.md"))
    // The block of the section "F# quick start" (the rule of build/ReadmeSections.cs, which the
    // package README and the consumer test use): other ```fsharp blocks may come before it.
    let section = Regex.Match(readme.Replace("\r\n", "\n"), @"^## F# quick start\n(.*?)(?=^#{1,2} |\z)", RegexOptions.Singleline ||| RegexOptions.Multiline).Groups.[1].Value
    let block = Regex.Match(section, @"^```fsharp\n(.*?)^```", RegexOptions.Singleline ||| RegexOptions.Multiline).Groups.[1].Value
    let source = File.ReadAllText(Path.Combine(root, "tests", "Properties", "Docs", "QuickStartTests.fs"))
    let code = Regex.Match(source, "// quick start begins\n(.*?)// quick start ends", RegexOptions.Singleline).Groups.[1].Value
    Assert.False(String.IsNullOrWhiteSpace block, "README.md's section \"F# quick start\" has no ```fsharp block.")
    Assert.Equal(normalise code, normalise (block.Replace("open FunctionalBackprop.Core", "")))
