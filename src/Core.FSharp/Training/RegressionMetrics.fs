namespace FunctionalBackprop.Core

open System
open System.Numerics

/// How far predictions ŷ are from the targets y, output by output (row by row), in the targets'
/// own units: scikit-learn's r2_score, root_mean_squared_error and mean_absolute_error with
/// multioutput='raw_values'. Every sum is taken in float64.
type RegressionMetrics =
    { /// Rᵢ² = 1 − Σⱼ (ŷᵢⱼ − yᵢⱼ)² / Σⱼ (yᵢⱼ − ȳᵢ)² for each output i: 1 for perfect predictions,
      /// 0 for always predicting the targets' mean, negative for worse. When the targets of an
      /// output are all equal (the denominator is 0) it is 1 for perfect predictions and 0
      /// otherwise, as scikit-learn's default gives.
      RSquared: float list
      /// RMSEᵢ = √((1/n) Σⱼ (ŷᵢⱼ − yᵢⱼ)²) for each output i.
      RootMeanSquaredError: float list
      /// MAEᵢ = (1/n) Σⱼ |ŷᵢⱼ − yᵢⱼ| for each output i.
      MeanAbsoluteError: float list
      /// n, the number of examples.
      Count: int }

    /// The average of Rᵢ² over the outputs (scikit-learn's multioutput='uniform_average').
    member m.AverageRSquared = List.average m.RSquared

    /// The average of RMSEᵢ over the outputs.
    member m.AverageRootMeanSquaredError = List.average m.RootMeanSquaredError

    /// The average of MAEᵢ over the outputs.
    member m.AverageMeanAbsoluteError = List.average m.MeanAbsoluteError

/// Measuring predictions against targets, and a regression network on a data set.
module RegressionMetrics =

    /// Per output i, Σⱼ (ŷᵢⱼ − yᵢⱼ)² added into squared and Σⱼ |ŷᵢⱼ − yᵢⱼ| into absolute.
    let private addResiduals (predictions: Matrix<'T>) (targets: Matrix<'T>) (squared: float[]) (absolute: float[]) : unit =
        for k in 0 .. targets.values.Length - 1 do
            let i = k % targets.rows
            // eᵢⱼ = ŷᵢⱼ − yᵢⱼ
            let e = Real.toFloat predictions.values.[k] - Real.toFloat targets.values.[k]
            squared.[i] <- squared.[i] + e * e
            absolute.[i] <- absolute.[i] + Math.Abs e

    /// Per output i, Σⱼ (yᵢⱼ − ȳᵢ)², the spread of the targets that R² compares the residuals with
    /// (two passes: the mean first, so that no digits cancel).
    let private totalSquares (targets: Matrix<'T>) : float[] =
        let n = float targets.cols
        Array.init targets.rows (fun i ->
            let row = Array.init targets.cols (fun j -> Real.toFloat targets.values.[i + j * targets.rows])
            // ȳᵢ = (1/n) Σⱼ yᵢⱼ
            let mean = Array.sum row / n
            Array.sumBy (fun y -> (y - mean) * (y - mean)) row)

    /// The metrics from the sums over n examples.
    let private ofSums (n: int) (squared: float[]) (absolute: float[]) (total: float[]) : RegressionMetrics =
        let rSquared residual spread =
            // R² = 1 − SS_res/SS_tot
            if spread > 0.0 then 1.0 - residual / spread
            elif residual = 0.0 then 1.0
            else 0.0
        { RSquared = List.ofArray (Array.map2 rSquared squared total)
          // RMSE = √(SS_res/n)
          RootMeanSquaredError = squared |> Array.map (fun s -> Math.Sqrt(s / float n)) |> List.ofArray
          // MAE = Σ|e|/n
          MeanAbsoluteError = absolute |> Array.map (fun a -> a / float n) |> List.ofArray
          Count = n }

    let private checkShapes (predictions: Matrix<'T>) (targets: Matrix<'T>) =
        if isNull (box targets) then nullArg "targets"
        Matrix.checkSameShape "predictions and targets" predictions targets
        if targets.cols = 0 then invalidArg "targets" "There are no examples: the metrics of zero examples are undefined."

    /// The metrics of the predictions ŷ for the targets y (one example per column, one output per
    /// row, both in the targets' units). Throws ArgumentException unless both have the same shape
    /// and at least one example.
    let ofPredictions (predictions: Matrix<'T>) (targets: Matrix<'T>) : RegressionMetrics =
        if isNull (box predictions) then nullArg "predictions"
        checkShapes predictions targets
        let squared, absolute = Array.zeroCreate targets.rows, Array.zeroCreate targets.rows
        addResiduals predictions targets squared absolute
        ofSums targets.cols squared absolute (totalSquares targets)

    /// The metrics of the network's predictions on the inputs x for the targets y, both raw: each
    /// output goes back through the target scaler's inverse when there is one (ŷ = a·scale +
    /// offset), so the metrics are in the targets' units. Evaluated in chunks of examples, as
    /// Evaluation.loss is, so memory stays bounded.
    let measure (targetScaler: Scaler option) (network: Network<'T>) (x: Matrix<'T>) (y: Matrix<'T>) : RegressionMetrics =
        Network.checkInputs network x
        Network.checkTargets network Loss.Quadratic x y
        if x.cols = 0 then invalidArg "x" "The data set is empty."
        let squared, absolute = Array.zeroCreate y.rows, Array.zeroCreate y.rows
        for start, count in Evaluation.chunks network x do
            let a = Forward.run network (Matrix.sliceColumns start count x)
            let predictions = match targetScaler with Some s -> Scaler.inverse s a | None -> a
            addResiduals predictions (Matrix.sliceColumns start count y) squared absolute
        ofSums x.cols squared absolute (totalSquares y)
