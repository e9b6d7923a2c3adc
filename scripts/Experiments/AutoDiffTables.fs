namespace FunctionalBackprop.Experiments

open System
open System.Globalization
open FunctionalBackprop.Core

/// One of the lecture's examples of automatic differentiation.
type LectureExample =
    { /// How the lecture introduces it.
      Title: string
      /// y = f(x₁, x₂), as the lecture writes it.
      Formula: string
      /// f on tape variables, decomposed into the lecture's lines w₁ … wₘ.
      Function: Var[] -> Var
      /// ∇f by hand, as the lecture derives it.
      Gradient: float[] -> float[] }

/// Where to evaluate the lecture's examples.
type AutoDiffSettings =
    { /// (x₁, x₂).
      Point: float[] }

/// Both modes' tables for one example at the point.
type ExampleTables =
    { /// The example.
      Example: LectureExample
      /// (x₁, x₂).
      Point: float[]
      /// Forward mode: one table per input xⱼ, seeded ẋ = eⱼ; together they give the gradient
      /// in n passes.
      Forward: ForwardTable list
      /// Reverse mode: one table, one backward sweep, the whole gradient.
      Backward: BackwardTable
      /// The lecture's gradient by hand at the point.
      ByHand: float[] }

/// The lecture's two worked examples of automatic differentiation, as tables: forward mode for
/// y = x₁x₂ + sin x₁ and reverse mode for y = e^(x₁x₂) + x₂³, each example in both modes.
module AutoDiffTables =

    /// The forward-mode example: y = x₁x₂ + sin x₁ = w₃ + w₄ = w₅, with ∂y/∂x₁ = x₂ + cos x₁.
    let forwardExample: LectureExample =
        { Title = "The lecture's forward-mode example"
          Formula = "y = x₁x₂ + sin x₁"
          Function = fun x -> x.[0] * x.[1] + sin x.[0]
          Gradient = fun x -> [| x.[1] + cos x.[0]; x.[0] |] }

    /// The reverse-mode example: y = e^(x₁x₂) + x₂³ with w₃ = w₁w₂, w₄ = w₂³, w₅ = e^w₃,
    /// w₆ = w₄ + w₅, and ∇y = (x₂e^(x₁x₂), x₁e^(x₁x₂) + 3x₂²).
    let reverseExample: LectureExample =
        { Title = "The lecture's reverse-mode example"
          Formula = "y = e^(x₁x₂) + x₂³"
          Function =
            fun x ->
                let w3 = x.[0] * x.[1]
                let w4 = x.[1] ** 3.0
                let w5 = exp w3
                w4 + w5
          Gradient =
            fun x ->
                let e = exp (x.[0] * x.[1])
                [| x.[1] * e; x.[0] * e + 3.0 * x.[1] * x.[1] |] }

    /// The point of the scripts' run (the lecture gives none).
    let full: AutoDiffSettings = { Point = [| 0.5; 2.0 |] }

    /// Both examples' tables at the point.
    let run (settings: AutoDiffSettings) : ExampleTables list =
        let x = settings.Point
        [ for example in [ forwardExample; reverseExample ] ->
              { Example = example
                Point = Array.copy x
                Forward = [ for j in 0 .. x.Length - 1 -> Tables.forward example.Function x (Array.init x.Length (fun i -> if i = j then 1.0 else 0.0)) ]
                Backward = Tables.backward example.Function x
                ByHand = example.Gradient x } ]

    /// x₁, x₂, … for input i (from 0).
    let private subscripted (i: int) = "x" + String.map (fun c -> "₀₁₂₃₄₅₆₇₈₉".[int c - int '0']) (string (i + 1))

    /// The tables as the lecture lays them out, with the gradient by hand to compare.
    let render (tables: ExampleTables list) : string =
        let section (t: ExampleTables) =
            let number (v: float) = v.ToString("G6", CultureInfo.InvariantCulture)
            let point = t.Point |> Array.mapi (fun i v -> $"{subscripted i} = {number v}") |> String.concat ", "
            let byHand = t.ByHand |> Array.map number |> String.concat ", "
            [ yield $"{t.Example.Title}: {t.Example.Formula} at {point}"
              for j, table in List.indexed t.Forward do
                  yield ""
                  yield $"Forward mode, pass {j + 1} of {t.Forward.Length} (seeded to differentiate by {subscripted j}):"
                  yield Tables.renderForward table
              yield ""
              yield "Reverse mode, one backward sweep:"
              yield Tables.renderBackward t.Backward
              yield ""
              yield $"By hand: ∇y = ({byHand})" ]
            |> String.concat "\n"
        tables |> List.map section |> String.concat "\n\n"
