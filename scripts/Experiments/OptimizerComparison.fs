namespace FunctionalBackprop.Experiments

open System
open System.IO
open FunctionalBackprop.Core

/// The methods compared.
[<RequireQualifiedAccess>]
type OptimizerKind =
    /// Plain gradient descent, w ← w − η∇C.
    | Sgd
    /// The lecture's momentum, P ← (1 − μ)P + μ∇C, w ← w − ηP, with μ = 0.1.
    | Momentum
    /// AdaGrad.
    | AdaGrad
    /// RMSProp with α = 0.9.
    | RmsProp
    /// Adam with β₁ = 0.9, β₂ = 0.999.
    | Adam
    /// Levenberg–Marquardt: one step per epoch, on the whole training set.
    | LevenbergMarquardt

/// The sizes of an optimizer comparison.
type OptimizerSettings =
    { /// The function the network learns on [0, 1].
      Target: TargetFunction
      /// Training examples.
      Points: int
      /// Width of the one hidden (sigmoid) layer.
      HiddenUnits: int
      /// Epochs (for Levenberg–Marquardt, steps).
      Epochs: int
      /// Examples per gradient step of the descent methods.
      BatchSize: int
      /// Seeds the initial weights (the same for every method) and the shuffles.
      Seed: uint64
      /// The learning rates tried for each method; the one with the lowest final loss is shown.
      /// Levenberg–Marquardt has none and runs once.
      Rates: (OptimizerKind * float list) list }

/// One training run.
type OptimizerRun =
    { /// The method.
      Kind: OptimizerKind
      /// The learning rate, if the method has one.
      Rate: float option
      /// The mean quadratic cost on the whole training set: before training, then after each
      /// epoch (shorter when the run diverged or converged early).
      Losses: float[]
      /// Whether the loss or a parameter stopped being finite.
      Diverged: bool }

    /// The last loss, or +∞ if the run diverged.
    member r.FinalLoss = if r.Diverged then infinity else Array.last r.Losses

/// What an optimizer comparison found.
type OptimizerComparisonResult =
    { /// The sizes it ran with.
      Settings: OptimizerSettings
      /// The loss of the initial network, the same for every method.
      InitialLoss: float
      /// The best run of each method, in the settings' order.
      Best: OptimizerRun list
      /// Every run, rate by rate.
      Sweep: OptimizerRun list }

