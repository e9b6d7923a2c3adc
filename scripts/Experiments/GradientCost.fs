namespace FunctionalBackprop.Experiments

open System
open System.IO
open FunctionalBackprop.Core

/// The sizes of a gradient-cost run.
type GradientCostSettings =
    { /// The widths w of the networks w-w-…-w-outputs, smallest first.
      Widths: int list
      /// Hidden layers of w sigmoid units.
      HiddenLayers: int
      /// Sigmoid output units.
      Outputs: int
      /// Examples in the batch whose cost is differentiated.
      BatchSize: int
      /// The step h of the forward differences.
      Step: float
      /// How long each repeated timing runs (see Timing.perCall).
      Window: TimeSpan
      /// How long the passes run before any measurement, so that the JIT has compiled them fully.
      WarmUp: TimeSpan
      /// Seeds the weights.
      Seed: uint64 }

/// The cost of one gradient of one network, three ways.
type GradientCostRow =
    { /// The network's width w.
      Width: int
      /// P, its weights and biases.
      Parameters: int
      /// The time of one forward pass giving the batch's cost.
      Forward: TimeSpan
      /// The time of one gradient by backprop (a forward and a backward pass).
      Backprop: TimeSpan
      /// The time of one gradient by forward differences.
      Differences: TimeSpan
      /// Forward passes inside one backprop gradient, counted (forward-shaped products per layer).
      BackpropForwardPasses: int
      /// The floating-point operations of backprop's products over those of one forward pass.
      BackpropFlopRatio: float
      /// Forward passes inside one forward-difference gradient, counted: P + 1.
      DifferenceForwardPasses: int
      /// Bytes allocated by one forward pass.
      ForwardAllocated: int64
      /// Bytes allocated by one backprop gradient (it returns fresh arrays for all P entries).
      BackpropAllocated: int64
      /// ‖g_differences − g_backprop‖ / ‖g_backprop‖.
      RelativeDifference: float }

/// What a gradient-cost run found.
type GradientCostResult =
    { /// The sizes it ran with.
      Settings: GradientCostSettings
      /// The GEMM provider the products went through.
      Provider: string
      /// One row per width.
      Rows: GradientCostRow list }

