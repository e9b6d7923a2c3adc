namespace FunctionalBackprop.Core

open System
open System.Numerics

/// Average pooling: each output is the mean of its window, channel by channel, the zero padding
/// counted in the divisor (kₕ·k_w always: PyTorch's default, count_include_pad, and ONNX's
/// count_include_pad = 1). Immutable.
type AvgPool2D =
    internal { kernel: Window; stride: Window; padding: Window }

    /// The window.
    member p.Kernel = p.kernel

    /// The step between windows.
    member p.Stride = p.stride

    /// The zero rows and columns added on each side.
    member p.Padding = p.padding

    /// "avgpool 2×2 stride 2×2".
    override p.ToString() =
        let padding = if p.padding = Window.none then "" else $" padding {p.padding}"
        $"avgpool {p.kernel} stride {p.stride}{padding}"

/// The average-pooling kind.
module AvgPool2D =

    /// The layer, after Windows.settingsProblem's checks (throws ArgumentException with its reason).
    let create (kernel: Window) (stride: Window) (padding: Window) : AvgPool2D =
        match Windows.settingsProblem "average pooling" true kernel stride padding with
        | Some why -> invalidArg "kernel" why
        | None -> { kernel = kernel; stride = stride; padding = padding }

    /// Shape rule: C × H × W gives C × Hₒ × Wₒ.
    let outputShape (kernel: Window) (stride: Window) (padding: Window) (input: Shape) : Shape =
        let struct (c, h, w) = Windows.dimensions input
        let struct (ho, wo) = Windows.outputSize kernel stride padding h w
        Shape.Image(c, ho, wo)

    /// Folds f over the place (within the example) of every input of output (ch, oy, ox)'s window
    /// that lies in the image, in row-major order.
    let inline private fold (p: AvgPool2D) (h: int) (w: int) (ch: int) (oy: int) (ox: int) ([<InlineIfLambda>] f: 'S -> int -> 'S) (init: 'S) : 'S =
        let mutable acc = init
        for ky in 0 .. p.kernel.Height - 1 do
            let y = oy * p.stride.Height - p.padding.Height + ky
            if y >= 0 && y < h then
                for kx in 0 .. p.kernel.Width - 1 do
                    let x = ox * p.stride.Width - p.padding.Width + kx
                    if x >= 0 && x < w then acc <- f acc ((ch * h + y) * w + x)
        acc

    /// z = (Σ window)/(kₕ·k_w).
    [<HotPath>]
    let internal forwardInto (p: AvgPool2D) (input: Shape) (a: Matrix<'T>) (z: Matrix<'T>) : unit =
        let struct (c, h, w) = Windows.dimensions input
        let struct (ho, wo) = Windows.outputSize p.kernel p.stride p.padding h w
        let count: 'T = Real.ofInt (p.kernel.Height * p.kernel.Width)
        for j in 0 .. a.cols - 1 do
            let first, out = j * a.rows, j * z.rows
            for ch in 0 .. c - 1 do
                for oy in 0 .. ho - 1 do
                    for ox in 0 .. wo - 1 do
                        // z = (Σ window)/(kₕ·k_w)
                        let total = fold p h w ch oy ox (fun (acc: 'T) k -> acc + a.values.[first + k]) 'T.Zero
                        z.values.[out + (ch * ho + oy) * wo + ox] <- total / count

    /// ∂C/∂a_in: each output's δ/(kₕ·k_w) added to every input of its window.
    [<HotPath>]
    let internal backwardInto (p: AvgPool2D) (input: Shape) (delta: Matrix<'T>) (inputGradient: Matrix<'T> voption) : unit =
        match inputGradient with
        | ValueNone -> ()
        | ValueSome below ->
            let struct (c, h, w) = Windows.dimensions input
            let struct (ho, wo) = Windows.outputSize p.kernel p.stride p.padding h w
            let count: 'T = Real.ofInt (p.kernel.Height * p.kernel.Width)
            Array.Clear below.values
            for j in 0 .. delta.cols - 1 do
                let first, out = j * below.rows, j * delta.rows
                for ch in 0 .. c - 1 do
                    for oy in 0 .. ho - 1 do
                        for ox in 0 .. wo - 1 do
                            let share = delta.values.[out + (ch * ho + oy) * wo + ox] / count
                            fold p h w ch oy ox (fun () k -> below.values.[first + k] <- below.values.[first + k] + share) ()

    /// The mean of each window for each example, one scalar at a time.
    let scalarForward (s: ScalarArithmetic<'S>) (p: AvgPool2D) (input: Shape) (examples: 'S[][]) : 'S[][] =
        let struct (c, h, w) = Windows.dimensions input
        let struct (ho, wo) = Windows.outputSize p.kernel p.stride p.padding h w
        let count = s.Lift(float (p.kernel.Height * p.kernel.Width))
        examples |> Array.map (fun a ->
            [| for ch in 0 .. c - 1 do
                   for oy in 0 .. ho - 1 do
                       for ox in 0 .. wo - 1 ->
                           let terms = fold p h w ch oy ox (fun (acc: 'S list) k -> a.[k] :: acc) [] |> List.rev |> Array.ofList
                           s.Divide(s.Sum terms, count) |])
