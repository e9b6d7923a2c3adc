namespace FunctionalBackprop.Experiments

open System
open ScottPlot

/// How a line is drawn.
[<RequireQualifiedAccess>]
type SeriesStyle =
    /// A solid line in the next colour of the palette.
    | Measured
    /// A dashed black line on top of the others: the exact curve the others approach.
    | Reference

/// One line of a chart: a name for the legend and its points.
type Series =
    { /// The legend's text.
      Label: string
      /// The horizontal coordinates.
      X: float[]
      /// The vertical coordinates, one per X.
      Y: float[]
      /// How the line is drawn.
      Style: SeriesStyle }

/// How an axis maps values to distance.
[<RequireQualifiedAccess>]
type AxisScale =
    /// Equal steps for equal differences.
    | Linear
    /// Equal steps for equal ratios (decades); values that are not positive are left out.
    | Logarithmic

/// A line chart: what Plot.save draws.
type Chart =
    { /// The title above the chart.
      Title: string
      /// The horizontal axis's label.
      XLabel: string
      /// The vertical axis's label.
      YLabel: string
      /// The horizontal axis's scale.
      XScale: AxisScale
      /// The vertical axis's scale.
      YScale: AxisScale
      /// The lines, in the legend's order.
      Series: Series list }

/// Thin helpers over ScottPlot that write charts as PNG files.
module Plot =

    /// 10ᵉ as a tick label: "0.01", "1000", "1e-5", "1e6".
    let private decade (e: float) = if abs e < 4.0 then sprintf "%g" (10.0 ** e) else $"1e{int (round e)}"

    /// Logarithmic axes are drawn as log₁₀ of the values on a linear axis, with ticks labelled
    /// by the values themselves and minor ticks at 2…9 of each decade.
    let private logarithmicTicks () =
        TickGenerators.NumericAutomatic(
            LabelFormatter = Func<float, string>(decade),
            IntegerTicksOnly = true,
            MinorTickGenerator = TickGenerators.LogMinorTickGenerator())

    let private transform (scale: AxisScale) (v: float) =
        match scale with
        | AxisScale.Linear -> v
        | AxisScale.Logarithmic -> if v > 0.0 then log10 v else nan

    /// Draws the chart and saves it as a PNG of the given size in pixels.
    let saveSized (width: int) (height: int) (path: string) (chart: Chart) : unit =
        use plot = new Plot()
        // Reference curves last, so that they are drawn over the measured ones.
        for s in List.sortBy (fun s -> s.Style = SeriesStyle.Reference) chart.Series do
            let points =
                Array.zip (Array.map (transform chart.XScale) s.X) (Array.map (transform chart.YScale) s.Y)
                |> Array.filter (fun (x, y) -> Double.IsFinite x && Double.IsFinite y)
            let line = plot.Add.Scatter(Array.map fst points, Array.map snd points)
            line.LegendText <- s.Label
            line.LineWidth <- 2.0f
            // Markers where there are few points to see, none on dense curves.
            line.MarkerSize <- if points.Length <= 30 then 6.0f else 0.0f
            if s.Style = SeriesStyle.Reference then
                line.Color <- Colors.Black
                line.LinePattern <- LinePattern.Dashed
        if chart.XScale = AxisScale.Logarithmic then plot.Axes.Bottom.TickGenerator <- logarithmicTicks ()
        if chart.YScale = AxisScale.Logarithmic then plot.Axes.Left.TickGenerator <- logarithmicTicks ()
        plot.Title chart.Title
        plot.XLabel chart.XLabel
        plot.YLabel chart.YLabel
        // Beside the data, where it hides none of it.
        plot.ShowLegend(Edge.Right) |> ignore
        plot.SavePng(path, width, height) |> ignore

    /// Draws the chart and saves it as a 1100×550 PNG.
    let save (path: string) (chart: Chart) : unit = saveSized 1100 550 path chart
