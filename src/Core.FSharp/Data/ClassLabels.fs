namespace FunctionalBackprop.Core

open System
open System.Numerics

/// Class labels 0 … k − 1 as training targets, one column per example. (Back from outputs or
/// targets to classes is Evaluation.classes: the arg-max, or for one row, ≥ ½.)
module ClassLabels =

    /// Throws ArgumentOutOfRangeException (parameter "labels") naming the first label outside
    /// 0 … classes − 1 as labels[j].
    let check (classes: int) (labels: int[]) : unit =
        if isNull labels then nullArg "labels"
        if classes < 2 then raise (ArgumentOutOfRangeException("classes", classes, $"Classification needs at least 2 classes, got {classes}."))
        match Array.tryFindIndex (fun l -> l < 0 || l >= classes) labels with
        | Some j -> raise (ArgumentOutOfRangeException("labels", labels.[j], $"labels[{j}] is {labels.[j]}, but the classes are 0 … {classes - 1}."))
        | None -> ()

    /// One-hot targets: column j is 1 in row labels[j] and 0 elsewhere (for a softmax output of
    /// `classes` units, or several sigmoid units).
    let oneHot<'T when 'T :> IFloatingPointIeee754<'T>> (classes: int) (labels: int[]) : Matrix<'T> =
        check classes labels
        Matrix.init classes labels.Length (fun i j -> if labels.[j] = i then 'T.One else 'T.Zero)

    /// Targets for one sigmoid output deciding between two classes: column j is the single
    /// entry labels[j], 0 or 1.
    let binary<'T when 'T :> IFloatingPointIeee754<'T>> (labels: int[]) : Matrix<'T> =
        check 2 labels
        Matrix.init 1 labels.Length (fun _ j -> if labels.[j] = 1 then 'T.One else 'T.Zero)

    /// Targets for an output layer of the given width: binary for one output (two classes),
    /// one-hot over `outputWidth` classes otherwise.
    let forOutput<'T when 'T :> IFloatingPointIeee754<'T>> (outputWidth: int) (labels: int[]) : Matrix<'T> =
        if outputWidth = 1 then binary labels else oneHot outputWidth labels
