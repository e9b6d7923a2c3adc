namespace FunctionalBackprop.Experiments

open System
open System.IO
open FunctionalBackprop.Core

/// The sizes of a universal-approximation run.
type ApproximationSettings =
    { /// The functions to fit.
      Targets: TargetFunction list
      /// The hidden layer's widths N to try.
      HiddenUnits: int list
      /// Training examples (midpoints of equal cells of [0, 1]).
      TrainingPoints: int
      /// Points of [0, 1], ends included, on which the error is measured.
      TestPoints: int
      /// Levenberg–Marquardt steps per fit.
      Iterations: int
      /// Fits from different initial weights; the one with the lowest training cost is kept.
      Restarts: int
      /// Seeds the initial weights (restart r uses Seed + r).
      Seed: uint64 }

/// One fitted network: how far G(x) = Σᵢ αᵢ σ(wᵢx + βᵢ) + b stays from the target.
type ApproximationFit =
    { /// The function fitted.
      Target: TargetFunction
      /// N, the hidden units.
      Units: int
      /// The mean quadratic cost on the training points.
      TrainingCost: float
      /// √(mean (G − f)²) over the test points.
      RmsError: float
      /// max |G − f| over the test points.
      MaxError: float
      /// G at each test point.
      Fitted: float[] }

/// What a universal-approximation run found.
type ApproximationResult =
    { /// The sizes it ran with.
      Settings: ApproximationSettings
      /// The test points.
      TestX: float[]
      /// One fit per target and N, target by target, N ascending.
      Fits: ApproximationFit list }

