namespace FunctionalBackprop.Core

open System
open System.Numerics
open FunctionalBackprop.Core.GenericArithmetic

/// Measuring a network on a data set: loss, accuracy, confusion matrix. Large sets are evaluated
/// in chunks of examples, so memory stays bounded whatever their size.
module Evaluation =

    /// Examples per forward pass: 1,024, or fewer when a pass would hold more than 2²³ values
    /// (8 million: 32 MB in float32) in its layers' outputs and scratch (a convolution keeps every
    /// window's values, 25 per output pixel for a 5×5 kernel; dense networks up to two hidden
    /// layers of 2,048 units keep 1,024).
    let private chunkFor (network: Network<'T>) : int =
        let perExample =
            List.zip network.Layers (List.pairwise network.Shapes)
            |> List.sumBy (fun (l, (input, output)) -> 2 * output.Size + List.sum (LayerSpec.scratchRows (Layer.spec l) input))
        Math.Clamp((1 <<< 23) / Math.Max(1, perExample), 1, 1024)

    /// The chunks [start, start + count) of x's examples, each pass of the network's chunk size.
    let internal chunks (network: Network<'T>) (x: Matrix<'T>) =
        let chunk = chunkFor network
        [ for start in 0 .. chunk .. x.cols - 1 -> start, Math.Min(chunk, x.cols - start) ]

    /// The mean cost over the whole set, (1/n) Σₓ Cₓ.
    let loss (loss: Loss) (network: Network<'T>) (x: Matrix<'T>) (y: Matrix<'T>) : float =
        Network.checkInputs network x
        Network.checkTargets network loss x y
        if x.cols = 0 then invalidArg "x" "The data set is empty."
        let total =
            chunks network x
            |> List.sumBy (fun (start, count) ->
                let c = Forward.cost Mode.Inference loss network (Matrix.sliceColumns start count x) (Matrix.sliceColumns start count y)
                Real.toFloat c * float count)
        total / float x.cols

    /// The class of each column: the index of its largest entry, or for a single row, 1 when
    /// the entry is at least ½ and 0 otherwise.
    let classes (m: Matrix<'T>) : int[] =
        let half: 'T = Real.ofFloat 0.5
        Array.init m.cols (fun j ->
            if m.rows = 1 then (if 'T.op_GreaterThanOrEqual (m.values.[j], half) then 1 else 0)
            else
                let mutable best = 0
                for i in 1 .. m.rows - 1 do
                    if 'T.op_GreaterThan (m.values.[j * m.rows + i], m.values.[j * m.rows + best]) then best <- i
                best)

    /// The network's predicted class for each example.
    let predict (network: Network<'T>) (x: Matrix<'T>) : int[] =
        chunks network x |> List.map (fun (start, count) -> classes (Forward.run network (Matrix.sliceColumns start count x))) |> Array.concat

    /// counts.[actual, predicted]: how often each class was taken for each other.
    let confusionMatrix (network: Network<'T>) (x: Matrix<'T>) (y: Matrix<'T>) : int[,] =
        if y.cols <> x.cols then invalidArg "y" $"The inputs hold {x.cols} examples but the targets hold {y.cols}."
        if y.rows <> network.OutputWidth then invalidArg "y" $"The network has {network.OutputWidth} outputs but the targets have {y.rows} rows."
        let classCount = if network.OutputWidth = 1 then 2 else network.OutputWidth
        let counts = Array2D.zeroCreate classCount classCount
        Array.iter2 (fun p a -> counts.[a, p] <- counts.[a, p] + 1) (predict network x) (classes y)
        counts

    /// The fraction of examples on the diagonal of counts.[actual, predicted] (a confusion
    /// matrix): those whose predicted class is the target's class.
    let accuracyOf (counts: int[,]) : float =
        if isNull counts then nullArg "counts"
        let mutable correct, total = 0, 0
        for a in 0 .. Array2D.length1 counts - 1 do
            for p in 0 .. Array2D.length2 counts - 1 do
                total <- total + counts.[a, p]
                if a = p then correct <- correct + counts.[a, p]
        if total = 0 then invalidArg "counts" "The confusion matrix counts no example."
        float correct / float total

    /// The fraction of examples whose predicted class is the target's class.
    let accuracy (network: Network<'T>) (x: Matrix<'T>) (y: Matrix<'T>) : float =
        if x.cols = 0 then invalidArg "x" "The data set is empty."
        accuracyOf (confusionMatrix network x y)
