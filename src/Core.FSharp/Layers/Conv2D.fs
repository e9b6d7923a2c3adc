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

/// The convolution kind. The forward step lays the windows of every example out in a buffer kept
/// for the backward step (im2col, with one column per window entry, so that with stride 1 each
/// output row's run is a copy of an input row), so that the whole batch is one matrix product
/// with the filters; the backward step is two more products and the columns' gradient added
/// back to the pixels (col2im).
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

    /// The forward step's buffers, per example: the windows laid out for the product (C·kₕ·k_w ×
    /// Hₒ·W_ₒ values), the product before it is reordered (filters × Hₒ·W_ₒ), and room for one
    /// channel's partial sums (Hₒ·W_ₒ).
    let scratchRows (filters: int) (kernel: Window) (stride: Window) (padding: Window) (input: Shape) : int list =
        let struct (c, h, w) = Windows.dimensions input
        let struct (ho, wo) = Windows.outputSize kernel stride padding h w
        [ c * kernel.Height * kernel.Width * ho * wo; filters * ho * wo; ho * wo ]

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

    /// The output columns [lo, hi) of a run whose input columns x₀ + ox·s all lie in 0 … w − 1.
    let inline private inside (x0: int) (s: int) (w: int) (wo: int) : struct (int * int) =
        let lo = if x0 >= 0 then 0 else (-x0 + s - 1) / s
        let hi = if x0 >= w then 0 else Math.Min(wo, (w - 1 - x0) / s + 1)
        struct (lo, Math.Max(lo, hi))

    /// Runs f for every output row of every window entry (ch, ky, kx) of every example: f is given
    /// the place of the run in the laid-out windows (entry r = (ch·kₕ + ky)·k_w + kx's column,
    /// example j, output row oy), the place in the batch of the input that output column 0 reads
    /// (its row's start plus x₀ = kx − p_w, which may be negative; Int32.MinValue when the row lies
    /// in the padding), and the output
    /// columns [lo, hi) whose inputs lie in the image (worked out once per entry).
    let inline private eachRun (layer: Conv2D<'T>) (input: Shape) (examples: int) ([<InlineIfLambda>] f: int -> int -> int -> int -> unit) : unit =
        let struct (c, h, w) = Windows.dimensions input
        let struct (ho, wo) = Windows.outputSize layer.kernel layer.stride layer.padding h w
        let kh, kw = layer.kernel.Height, layer.kernel.Width
        let positions = ho * wo
        let pn = positions * examples
        let size = c * h * w
        for ch in 0 .. c - 1 do
            for ky in 0 .. kh - 1 do
                for kx in 0 .. kw - 1 do
                    let r = (ch * kh + ky) * kw + kx
                    let x0 = kx - layer.padding.Width
                    let struct (lo, hi) = inside x0 layer.stride.Width w wo
                    for j in 0 .. examples - 1 do
                        for oy in 0 .. ho - 1 do
                            let y = oy * layer.stride.Height - layer.padding.Height + ky
                            f (r * pn + j * positions + oy * wo) (if y >= 0 && y < h then j * size + (ch * h + y) * w + x0 else Int32.MinValue) lo hi

    /// The windows laid out for the product (im2col, transposed): cols has one column of
    /// Hₒ·W_ₒ·n values per window entry r = (ch, ky, kx), holding the input under that entry for
    /// every output position of every example (example by example, row by row), 0 in the padding.
    /// With stride 1 each output row's run is one copy of the input row.
    [<HotPath>]
    let private columnsInto (layer: Conv2D<'T>) (input: Shape) (a: Matrix<'T>) (cols: 'T[]) : unit =
        let struct (_, h, w) = Windows.dimensions input
        let struct (ho, wo) = Windows.outputSize layer.kernel layer.stride layer.padding h w
        let positions = ho * wo
        let pn = positions * a.cols
        let s = layer.stride.Width
        let values = a.values
        eachRun layer input a.cols (fun target source lo hi ->
            if source = Int32.MinValue then Span<'T>(cols, target, wo).Clear()
            else
                for ox in 0 .. lo - 1 do
                    cols.[target + ox] <- 'T.Zero
                if s = 1 then ReadOnlySpan<'T>(values, source + lo, hi - lo).CopyTo(Span<'T>(cols, target + lo, hi - lo))
                else
                    for ox in lo .. hi - 1 do
                        cols.[target + ox] <- values.[source + ox * s]
                for ox in hi .. wo - 1 do
                    cols.[target + ox] <- 'T.Zero)

    /// The columns' gradient added back to the pixels their entries read (col2im, transposed):
    /// the adjoint of columnsInto.
    [<HotPath>]
    let private addColumnsInto (layer: Conv2D<'T>) (input: Shape) (cols: 'T[]) (below: Matrix<'T>) : unit =
        let struct (_, h, w) = Windows.dimensions input
        let struct (ho, wo) = Windows.outputSize layer.kernel layer.stride layer.padding h w
        let positions = ho * wo
        let pn = positions * below.cols
        let s = layer.stride.Width
        let into = below.values
        Array.Clear into
        eachRun layer input below.cols (fun from target lo hi ->
            if target <> Int32.MinValue then
                if s = 1 && hi - lo >= 32 then
                    let out = Span<'T>(into, target + lo, hi - lo)
                    Elementwise.add (ReadOnlySpan<'T>(cols, from + lo, hi - lo), Span<'T>.op_Implicit out, out)
                elif s = 1 then
                    // a short run (LeNet's second layer: 10 values), added over spans with no checks per value
                    let out = Span<'T>(into, target + lo, hi - lo)
                    let run = ReadOnlySpan<'T>(cols, from + lo, hi - lo)
                    let mutable i = 0
                    while i < out.Length do
                        out.[i] <- out.[i] + run.[i]
                        i <- i + 1
                else
                    for ox in lo .. hi - 1 do
                        let at = target + ox * s
                        into.[at] <- into.[at] + cols.[from + ox])

    /// z = w ⋆ a + b: the windows laid out (Hₒ·W_ₒ·n × C·kₕ·k_w), one product with wᵀ for the
    /// whole batch, y = cols·wᵀ (one column per filter, each example's outputs a run of it), then
    /// each run moved to its example's channel with the filter's bias added.
    [<HotPath>]
    let internal forwardInto (layer: Conv2D<'T>) (input: Shape) (a: Matrix<'T>) (z: Matrix<'T>) (scratch: Matrix<'T>[]) : unit =
        let cols, y = scratch.[0].values, scratch.[1].values
        columnsInto layer input a cols
        let filters, rows = layer.kernels.rows, layer.kernels.cols
        let positions = z.rows / filters
        let pn = positions * a.cols
        // y = cols·wᵀ
        Gemm.run false true pn filters rows 'T.One cols layer.kernels.values 'T.Zero y
        // z[j, o, p] = y[p of example j, o] + b[o]
        for j in 0 .. a.cols - 1 do
            for o in 0 .. filters - 1 do
                Elementwise.addScalar (ReadOnlySpan<'T>(y, o * pn + j * positions, positions), layer.biases.values.[o], Span<'T>(z.values, (j * filters + o) * positions, positions))

    /// From δ = ∂C/∂z: ∂C/∂b[o] = Σ δ over o's outputs of every example (partial sums over the
    /// examples, position by position, then over the positions); δ moved into the product's
    /// layout, ∂C/∂w = δᵀ·cols; ∂C/∂a_in, when wanted, the columns' gradient δ·w added back to
    /// the pixels their windows read.
    [<HotPath>]
    let internal backwardInto (layer: Conv2D<'T>) (input: Shape) (delta: Matrix<'T>) (scratch: Matrix<'T>[]) (gradient: Matrix<'T>[]) (inputGradient: Matrix<'T> voption) : unit =
        let cols, dy, partial = scratch.[0].values, scratch.[1].values, scratch.[2].values
        let filters, rows = layer.kernels.rows, layer.kernels.cols
        let positions = delta.rows / filters
        let examples = delta.cols
        let pn = positions * examples
        let db = gradient.[1].values
        for o in 0 .. filters - 1 do
            let sums = Span<'T>(partial, 0, positions)
            sums.Clear()
            for j in 0 .. examples - 1 do
                let run = (j * filters + o) * positions
                // the δ of example j's channel o: into the product's layout, and into the partial sums
                Array.Copy(delta.values, run, dy, o * pn + j * positions, positions)
                Elementwise.add (ReadOnlySpan<'T>(delta.values, run, positions), Span<'T>.op_Implicit sums, sums)
            let mutable total = 'T.Zero
            for p in 0 .. positions - 1 do
                total <- total + partial.[p]
            db.[o] <- total
        // ∂C/∂w = δᵀ·cols: a small result over a long inner dimension (ColumnProducts)
        ColumnProducts.transposeInto pn filters rows dy cols gradient.[0].values
        match inputGradient with
        | ValueNone -> ()
        | ValueSome below ->
            // the columns' gradient δ·w, written over cols (no longer needed)
            Gemm.run false false pn rows filters 'T.One dy layer.kernels.values 'T.Zero cols
            addColumnsInto layer input cols below

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
