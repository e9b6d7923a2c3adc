namespace FunctionalBackprop.Core

open System
open System.Numerics

/// Max pooling: each output is the largest input of its window, channel by channel; padding is
/// −∞ (never chosen). Its gradient goes to the first maximum of the window in row-major order, as
/// PyTorch routes it, so ties are deterministic; the backward step finds that maximum again from
/// the input (the same comparisons), so nothing is kept. Immutable.
type MaxPool2D =
    internal { kernel: Window; stride: Window; padding: Window }

    /// The window.
    member p.Kernel = p.kernel

    /// The step between windows.
    member p.Stride = p.stride

    /// The −∞ rows and columns added on each side.
    member p.Padding = p.padding

    /// "maxpool 2×2 stride 2×2".
    override p.ToString() =
        let padding = if p.padding = Window.none then "" else $" padding {p.padding}"
        $"maxpool {p.kernel} stride {p.stride}{padding}"

/// The max-pooling kind.
module MaxPool2D =

    /// The layer, after Windows.settingsProblem's checks (throws ArgumentException with its reason).
    let create (kernel: Window) (stride: Window) (padding: Window) : MaxPool2D =
        match Windows.settingsProblem "max pooling" true kernel stride padding with
        | Some why -> invalidArg "kernel" why
        | None -> { kernel = kernel; stride = stride; padding = padding }

    /// Shape rule: C × H × W gives C × Hₒ × Wₒ.
    let outputShape (kernel: Window) (stride: Window) (padding: Window) (input: Shape) : Shape =
        let struct (c, h, w) = Windows.dimensions input
        let struct (ho, wo) = Windows.outputSize kernel stride padding h w
        Shape.Image(c, ho, wo)

    /// The place (within the example) of the first largest input of output (ch, oy, ox)'s window:
    /// its part inside the image, scanned row by row, a later input taken only when strictly larger.
    let inline private argmax<'T when 'T :> IFloatingPointIeee754<'T>> (p: MaxPool2D) (a: 'T[]) (first: int) (h: int) (w: int) (ch: int) (oy: int) (ox: int) : int =
        let y0, x0 = oy * p.stride.Height - p.padding.Height, ox * p.stride.Width - p.padding.Width
        let yEnd, xStart, xEnd = Math.Min(h, y0 + p.kernel.Height), Math.Max(0, x0), Math.Min(w, x0 + p.kernel.Width)
        let yStart = Math.Max(0, y0)
        let mutable best = (ch * h + yStart) * w + xStart
        let mutable largest = a.[first + best]
        for y in yStart .. yEnd - 1 do
            let row = (ch * h + y) * w
            for x in xStart .. xEnd - 1 do
                let v = a.[first + row + x]
                if 'T.op_GreaterThan (v, largest) then
                    best <- row + x
                    largest <- v
        best

    /// Runs f on every output's place in the batch (outputs of `rows` values per example) and the
    /// place in the batch of its window's first largest input. Windows of 2 × 2 that tile the image
    /// (stride 2, no padding: LeNet's) compare their four inputs in row-major order directly.
    let inline private eachChoice<'T when 'T :> IFloatingPointIeee754<'T>> (p: MaxPool2D) (input: Shape) (a: Matrix<'T>) (rows: int) ([<InlineIfLambda>] f: int -> int -> unit) : unit =
        let struct (c, h, w) = Windows.dimensions input
        let struct (ho, wo) = Windows.outputSize p.kernel p.stride p.padding h w
        let values = a.values
        let tiled2 =
            p.kernel.Height = 2 && p.kernel.Width = 2 && p.stride.Height = 2 && p.stride.Width = 2 && p.padding.Height = 0 && p.padding.Width = 0
        for j in 0 .. a.cols - 1 do
            let first = j * a.rows
            let mutable o = j * rows
            for ch in 0 .. c - 1 do
                for oy in 0 .. ho - 1 do
                    if tiled2 then
                        let top = first + (ch * h + 2 * oy) * w
                        let bottom = top + w
                        for ox in 0 .. wo - 1 do
                            let x = 2 * ox
                            let mutable best = top + x
                            if 'T.op_GreaterThan (values.[top + x + 1], values.[best]) then best <- top + x + 1
                            if 'T.op_GreaterThan (values.[bottom + x], values.[best]) then best <- bottom + x
                            if 'T.op_GreaterThan (values.[bottom + x + 1], values.[best]) then best <- bottom + x + 1
                            f o best
                            o <- o + 1
                    else
                        for ox in 0 .. wo - 1 do
                            f o (first + argmax p values first h w ch oy ox)
                            o <- o + 1

    /// z = the largest input of each window.
    [<HotPath>]
    let internal forwardInto (p: MaxPool2D) (input: Shape) (a: Matrix<'T>) (z: Matrix<'T>) : unit =
        let out, values = z.values, a.values
        eachChoice p input a z.rows (fun o k -> out.[o] <- values.[k])

    /// ∂C/∂a_in: each output's δ added to its window's first maximum (overlapping windows add up).
    [<HotPath>]
    let internal backwardInto (p: MaxPool2D) (input: Shape) (a: Matrix<'T>) (delta: Matrix<'T>) (inputGradient: Matrix<'T> voption) : unit =
        match inputGradient with
        | ValueNone -> ()
        | ValueSome below ->
            let into, d = below.values, delta.values
            Array.Clear into
            eachChoice p input a delta.rows (fun o k -> into.[k] <- into.[k] + d.[o])

    /// For each example, which input each output took: the pattern whose change under a
    /// perturbation is a kink of the cost (a tie broken the other way).
    let internal choices (p: MaxPool2D) (input: Shape) (a: Matrix<'T>) : int[] =
        let struct (c, h, w) = Windows.dimensions input
        let struct (ho, wo) = Windows.outputSize p.kernel p.stride p.padding h w
        [| for j in 0 .. a.cols - 1 do
               for ch in 0 .. c - 1 do
                   for oy in 0 .. ho - 1 do
                       for ox in 0 .. wo - 1 -> argmax p a.values (j * a.rows) h w ch oy ox |]

    /// The largest input of each window for each example, one scalar at a time (the first
    /// maximum by value, whose derivative passes).
    let scalarForward (s: ScalarArithmetic<'S>) (p: MaxPool2D) (input: Shape) (examples: 'S[][]) : 'S[][] =
        let struct (c, h, w) = Windows.dimensions input
        let struct (ho, wo) = Windows.outputSize p.kernel p.stride p.padding h w
        examples |> Array.map (fun a ->
            let values = a |> Array.map s.Value
            [| for ch in 0 .. c - 1 do
                   for oy in 0 .. ho - 1 do
                       for ox in 0 .. wo - 1 -> a.[argmax p values 0 h w ch oy ox] |])
