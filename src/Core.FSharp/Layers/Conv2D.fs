namespace FunctionalBackprop.Core

open System
open System.Numerics

/// A 2-D convolution layer, as PyTorch's Conv2d and ONNX's Conv compute it (a cross-correlation,
/// one group, no dilation): filter o of C × kₕ × k_w weights slides over the zero-padded input
/// with the stride, z[o, y, x] = b[o] + Σ_{c, i, j} w[o, c, i, j]·a[c, y·sₕ − pₕ + i, x·s_w − p_w + j].
/// The weights are stored as a filters × (C·kₕ·k_w) matrix, row o holding filter o with its
/// columns in c, i, j order (PyTorch's [filters, C, kₕ, k_w] read row by row). Immutable.
type Conv2D<'T when 'T :> IFloatingPointIeee754<'T>> =
    internal
        { kernels: Matrix<'T>
          biases: Matrix<'T>
          activation: Activation
          kernel: Window
          stride: Window
          padding: Window }

    /// σ, applied to z.
    member c.Activation = c.activation

    /// w: filters × (C·kₕ·k_w).
    member c.Kernels = c.kernels

    /// b: filters × 1.
    member c.Biases = c.biases

    /// The number of filters (output channels).
    member c.Filters = c.kernels.rows

    /// The input channels C.
    member c.InputChannels = c.kernels.cols / (c.kernel.Height * c.kernel.Width)

    /// kₕ × k_w.
    member c.Kernel = c.kernel

    /// sₕ × s_w.
    member c.Stride = c.stride

    /// The zero rows and columns added on each side, pₕ × p_w.
    member c.Padding = c.padding

    /// "conv 1→6 5×5 stride 1×1 padding 2×2 relu".
    override c.ToString() =
        let padding = if c.padding = Window.none then "" else $" padding {c.padding}"
        $"conv {c.InputChannels}→{c.Filters} {c.kernel} stride {c.stride}{padding} {Activation.name c.activation}"