/// The lecture's optimizers side by side: the same 1-N-1 sigmoid network from the same initial
/// weights learns the same curve with the quadratic loss, each method at the best of a few
/// learning rates, and the loss on the whole set is recorded after every epoch.
module OptimizerComparison =

    /// The scripts' full run: sin 2πx from 100 points, a 1-10-1 network, 1000 epochs of
    /// mini-batches of 10.
    let full: OptimizerSettings =
        { Target = TargetFunction.Sine
          Points = 100
          HiddenUnits = 10
          Epochs = 1000
          BatchSize = 10
          Seed = 7UL
          Rates =
            [ OptimizerKind.Sgd, [ 0.1; 0.3; 1.0 ]
              OptimizerKind.Momentum, [ 0.3; 1.0; 3.0 ]
              OptimizerKind.AdaGrad, [ 0.1; 0.3; 1.0 ]
              OptimizerKind.RmsProp, [ 0.003; 0.01; 0.03 ]
              OptimizerKind.Adam, [ 0.01; 0.03; 0.1 ]
              OptimizerKind.LevenbergMarquardt, [] ] }

    /// A run of a few seconds: 150 epochs, one or two rates each.
    let quick: OptimizerSettings =
        { full with
            Epochs = 150
            Rates =
              [ OptimizerKind.Sgd, [ 0.3 ]
                OptimizerKind.Momentum, [ 1.0; 3.0 ]
                OptimizerKind.AdaGrad, [ 1.0 ]
                OptimizerKind.RmsProp, [ 0.01; 0.03 ]
                OptimizerKind.Adam, [ 0.03; 0.1 ]
                OptimizerKind.LevenbergMarquardt, [] ] }

    /// The network every method starts from.
    let network (settings: OptimizerSettings) : Network<float> =
        Network.init settings.Seed (Shape.Vector 1)
            [ LayerSpec.Dense(settings.HiddenUnits, Activation.Sigmoid, Some(Initializer.StandardNormal))
              LayerSpec.Dense(1, Activation.Identity, Some(Initializer.XavierNormal)) ]

    let private optimizer (kind: OptimizerKind) (rate: float) : Optimizer<float> =
        let eta = Schedule.Constant rate
        match kind with
        | OptimizerKind.Sgd -> Optimizer.sgd eta
        | OptimizerKind.Momentum -> Optimizer.momentum eta 0.1
        | OptimizerKind.AdaGrad -> Optimizer.adaGrad eta
        | OptimizerKind.RmsProp -> Optimizer.rmsProp eta 0.9
        | OptimizerKind.Adam -> Optimizer.adam eta
        | OptimizerKind.LevenbergMarquardt -> invalidArg "kind" "Levenberg–Marquardt is not a gradient-descent optimizer."

    /// A short label: "sgd η = 0.3", "momentum η = 3, μ = 0.1", "Levenberg–Marquardt".
    let label (run: OptimizerRun) : string =
        let eta = run.Rate |> Option.map (fun r -> $"η = {r}") |> Option.defaultValue ""
        match run.Kind with
        | OptimizerKind.Sgd -> $"sgd {eta}"
        | OptimizerKind.Momentum -> $"momentum {eta}, μ = 0.1"
        | OptimizerKind.AdaGrad -> $"adagrad {eta}"
        | OptimizerKind.RmsProp -> $"rmsprop {eta}, α = 0.9"
        | OptimizerKind.Adam -> $"adam {eta}"
        | OptimizerKind.LevenbergMarquardt -> "Levenberg–Marquardt"

    let private train (settings: OptimizerSettings) (x: Matrix<float>) (y: Matrix<float>) (kind: OptimizerKind, rate: float option) : OptimizerRun =
        let start = network settings
        let losses, diverged =
            match kind, rate with
            | OptimizerKind.LevenbergMarquardt, _ ->
                let fit = LevenbergMarquardt.fit { LevenbergMarquardt.defaults with MaxIterations = settings.Epochs } start x y
                Array.ofList fit.Costs, false
            | _, Some r ->
                let options = { TrainingOptions.create Loss.Quadratic (optimizer kind r) settings.Epochs settings.BatchSize with Validation = Some(x, y); Seed = settings.Seed }
                let initial = Evaluation.loss Loss.Quadratic start x y
                try
                    let result = Training.train options start x y
                    Array.ofList (initial :: (result.History |> List.map (fun h -> h.ValidationLoss.Value))), false
                with :? TrainingDivergedException<float> -> [| initial |], true
            | _, None -> invalidArg "rate" $"{kind} needs a learning rate."
        { Kind = kind; Rate = rate; Losses = losses; Diverged = diverged }

    /// Trains the network with every method and rate of the settings (in parallel: each run is
    /// a pure function of the settings).
    let run (settings: OptimizerSettings) : OptimizerComparisonResult =
        let x, y = TargetFunction.sample settings.Target settings.Points
        let jobs =
            [| for kind, rates in settings.Rates do
                   if kind = OptimizerKind.LevenbergMarquardt then yield kind, None
                   else for r in rates -> kind, Some r |]
        let sweep = jobs |> Array.Parallel.map (train settings x y) |> List.ofArray
        let best =
            settings.Rates
            |> List.map (fun (kind, _) -> sweep |> List.filter (fun r -> r.Kind = kind) |> List.minBy (fun r -> r.FinalLoss))
        { Settings = settings; InitialLoss = Evaluation.loss Loss.Quadratic (network settings) x y; Best = best; Sweep = sweep }

    /// The sweep and the best run of each method as a table.
    let table (result: OptimizerComparisonResult) : string =
        let s = result.Settings
        let lossAfter (epochs: int) (r: OptimizerRun) =
            if r.Diverged then "diverged" else TextTable.number r.Losses.[min epochs (r.Losses.Length - 1)]
        let checkpoints = [ s.Epochs / 10; s.Epochs / 2; s.Epochs ] |> List.distinct
        let header = "method" :: [ for e in checkpoints -> $"loss @ {e}" ]
        let row (r: OptimizerRun) =
            (if List.contains r result.Best then "* " else "  ") + label r
            :: [ for e in checkpoints -> lossAfter e r ]
        $"1-{s.HiddenUnits}-1 sigmoid network learning {TargetFunction.formula s.Target} from {s.Points} points, quadratic loss, "
        + $"mini-batches of {s.BatchSize} (Levenberg–Marquardt: one step on all points per epoch); initial loss {TextTable.number result.InitialLoss}; "
        + "* marks each method's best rate\n"
        + TextTable.render header (List.map row result.Sweep)
        + "\nAn epoch of Levenberg–Marquardt costs more than one of descent: a Jacobian row per example and a P×P solve per step (P = "
        + $"{(network s).ParameterCount} here)."

    /// Writes the loss curves of each method's best run into one plot in the folder. Returns the
    /// file written.
    let plot (folder: string) (result: OptimizerComparisonResult) : string list =
        let path = Path.Combine(folder, "optimizers.png")
        Plot.save path
            { Title = $"Optimizers on {TargetFunction.formula result.Settings.Target}, 1-{result.Settings.HiddenUnits}-1 sigmoid network"
              XLabel = "epoch (Levenberg–Marquardt: step)"
              YLabel = "mean quadratic loss"
              XScale = AxisScale.Linear
              YScale = AxisScale.Logarithmic
              Series = [ for r in result.Best -> { Label = label r; X = Array.init r.Losses.Length float; Y = r.Losses; Style = SeriesStyle.Measured } ] }
        [ path ]