/// The lecture's universal approximation theorem (Cybenko, 1989) seen in numbers: one hidden
/// layer of N sigmoid units and a linear output, G(x) = Σᵢ₌₁ᴺ αᵢ σ(wᵢx + βᵢ) + b, fitted to a
/// function on [0, 1] by Levenberg–Marquardt; the error against N. The theorem promises that
/// for continuous f the largest error falls below any ε for N large enough; it says nothing for
/// the step, where the largest error stays near ½ beside the jump.
module UniversalApproximation =

    /// The scripts' full run: sin, |x − ½| and the step; N = 1 … 32; 200 training points.
    let full: ApproximationSettings =
        { Targets = [ TargetFunction.Sine; TargetFunction.AbsoluteValue; TargetFunction.Step ]
          HiddenUnits = [ 1; 2; 4; 8; 16; 32 ]
          TrainingPoints = 200
          TestPoints = 1001
          Iterations = 200
          Restarts = 3
          Seed = 1UL }

    /// A run of a few seconds.
    let quick: ApproximationSettings =
        { full with HiddenUnits = [ 1; 4; 16 ]; TrainingPoints = 60; TestPoints = 301; Iterations = 60; Restarts = 2 }

    /// The 1-N-1 network: sigmoid hidden units with N(0, 1) weights and biases, so that their
    /// steps start spread over the inputs, and a linear output unit.
    let network (seed: uint64) (units: int) : Network<float> =
        Network.init seed (Shape.Vector 1)
            [ LayerSpec.Dense(units, Activation.Sigmoid, Some(Initializer.StandardNormal))
              LayerSpec.Dense(1, Activation.Identity, Some(Initializer.XavierNormal)) ]

    let private fit (settings: ApproximationSettings) (testX: float[]) (target: TargetFunction, units: int) : ApproximationFit =
        let x, y = TargetFunction.sample target settings.TrainingPoints
        let best =
            [ for r in 0 .. settings.Restarts - 1 ->
                  (LevenbergMarquardt.fit { LevenbergMarquardt.defaults with MaxIterations = settings.Iterations } (network (settings.Seed + uint64 r) units) x y).Network ]
            |> List.minBy (fun n -> Forward.cost Mode.Inference Loss.Quadratic n x y)
        let fitted = (Forward.run best (TargetFunction.batch testX)).ToArray()
        let errors = Array.map2 (fun g x -> g - TargetFunction.evaluate target x) fitted testX
        { Target = target
          Units = units
          TrainingCost = Forward.cost Mode.Inference Loss.Quadratic best x y
          RmsError = sqrt (Array.averageBy (fun e -> e * e) errors)
          MaxError = Array.max (Array.map abs errors)
          Fitted = fitted }

    /// Fits every target with every N (the fits run in parallel; each is a pure function of the
    /// settings, so the result does not depend on the order).
    let run (settings: ApproximationSettings) : ApproximationResult =
        if settings.TestPoints < 2 then invalidArg "settings" "At least two test points are needed."
        let testX = TargetFunction.grid settings.TestPoints
        let fits =
            [| for t in settings.Targets do
                   for n in settings.HiddenUnits -> t, n |]
            |> Array.Parallel.map (fit settings testX)
        { Settings = settings; TestX = testX; Fits = List.ofArray fits }

    /// The fits of one target, N ascending.
    let fitsOf (target: TargetFunction) (result: ApproximationResult) : ApproximationFit list =
        result.Fits |> List.filter (fun f -> f.Target = target) |> List.sortBy (fun f -> f.Units)

    /// The errors as a table: one row per N, RMS and largest error for each target.
    let table (result: ApproximationResult) : string =
        let s = result.Settings
        let header = "N" :: [ for t in s.Targets do yield! [ $"{TargetFunction.formula t}: RMS"; "max" ] ]
        let rows =
            [ for n in s.HiddenUnits ->
                  string n
                  :: [ for t in s.Targets do
                           let f = fitsOf t result |> List.find (fun f -> f.Units = n)
                           yield! [ TextTable.number f.RmsError; TextTable.number f.MaxError ] ] ]
        $"One hidden layer of N sigmoid units, fitted by Levenberg–Marquardt ({s.Iterations} steps, best of {s.Restarts} starts) "
        + $"to {s.TrainingPoints} points; errors on {s.TestPoints} points of [0, 1]\n"
        + TextTable.render header rows
        + (if List.contains TargetFunction.Step s.Targets then
               "\nThe step is not continuous, so the theorem does not cover it: every continuous G is ½ or more away from it just beside "
               + "the jump, and the max over the test points falls below ½ only when G's own jump falls between two of them."
           else "")

    /// Writes the error against N (log–log) and, per target, the fits beside the target, into
    /// the folder. Returns the files written.
    let plot (folder: string) (result: ApproximationResult) : string list =
        let targets = result.Settings.Targets
        let errorPath = Path.Combine(folder, "universal-approximation-error.png")
        Plot.save errorPath
            { Title = "Universal approximation: RMS error against hidden units N"
              XLabel = "hidden units N"
              YLabel = "RMS error on [0, 1]"
              XScale = AxisScale.Logarithmic
              YScale = AxisScale.Logarithmic
              Series =
                [ for t in targets ->
                      let fits = fitsOf t result
                      { Label = TargetFunction.formula t
                        X = fits |> List.map (fun f -> float f.Units) |> Array.ofList
                        Y = fits |> List.map (fun f -> f.RmsError) |> Array.ofList
                        Style = SeriesStyle.Measured } ] }
        let fitPaths =
            [ for t in targets ->
                  let path = Path.Combine(folder, $"universal-approximation-{TargetFunction.name t}.png")
                  Plot.save path
                      { Title = $"Fits of {TargetFunction.formula t} by N sigmoid units"
                        XLabel = "x"
                        YLabel = "G(x)"
                        XScale = AxisScale.Linear
                        YScale = AxisScale.Linear
                        Series =
                          { Label = TargetFunction.formula t; X = result.TestX; Y = Array.map (TargetFunction.evaluate t) result.TestX; Style = SeriesStyle.Reference }
                          :: [ for f in fitsOf t result -> { Label = $"N = {f.Units}"; X = result.TestX; Y = f.Fitted; Style = SeriesStyle.Measured } ] }
                  path ]
        errorPath :: fitPaths