/// The convolution kind. The forward step lays every window of every example out as a column
/// (im2col) in a buffer kept for the backward step, so that the whole batch is one matrix
/// product with the filters; the backward step is two more products and the columns' sums
/// scattered back (col2im).
module Conv2D =

    /// Why the settings cannot be (filters below 1, or a bad window), if they cannot.
    let settingsProblem (filters: int) (kernel: Window) (stride: Window) (padding: Window) : string option =
        if filters < 1 then Some $"A convolution needs at least one filter, got {filters}."
        else Windows.settingsProblem "convolution" false kernel stride padding

    /// Why inputs of this shape cannot be convolved so, if they cannot.
    let inputProblem (kernel: Window) (padding: Window) (input: Shape) : string option = Windows.inputProblem "convolution" kernel padding input

    /// Shape rule: C × H × W gives filters × Hₒ × Wₒ.
    let outputShape (filters: int) (kernel: Window) (stride: Window) (padding: Window) (input: Shape) : Shape =
        let struct (_, h, w) = Windows.dimensions input
        let struct (ho, wo) = Windows.outputSize kernel stride padding h w
        Shape.Image(filters, ho, wo)

    /// The filters w (filters × C·kₕ·k_w, decayed by L2) and the biases b (filters × 1, not decayed).
    let parameterSpecs (filters: int) (kernel: Window) (input: Shape) : ParameterSpec list =
        let struct (c, _, _) = Windows.dimensions input
        [ { Name = "weight"; Symbol = "w"; Rows = filters; Columns = c * kernel.Height * kernel.Width; Decays = true }
          { Name = "bias"; Symbol = "b"; Rows = filters; Columns = 1; Decays = false } ]

    /// The forward step's buffers, per example: the windows as columns (C·kₕ·k_w × Hₒ·W_ₒ) and
    /// the product before it is reordered (filters × Hₒ·W_ₒ).
    let scratchRows (filters: int) (kernel: Window) (stride: Window) (padding: Window) (input: Shape) : int list =
        let struct (c, h, w) = Windows.dimensions input
        let struct (ho, wo) = Windows.outputSize kernel stride padding h w
        [ c * kernel.Height * kernel.Width * ho * wo; filters * ho * wo ]

    /// A layer from its weights, biases, σ and windows; throws ArgumentException when a setting is out
    /// of range, the weights' columns are not a whole number of kernels, the biases are not one per
    /// filter, or a parameter is not finite.
    let create (activation: Activation) (kernels: Matrix<'T>) (biases: Matrix<'T>) (kernel: Window) (stride: Window) (padding: Window) : Conv2D<'T> =
        if isNull (box kernels) then nullArg "kernels"
        if isNull (box biases) then nullArg "biases"
        match settingsProblem kernels.rows kernel stride padding with
        | Some why -> invalidArg "kernels" why
        | None -> ()
        if kernels.cols = 0 || kernels.cols % (kernel.Height * kernel.Width) <> 0 then
            invalidArg "kernels" $"A {kernel} kernel has C·{kernel.Height * kernel.Width} weights per filter, but the weights are {Matrix.shape kernels}."
        if biases.cols <> 1 || biases.rows <> kernels.rows then
            invalidArg "biases" $"The weights are {Matrix.shape kernels}, so the biases must be {kernels.rows}×1 (one per filter), got {Matrix.shape biases}."
        Activation.validate activation
        Dense.checkFinite "kernels" kernels
        Dense.checkFinite "biases" biases
        { kernels = kernels; biases = biases; activation = activation; kernel = kernel; stride = stride; padding = padding }

    /// A layer of `filters` filters on inputs of the given shape, drawn from the seed for fan-in
    /// C·kₕ·k_w and fan-out filters·kₕ·k_w (as PyTorch counts them).
    let init<'T when 'T :> IFloatingPointIeee754<'T>>
        (seed: uint64) (input: Shape) (filters: int) (kernel: Window) (stride: Window) (padding: Window) (activation: Activation) (initializer: Initializer) : Conv2D<'T> =
        let struct (c, _, _) = Windows.dimensions input
        let area = kernel.Height * kernel.Width
        let fanIn, fanOut = c * area, filters * area
        create activation (Initializer.weightsOf initializer seed fanIn fanOut filters fanIn) (Initializer.biases initializer seed fanIn filters) kernel stride padding

    /// The same layer in another real type (float ↔ float32).
    let convert<'T, 'U when 'T :> IFloatingPointIeee754<'T> and 'U :> IFloatingPointIeee754<'U>> (layer: Conv2D<'T>) : Conv2D<'U> =
        { kernels = Matrix.convert layer.kernels; biases = Matrix.convert layer.biases; activation = layer.activation
          kernel = layer.kernel; stride = layer.stride; padding = layer.padding }

    /// [w; b].
    let parameters (layer: Conv2D<'T>) : Matrix<'T> list = [ layer.kernels; layer.biases ]

    /// The same layer over new parameter arrays of the same shapes (no checks: for the library's
    /// own copies).
    let internal withParameters (tensors: Matrix<'T> list) (layer: Conv2D<'T>) : Conv2D<'T> =
        { layer with kernels = tensors.[0]; biases = tensors.[1] }

    /// Every window of every example of a as a column of cols (C·kₕ·k_w rows, one column per
    /// output position, example after example), zero where the window meets the padding.
    [<HotPath>]
    let private im2col (layer: Conv2D<'T>) (input: Shape) (a: Matrix<'T>) (cols: 'T[]) : unit =
        let struct (c, h, w) = Windows.dimensions input
        let struct (ho, wo) = Windows.outputSize layer.kernel layer.stride layer.padding h w
        let kh, kw = layer.kernel.Height, layer.kernel.Width
        let mutable k = 0
        for j in 0 .. a.cols - 1 do
            let first = j * a.rows
            for oy in 0 .. ho - 1 do
                for ox in 0 .. wo - 1 do
                    for ch in 0 .. c - 1 do
                        for ky in 0 .. kh - 1 do
                            let y = oy * layer.stride.Height - layer.padding.Height + ky
                            for kx in 0 .. kw - 1 do
                                let x = ox * layer.stride.Width - layer.padding.Width + kx
                                cols.[k] <- if y >= 0 && y < h && x >= 0 && x < w then a.values.[first + (ch * h + y) * w + x] else 'T.Zero
                                k <- k + 1

    /// z = w ⋆ a + b: the windows as columns, one product w·cols for the whole batch
    /// (filters × positions·examples), then each example's outputs reordered channel by channel.
    [<HotPath>]
    let internal forwardInto (layer: Conv2D<'T>) (input: Shape) (a: Matrix<'T>) (z: Matrix<'T>) (scratch: Matrix<'T>[]) : unit =
        let cols, y = scratch.[0].values, scratch.[1].values
        im2col layer input a cols
        let filters, rows = layer.kernels.rows, layer.kernels.cols
        let positions = z.rows / filters
        // y = w·cols, one column per position of each example
        Gemm.run false false filters (positions * a.cols) rows 'T.One layer.kernels.values cols 'T.Zero y
        // z[o, p] = y[o, p] + b[o], for each example
        for j in 0 .. a.cols - 1 do
            let block = j * filters * positions
            for o in 0 .. filters - 1 do
                let b = layer.biases.values.[o]
                for p in 0 .. positions - 1 do
                    z.values.[block + o * positions + p] <- y.[block + p * filters + o] + b

    /// From δ = ∂C/∂z: ∂C/∂b = Σ δ over examples and positions; ∂C/∂w = δ·colsᵀ (δ reordered
    /// position by position); ∂C/∂a_in, when wanted, the columns of wᵀδ added back to the pixels
    /// their windows read (col2im).
    [<HotPath>]
    let internal backwardInto (layer: Conv2D<'T>) (input: Shape) (delta: Matrix<'T>) (scratch: Matrix<'T>[]) (gradient: Matrix<'T>[]) (inputGradient: Matrix<'T> voption) : unit =
        let cols, dy = scratch.[0].values, scratch.[1].values
        let filters, rows = layer.kernels.rows, layer.kernels.cols
        let positions = delta.rows / filters
        let examples = delta.cols
        // δ reordered as y was: one column per position of each example
        for j in 0 .. examples - 1 do
            let block = j * filters * positions
            for o in 0 .. filters - 1 do
                for p in 0 .. positions - 1 do
                    dy.[block + p * filters + o] <- delta.values.[block + o * positions + p]
        // ∂C/∂b[o] = Σ δ[o, p] over positions and examples
        let db = gradient.[1].values
        for o in 0 .. filters - 1 do
            let mutable total = 'T.Zero
            for q in 0 .. positions * examples - 1 do
                total <- total + dy.[q * filters + o]
            db.[o] <- total
        // ∂C/∂w = δ·colsᵀ
        Gemm.run false true filters rows (positions * examples) 'T.One dy cols 'T.Zero gradient.[0].values
        match inputGradient with
        | ValueNone -> ()
        | ValueSome below ->
            // the columns' gradient wᵀδ, written over cols (no longer needed), then col2im
            Gemm.run true false rows (positions * examples) filters 'T.One layer.kernels.values dy 'T.Zero cols
            let struct (c, h, w) = Windows.dimensions input
            let struct (ho, wo) = Windows.outputSize layer.kernel layer.stride layer.padding h w
            let kh, kw = layer.kernel.Height, layer.kernel.Width
            Array.Clear below.values
            let mutable k = 0
            for j in 0 .. examples - 1 do
                let first = j * below.rows
                for oy in 0 .. ho - 1 do
                    for ox in 0 .. wo - 1 do
                        for ch in 0 .. c - 1 do
                            for ky in 0 .. kh - 1 do
                                let y = oy * layer.stride.Height - layer.padding.Height + ky
                                for kx in 0 .. kw - 1 do
                                    let x = ox * layer.stride.Width - layer.padding.Width + kx
                                    if y >= 0 && y < h && x >= 0 && x < w then
                                        let at = first + (ch * h + y) * w + x
                                        below.values.[at] <- below.values.[at] + cols.[k]
                                    k <- k + 1

    /// z for each example, one scalar at a time, from the tensors [w; b] as column-major arrays
    /// (w[o, r] at o + r·filters): b[o] + Σ over the window in c, i, j order.
    let scalarForward (s: ScalarArithmetic<'S>) (kernel: Window) (stride: Window) (padding: Window) (input: Shape) (tensors: 'S[][]) (examples: 'S[][]) : 'S[][] =
        let w, b = tensors.[0], tensors.[1]
        let filters = b.Length
        let struct (c, h, wd) = Windows.dimensions input
        let struct (ho, wo) = Windows.outputSize kernel stride padding h wd
        let kh, kw = kernel.Height, kernel.Width
        examples |> Array.map (fun a ->
            [| for o in 0 .. filters - 1 do
                   for oy in 0 .. ho - 1 do
                       for ox in 0 .. wo - 1 ->
                           s.Sum
                               [| yield b.[o]
                                  for ch in 0 .. c - 1 do
                                      for ky in 0 .. kh - 1 do
                                          for kx in 0 .. kw - 1 do
                                              let y, x = oy * stride.Height - padding.Height + ky, ox * stride.Width - padding.Width + kx
                                              if y >= 0 && y < h && x >= 0 && x < wd then
                                                  yield s.Multiply(w.[o + ((ch * kh + ky) * kw + kx) * filters], a.[(ch * h + y) * wd + x]) |] |])
