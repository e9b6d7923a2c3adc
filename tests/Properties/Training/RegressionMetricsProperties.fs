/// Regression metrics: the identities R², RMSE and MAE keep, whatever the predictions.
module FunctionalBackprop.Properties.RegressionMetricsProperties

open System
open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open FunctionalBackprop.Core

/// Targets and predictions of 1–4 outputs over 2–20 examples, each output's targets not all equal.
type Predicted = { Targets: Matrix<float>; Predictions: Matrix<float> }

type MetricsArbitraries =
    static member Predicted() =
        gen {
            let! outputs = Gen.choose (1, 4)
            let! examples = Gen.choose (2, 20)
            let value = Gen.choose (-100000, 100000) |> Gen.map (fun k -> float k / 100.0)
            let! y = Gen.arrayOfLength (outputs * examples) value
            let! p = Gen.arrayOfLength (outputs * examples) value
            // Every output's first two targets differ, so Σ(y − ȳ)² > 0.
            let y = y |> Array.mapi (fun k v -> if k / outputs = 1 && v = y.[k % outputs] then v + 1.0 else v)
            return { Targets = Matrix.ofColumnMajor outputs examples y; Predictions = Matrix.ofColumnMajor outputs examples p }
        }
        |> Arb.fromGen

[<Properties(Arbitrary = [| typeof<MetricsArbitraries> |], MaxTest = 200)>]
module Properties =

    [<Property>]
    let ``R² of a perfect prediction is 1, with RMSE and MAE 0`` (p: Predicted) =
        let m = RegressionMetrics.ofPredictions p.Targets p.Targets
        List.forall ((=) 1.0) m.RSquared && List.forall ((=) 0.0) m.RootMeanSquaredError && List.forall ((=) 0.0) m.MeanAbsoluteError

    [<Property>]
    let ``R² of always predicting each output's mean is 0`` (p: Predicted) =
        let means = Array.init p.Targets.Rows (fun i -> Matrix.row i p.Targets |> Array.average)
        let m = RegressionMetrics.ofPredictions (Matrix.init p.Targets.Rows p.Targets.Cols (fun i _ -> means.[i])) p.Targets
        m.RSquared |> List.forall (fun r -> Math.Abs r <= 1e-9) |> Prop.label $"R² {m.RSquared}"

    [<Property>]
    let ``RMSE is at least MAE, and R² at most 1`` (p: Predicted) =
        let m = RegressionMetrics.ofPredictions p.Predictions p.Targets
        List.forall2 (fun rmse mae -> rmse >= mae * (1.0 - 1e-12) && mae >= 0.0) m.RootMeanSquaredError m.MeanAbsoluteError
        && List.forall (fun r -> r <= 1.0) m.RSquared

    [<Property>]
    let ``half the sum of the squared RMSEs is the quadratic loss`` (p: Predicted) =
        // C = (1/n) Σₓ ½‖a − y‖² = ½ Σᵢ RMSEᵢ².
        let m = RegressionMetrics.ofPredictions p.Predictions p.Targets
        let loss = Loss.ofOutputs Loss.Quadratic p.Predictions p.Targets
        Approx.close 1e-12 1e-12 loss (m.RootMeanSquaredError |> List.sumBy (fun r -> r * r / 2.0)) |> Prop.label $"loss {loss:R}, ½ΣRMSE² from {m.RootMeanSquaredError}"