/// Nielsen's argument for backprop (chapter 2, after eq. 46): forward differences
/// ∂C/∂wⱼ ≈ (C(w + h eⱼ) − C(w))/h need one forward pass per parameter, a million passes for a
/// million weights, while backprop gets every ∂C/∂wⱼ from one forward and one backward pass,
/// about the cost of two forward passes. Here both are timed on growing networks, and the
/// passes and the products' operations are counted at the GEMM seam.
module GradientCost =

    /// The scripts' full run: w = 8 … 100 with two hidden layers, a batch of 10.
    ///
    /// The widths stop at 100 so that a weight matrix stays under 85,000 bytes: Backprop.gradient
    /// allocates a fresh gradient, and larger arrays go on the large-object heap, whose
    /// collections then dominate the backprop time at these batch sizes.
    let full: GradientCostSettings =
        { Widths = [ 8; 16; 32; 64; 100 ]
          HiddenLayers = 2
          Outputs = 10
          BatchSize = 10
          Step = 1e-6
          Window = TimeSpan.FromMilliseconds 40.0
          WarmUp = TimeSpan.FromSeconds 3.0
          Seed = 1UL }

    /// A run of a few seconds.
    let quick: GradientCostSettings = { full with Widths = [ 8; 32 ]; Window = TimeSpan.FromMilliseconds 5.0; WarmUp = TimeSpan.FromMilliseconds 200.0 }

    /// The w-w-…-w-outputs sigmoid network.
    let network (settings: GradientCostSettings) (width: int) : Network<float> =
        let layer units = LayerSpec.Dense(units, Activation.Sigmoid, Some(Initializer.XavierNormal))
        Network.init settings.Seed (Shape.Vector width) (List.replicate settings.HiddenLayers (layer width) @ [ layer settings.Outputs ])

    /// A batch of inputs in [0, 1] and one-hot targets.
    let batch (settings: GradientCostSettings) (width: int) : Matrix<float> * Matrix<float> =
        Matrix.init width settings.BatchSize (fun i j -> 0.5 + 0.5 * sin (float (7 * i + 13 * j + 1))),
        Matrix.init settings.Outputs settings.BatchSize (fun i j -> if i = j % settings.Outputs then 1.0 else 0.0)

    let private measure (settings: GradientCostSettings) (width: int) : GradientCostRow =
        let net = network settings width
        let x, y = batch settings width
        let loss = Loss.Quadratic
        let forward () = Forward.cost Mode.Inference loss net x y
        let backprop () = Backprop.gradient Mode.Inference loss net x y
        let differences () = NumericalGradient.forwardDifference Mode.Inference loss net x y settings.Step
        let allocated (f: unit -> 'R) =
            let before = GC.GetAllocatedBytesForCurrentThread()
            f () |> ignore
            GC.GetAllocatedBytesForCurrentThread() - before
        let _, forwardCount = GemmCount.measure forward
        let g, backpropCount = GemmCount.measure backprop
        let numeric, differencesCount = GemmCount.measure differences
        { Width = width
          Parameters = net.ParameterCount
          Forward = Timing.perCall settings.Window forward
          Backprop = Timing.perCall settings.Window backprop
          Differences = Timing.perCall settings.Window differences
          BackpropForwardPasses = backpropCount.Untransposed / net.Depth
          BackpropFlopRatio = backpropCount.Flops / forwardCount.Flops
          DifferenceForwardPasses = differencesCount.Untransposed / net.Depth
          ForwardAllocated = allocated forward
          BackpropAllocated = allocated backprop
          RelativeDifference = Gradients.norm (Gradients.subtract numeric g) / Gradients.norm g }

    /// Times and counts the three ways for each width, one after the other.
    let run (settings: GradientCostSettings) : GradientCostResult =
        // The passes of every width, and differences on the smallest, in turn until the warm-up
        // is over: the JIT's optimizing tier takes a few seconds of use to replace its first
        // compilation, and times taken before that are several times too long.
        let clock = Diagnostics.Stopwatch.StartNew()
        let smallest = List.min settings.Widths
        while clock.Elapsed < settings.WarmUp do
            for w in settings.Widths do
                let net = network settings w
                let x, y = batch settings w
                for _ in 1 .. 20 do
                    Forward.cost Mode.Inference Loss.Quadratic net x y |> ignore
                    Backprop.gradient Mode.Inference Loss.Quadratic net x y |> ignore
                if w = smallest then NumericalGradient.forwardDifference Mode.Inference Loss.Quadratic net x y settings.Step |> ignore
        { Settings = settings; Provider = (Gemm.provider ()).Name; Rows = settings.Widths |> List.map (measure settings) }

    let private microseconds (t: TimeSpan) = t.TotalMicroseconds

    /// The times, their ratios and the counts as a table.
    let table (result: GradientCostResult) : string =
        let s = result.Settings
        let header = [ "w"; "P"; "forward µs"; "backprop µs"; "bp/fwd"; "bp flops/fwd"; "fwd, bp KB"; "differences ms"; "passes"; "diff/bp"; "‖Δg‖/‖g‖" ]
        let row (r: GradientCostRow) =
            [ string r.Width
              string r.Parameters
              TextTable.number (microseconds r.Forward)
              TextTable.number (microseconds r.Backprop)
              sprintf "%.2f" (r.Backprop / r.Forward)
              sprintf "%.2f" r.BackpropFlopRatio
              sprintf "%.0f, %.0f" (float r.ForwardAllocated / 1024.0) (float r.BackpropAllocated / 1024.0)
              TextTable.number r.Differences.TotalMilliseconds
              string r.DifferenceForwardPasses
              sprintf "%.0f" (r.Differences / r.Backprop)
              TextTable.number r.RelativeDifference ]
        $"Gradient of the quadratic cost of a batch of {s.BatchSize} for w-…-{s.Outputs} sigmoid networks with {s.HiddenLayers} hidden layers of w units "
        + $"(products through {result.Provider}); backprop against forward differences (h = {s.Step})\n"
        + TextTable.render header (List.map row result.Rows)
        + "\nbp/fwd: backprop's time in forward passes (the texts: about two); bp flops/fwd: the same counted in the products' operations; "
        + "fwd, bp KB: memory allocated by one forward pass and one backprop gradient; "
        + "passes: forward passes counted inside one gradient by differences (P + 1); diff/bp: how many backprop gradients one difference gradient costs"

    /// Writes the time of one gradient against P (log–log) for both methods, with a forward pass
    /// for scale, into the folder. Returns the file written.
    let plot (folder: string) (result: GradientCostResult) : string list =
        let path = Path.Combine(folder, "gradient-cost.png")
        let p = result.Rows |> List.map (fun r -> float r.Parameters) |> Array.ofList
        let times (f: GradientCostRow -> TimeSpan) = result.Rows |> List.map (fun r -> microseconds (f r)) |> Array.ofList
        Plot.save path
            { Title = "One gradient: backprop against forward differences"
              XLabel = "parameters P"
              YLabel = "time (µs)"
              XScale = AxisScale.Logarithmic
              YScale = AxisScale.Logarithmic
              Series =
                [ { Label = "forward differences (P + 1 forward passes)"; X = p; Y = times (fun r -> r.Differences); Style = SeriesStyle.Measured }
                  { Label = "backprop (forward + backward pass)"; X = p; Y = times (fun r -> r.Backprop); Style = SeriesStyle.Measured }
                  { Label = "one forward pass"; X = p; Y = times (fun r -> r.Forward); Style = SeriesStyle.Measured } ] }
        [ path ]
