/// Class labels as training targets: one-hot columns, or one sigmoid output's 0/1.
module FunctionalBackprop.Properties.ClassLabelsProperties

open System
open Xunit
open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open FunctionalBackprop.Core
open FunctionalBackprop.Properties.Messages

/// Labels 0 … classes − 1 of 0–20 examples, for 2–12 classes.
type Labelled = { Classes: int; Labels: int[] }

type ClassLabelsArbitraries =
    static member Labelled() =
        gen {
            let! classes = Gen.choose (2, 12)
            let! n = Gen.choose (0, 20)
            let! labels = Gen.arrayOfLength n (Gen.choose (0, classes - 1))
            return { Classes = classes; Labels = labels }
        }
        |> Arb.fromGen

[<Properties(Arbitrary = [| typeof<ClassLabelsArbitraries> |], MaxTest = 100)>]
module Properties =

    [<Property>]
    let ``oneHot puts a 1 in row labels[j] of column j and 0 elsewhere`` (l: Labelled) =
        let y = ClassLabels.oneHot<float> l.Classes l.Labels
        ((y.Rows, y.Cols) = (l.Classes, l.Labels.Length) |> Prop.label "classes × examples")
        .&. (Seq.forall (fun (i, j) -> y.[i, j] = (if i = l.Labels.[j] then 1.0 else 0.0)) (seq { for j in 0 .. y.Cols - 1 do for i in 0 .. y.Rows - 1 -> i, j })
             |> Prop.label "one-hot")

    [<Property>]
    let ``one-hot targets decode back to their labels`` (l: Labelled) =
        // Evaluation.classes, the arg-max of each column, is the way back.
        Evaluation.classes (ClassLabels.oneHot<float> l.Classes l.Labels) = l.Labels

    [<Property>]
    let ``oneHot refuses a label outside the classes, naming its position`` (l: Labelled) (k: int) =
        let j = Math.Abs(k % (l.Labels.Length + 1))
        let label = if k % 2 = 0 then l.Classes + Math.Abs(k % 3) else -1 - Math.Abs(k % 3)
        let labels = Array.insertAt j label l.Labels
        let e = Assert.Throws<ArgumentOutOfRangeException>(fun () -> ClassLabels.oneHot<float> l.Classes labels |> ignore)
        mentions e.Message [ $"labels[{j}] is {label}"; $"0 … {l.Classes - 1}" ]

    [<Property>]
    let ``one sigmoid output's targets are the labels themselves, 0 or 1`` (bits: bool[]) =
        let labels = bits |> Array.map (fun b -> if b then 1 else 0)
        let y = ClassLabels.binary<float> labels
        (y.Rows = 1 && y.Cols = labels.Length && Array.map int (y.ToArray()) = labels)
