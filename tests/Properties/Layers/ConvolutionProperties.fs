/// Convolution and pooling over generated shapes (one to four channels, rectangular and 1×1
/// kernels, strides of 1 and 2, padding, batches of one): gradients against central differences,
/// each kind against its definition written out directly, max pooling's ties, float32 against
/// the rounding bound, and shards against one shard.
module FunctionalBackprop.Properties.ConvolutionProperties

open System
open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open FunctionalBackprop.Core
open FunctionalBackprop.Properties.Generators

/// The pooling after the convolution, if any.
type Pool =
    | NoPool
    | MaxPool of kernel: Window * stride: Window * padding: Window
    | AvgPool of kernel: Window * stride: Window * padding: Window

/// A convolution (then batch normalisation, a pooling) on a batch of images, flattened into a
/// softmax layer of three classes.
type ImageCase =
    { Channels: int
      Height: int
      Width: int
      Batch: int
      Filters: int
      Kernel: Window
      Stride: Window
      Padding: Window
      Normalised: bool
      Pool: Pool
      Seed: uint64 }

    /// The input shape.
    member c.Input = Shape.Image(c.Channels, c.Height, c.Width)

    /// The layers: conv (tanh, or identity then batch normalisation then tanh), the pooling, flatten, dense 3 softmax.
    member c.Specs: LayerSpec list =
        [ yield LayerSpec.Conv2D(c.Filters, c.Kernel, c.Stride, c.Padding, (if c.Normalised then Activation.Identity else Activation.Tanh), Some Initializer.XavierNormal)
          if c.Normalised then
              yield LayerSpec.BatchNorm(0.1, 1e-5)
              yield LayerSpec.Activation Activation.Tanh
          match c.Pool with
          | NoPool -> ()
          | MaxPool(k, s, p) -> yield LayerSpec.MaxPool2D(k, s, p)
          | AvgPool(k, s, p) -> yield LayerSpec.AvgPool2D(k, s, p)
          yield LayerSpec.Flatten
          yield LayerSpec.Dense(3, Activation.Softmax, Some Initializer.XavierNormal) ]

    member c.Network<'T when 'T :> Numerics.IFloatingPointIeee754<'T>>() : Network<'T> = Network.init c.Seed c.Input c.Specs

    /// Inputs drawn from the seed (float64 values that float32 holds exactly).
    member c.Inputs<'T when 'T :> Numerics.IFloatingPointIeee754<'T>>() : Matrix<'T> =
        let size = c.Channels * c.Height * c.Width
        Random.normals (Random.derive c.Seed 3UL) 0.0 1.0 (size * c.Batch)
        |> Array.map (fun v -> float (float32 v))
        |> Array.map Real.ofFloat<'T>
        |> Matrix.ofColumnMajor size c.Batch

    /// Example j's class is j mod 3.
    member c.Targets<'T when 'T :> Numerics.IFloatingPointIeee754<'T>>() : Matrix<'T> = Matrix.init 3 c.Batch (fun i j -> if i = j % 3 then 'T.One else 'T.Zero)

    override c.ToString() =
        let norm = if c.Normalised then ", batchnorm" else ""
        $"{c.Batch} × {c.Channels}×{c.Height}×{c.Width}, conv {c.Filters} {c.Kernel} stride {c.Stride} padding {c.Padding}{norm}, {c.Pool}, seed {c.Seed}"

/// Hₒ on one axis.
let private outputSize (n: int) (k: int) (s: int) (p: int) = (n + 2 * p - k) / s + 1

let private window (gh: Gen<int>) (gw: Gen<int>) : Gen<Window> = Gen.map2 (fun h w -> { Height = h; Width = w }) gh gw

/// A pooling that fits an h × w input (padding at most half the kernel).
let private pooling (h: int) (w: int) : Gen<Pool> =
    gen {
        let! kernel = window (Gen.choose (1, Math.Min(3, h + 1))) (Gen.choose (1, Math.Min(3, w + 1)))
        let! stride = window (Gen.choose (1, 2)) (Gen.choose (1, 2))
        let! padding = window (Gen.choose (0, kernel.Height / 2)) (Gen.choose (0, kernel.Width / 2))
        let fits = kernel.Height <= h + 2 * padding.Height && kernel.Width <= w + 2 * padding.Width
        let! kind = Gen.choose (0, 2)
        return
            match kind with
            | _ when not fits -> NoPool
            | 0 -> NoPool
            | 1 -> MaxPool(kernel, stride, padding)
            | _ -> AvgPool(kernel, stride, padding)
    }

let imageCase: Gen<ImageCase> =
    gen {
        let! channels = Gen.choose (1, 4)
        let! height = Gen.choose (1, 7)
        let! width = Gen.choose (1, 7)
        let! padding = window (Gen.choose (0, 1)) (Gen.choose (0, 1))
        let! kernel = window (Gen.choose (1, Math.Min(3, height + 2 * padding.Height))) (Gen.choose (1, Math.Min(3, width + 2 * padding.Width)))
        let! stride = window (Gen.choose (1, 2)) (Gen.choose (1, 2))
        let ho = outputSize height kernel.Height stride.Height padding.Height
        let wo = outputSize width kernel.Width stride.Width padding.Width
        let! pool = pooling ho wo
        let! batch = Gen.frequency [ 1, Gen.constant 1; 3, Gen.choose (2, 4) ]
        let! filters = Gen.choose (1, 3)
        let! normalised = Gen.frequency [ 3, Gen.constant false; 1, Gen.constant true ]
        let! seed = Gen.choose (0, Int32.MaxValue)
        return
            { Channels = channels; Height = height; Width = width; Batch = batch; Filters = filters; Kernel = kernel; Stride = stride
              Padding = padding; Normalised = normalised; Pool = pool; Seed = uint64 seed }
    }

/// A batch of images whose values take few levels, so that windows hold ties.
type TiedImages =
    { Shape: int * int * int
      Batch: int
      Kernel: Window
      Stride: Window
      Padding: Window
      Values: float[] }

    override t.ToString() = $"{t.Batch} × {t.Shape}, kernel {t.Kernel} stride {t.Stride} padding {t.Padding}, values {String.Join(' ', t.Values)}"

let tiedImages: Gen<TiedImages> =
    gen {
        let! c = Gen.choose (1, 3)
        let! h = Gen.choose (1, 6)
        let! w = Gen.choose (1, 6)
        let! kernel = window (Gen.choose (1, Math.Min(3, h + 1))) (Gen.choose (1, Math.Min(3, w + 1)))
        let! stride = window (Gen.choose (1, 2)) (Gen.choose (1, 2))
        let! padding = window (Gen.choose (0, kernel.Height / 2)) (Gen.choose (0, kernel.Width / 2))
        let kernel = { Height = Math.Min(kernel.Height, h + 2 * padding.Height); Width = Math.Min(kernel.Width, w + 2 * padding.Width) }
        let! batch = Gen.choose (1, 3)
        let! values = Gen.arrayOfLength (c * h * w * batch) (Gen.choose (-2, 2) |> Gen.map (fun k -> float k / 2.0))
        return { Shape = (c, h, w); Batch = batch; Kernel = kernel; Stride = stride; Padding = padding; Values = values }
    }

type ConvolutionArbitraries =
    static member ImageCase() = Arb.fromGen imageCase
    static member TiedImages() = Arb.fromGen tiedImages
    static member Provider() = Arb.fromGen (Gen.elements Provider.Available)

/// The windows of output (ch, oy, ox) of a c × h × w image: the places (ch, y, x) as indices
/// into the example, or None in the padding, in row-major order.
let private windowOf (c: int, h: int, w: int) (k: Window) (s: Window) (p: Window) (ch: int) (oy: int) (ox: int) : int option list =
    [ for ky in 0 .. k.Height - 1 do
          for kx in 0 .. k.Width - 1 ->
              let y, x = oy * s.Height - p.Height + ky, ox * s.Width - p.Width + kx
              if y >= 0 && y < h && x >= 0 && x < w then Some((ch * h + y) * w + x) else None ]

/// The network's ∂C/∂x and the loss's upstream, by one backward pass from the trace.
let private inputGradient (mode: Mode) (loss: Loss) (network: Network<float>) (x: Matrix<float>) (y: Matrix<float>) : float[] =
    let trace = Forward.trace mode network x
    let last = List.last trace.Layers
    snd (Backprop.backward network trace (Upstream.ofLoss loss network.OutputActivation last.Z last.A y)) |> fun dx -> dx.ToArray()

/// ∂C/∂xᵢ by Richardson-extrapolated central differences, (4D(h/2) − D(h))/3, with the
/// difference from D(h/2) as its uncertainty.
let private differences (mode: Mode) (loss: Loss) (network: Network<float>) (x: Matrix<float>) (y: Matrix<float>) (i: int) : float * float =
    let values = x.ToArray()
    let cost (v: float) =
        let moved = Array.copy values
        moved.[i] <- v
        Forward.cost mode loss network (Matrix.ofColumnMajor x.Rows x.Cols moved) y
    let central h = (cost (values.[i] + h) - cost (values.[i] - h)) / (2.0 * h)
    let h = 1e-3 * Math.Max(1.0, Math.Abs values.[i])
    let coarse, fine = central h, central (h / 2.0)
    let estimate = (4.0 * fine - coarse) / 3.0
    estimate, Math.Abs(estimate - fine)

/// Training mode at some step.
let private training = Mode.Training { Seed = 5UL; Step = 3L; First = 0 }

[<Properties(Arbitrary = [| typeof<ConvolutionArbitraries> |], MaxTest = 100)>]
module Properties =

    [<Property>]
    let ``backprop equals central differences on convolutional networks in inference and training mode`` (c: ImageCase) (p: Provider) =
        p.Run(fun () ->
            let network, x, y = c.Network<float> (), c.Inputs<float> (), c.Targets<float> ()
            [ Mode.Inference; training ]
            |> List.map (fun mode -> Checks.gradientCheck network (GradientCheck.run mode Loss.CrossEntropy network x y) |> Prop.label (string mode))
            |> List.reduce (.&.)
            |> Prop.label (string c))

    [<Property>]
    let ``∂C/∂x equals central differences on convolutional networks without max pooling`` (c: ImageCase) =
        let c = match c.Pool with MaxPool _ -> { c with Pool = NoPool } | _ -> c
        let network, x, y = c.Network<float> (), c.Inputs<float> (), c.Targets<float> ()
        [ Mode.Inference; training ]
        |> List.map (fun mode ->
            let analytic = inputGradient mode Loss.CrossEntropy network x y
            let scale = 1e-8 * (1.0 + (analytic |> Array.map abs |> Array.max))
            analytic
            |> Array.mapi (fun i a ->
                let estimate, uncertainty = differences mode Loss.CrossEntropy network x y i
                Math.Abs(a - estimate) <= 1e-6 * Math.Abs a + 10.0 * uncertainty + scale
                |> Prop.label $"{mode}: x[{i}], backprop {a:R}, differences {estimate:R} ± {uncertainty:E1}")
            |> Array.reduce (.&.))
        |> List.reduce (.&.)
        |> Prop.label (string c)

    [<Property>]
    let ``convolution is its definition, z[o, y, x] = b[o] + Σ w·a over the window, within rounding`` (c: ImageCase) (p: Provider) =
        p.Run(fun () ->
            let c = { c with Normalised = false; Pool = NoPool }
            let network, x = c.Network<float> (), c.Inputs<float> ()
            let conv = match network.Layers.Head with Layer.Conv2D conv -> conv | other -> failwith $"not a convolution: {other}"
            let z = (Forward.trace Mode.Inference network x).Layers.Head.Z.ToArray()
            let w, b = conv.Kernels.ToArray(), conv.Biases.ToArray()
            let ho = outputSize c.Height c.Kernel.Height c.Stride.Height c.Padding.Height
            let wo = outputSize c.Width c.Kernel.Width c.Stride.Width c.Padding.Width
            let size, area = c.Channels * c.Height * c.Width, c.Kernel.Height * c.Kernel.Width
            let xs = x.ToArray()
            [ for j in 0 .. c.Batch - 1 do
                  for o in 0 .. c.Filters - 1 do
                      for oy in 0 .. ho - 1 do
                          for ox in 0 .. wo - 1 ->
                              let terms =
                                  [ for ch in 0 .. c.Channels - 1 do
                                        for k, place in List.indexed (windowOf (c.Channels, c.Height, c.Width) c.Kernel c.Stride c.Padding ch oy ox) do
                                            match place with
                                            | Some at -> w.[o + (ch * area + k) * c.Filters] * xs.[j * size + at]
                                            | None -> () ]
                              let expected = b.[o] + List.sum terms
                              let bound = float (terms.Length + 2) * 1.12e-16 * (abs b.[o] + List.sumBy abs terms)
                              let actual = z.[((j * c.Filters + o) * ho + oy) * wo + ox]
                              abs (actual - expected) <= bound |> Prop.label $"example {j}, filter {o}, ({oy}, {ox}): {actual:R} vs {expected:R}" ]
            |> List.reduce (.&.)
            |> Prop.label (string c))

    [<Property>]
    let ``max pooling takes each window's first largest value and sends δ there, ties included`` (t: TiedImages) =
        let c, h, w = t.Shape
        let network = Network.init<float> 1UL (Shape.Image(c, h, w)) [ LayerSpec.MaxPool2D(t.Kernel, t.Stride, t.Padding) ]
        let x = Matrix.ofColumnMajor (c * h * w) t.Batch t.Values
        let trace = Forward.trace Mode.Inference network x
        let out = trace.Output
        let g = Matrix.init out.Rows out.Cols (fun i j -> float (1 + i + 100 * j))
        let _, dx = Backprop.backward network trace (Upstream.OutputGradient g)
        let ho, wo = outputSize h t.Kernel.Height t.Stride.Height t.Padding.Height, outputSize w t.Kernel.Width t.Stride.Width t.Padding.Width
        let expectedOut = Array.zeroCreate (out.Rows * out.Cols)
        let expectedDx = Array.zeroCreate (c * h * w * t.Batch)
        for j in 0 .. t.Batch - 1 do
            for ch in 0 .. c - 1 do
                for oy in 0 .. ho - 1 do
                    for ox in 0 .. wo - 1 do
                        let places = windowOf (c, h, w) t.Kernel t.Stride t.Padding ch oy ox |> List.choose id
                        let best = places |> List.reduce (fun b k -> if t.Values.[j * c * h * w + k] > t.Values.[j * c * h * w + b] then k else b)
                        let o = (ch * ho + oy) * wo + ox
                        expectedOut.[j * out.Rows + o] <- t.Values.[j * c * h * w + best]
                        expectedDx.[j * c * h * w + best] <- expectedDx.[j * c * h * w + best] + g.[o, j]
        (Bits.ofValues (out.ToArray()) = Bits.ofValues expectedOut |> Prop.label "the largest values")
        .&. (Bits.ofValues (dx.ToArray()) = Bits.ofValues expectedDx |> Prop.label "δ at each window's first maximum")
        |> Prop.label (string t)

    [<Property>]
    let ``average pooling is each window's sum over kₕ·k_w, padding counted, and spreads δ/(kₕ·k_w) over it, bit for bit`` (t: TiedImages) =
        let c, h, w = t.Shape
        let network = Network.init<float> 1UL (Shape.Image(c, h, w)) [ LayerSpec.AvgPool2D(t.Kernel, t.Stride, t.Padding) ]
        let values = t.Values |> Array.mapi (fun i v -> v + 0.01 * float i)
        let x = Matrix.ofColumnMajor (c * h * w) t.Batch values
        let trace = Forward.trace Mode.Inference network x
        let out = trace.Output
        let g = Matrix.init out.Rows out.Cols (fun i j -> 0.3 * float (1 + i + 7 * j))
        let _, dx = Backprop.backward network trace (Upstream.OutputGradient g)
        let ho, wo = outputSize h t.Kernel.Height t.Stride.Height t.Padding.Height, outputSize w t.Kernel.Width t.Stride.Width t.Padding.Width
        let count = float (t.Kernel.Height * t.Kernel.Width)
        let expectedOut = Array.zeroCreate (out.Rows * out.Cols)
        let expectedDx = Array.zeroCreate (c * h * w * t.Batch)
        for j in 0 .. t.Batch - 1 do
            for ch in 0 .. c - 1 do
                for oy in 0 .. ho - 1 do
                    for ox in 0 .. wo - 1 do
                        let places = windowOf (c, h, w) t.Kernel t.Stride t.Padding ch oy ox |> List.choose id
                        let o = (ch * ho + oy) * wo + ox
                        expectedOut.[j * out.Rows + o] <- (places |> List.fold (fun acc k -> acc + values.[j * c * h * w + k]) 0.0) / count
                        let share = g.[o, j] / count
                        for k in places do
                            expectedDx.[j * c * h * w + k] <- expectedDx.[j * c * h * w + k] + share
        (Bits.ofValues (out.ToArray()) = Bits.ofValues expectedOut |> Prop.label "the means")
        .&. (Bits.ofValues (dx.ToArray()) = Bits.ofValues expectedDx |> Prop.label "δ spread over each window")
        |> Prop.label (string t)

    [<Property>]
    let ``float32 backprop of convolutional networks is within the rounding bound of float64's`` (c: ImageCase) (p: Provider) =
        p.Run(fun () ->
            let eps32 = 1.1920928955078125e-07
            let n32, x32, y32 = c.Network<float32> (), c.Inputs<float32> (), c.Targets<float32> ()
            let n64, x64, y64 = Network.convert<float32, float> n32, Matrix.convert<float32, float> x32, Matrix.convert<float32, float> y32
            [ Mode.Inference; training ]
            |> List.map (fun mode ->
                let g32 = Gradients.toArray (Backprop.gradient mode Loss.CrossEntropy n32 x32 y32) |> Array.map float
                let g64 = Gradients.toArray (Backprop.gradient mode Loss.CrossEntropy n64 x64 y64)
                let bound = RoundingBound.gradient eps32 mode Loss.CrossEntropy n64 x64 y64
                Array.mapi2 (fun i (a: float) (b: float) -> abs (a - b) <= 2.0 * eps32 * bound.[i] |> Prop.label $"{mode}: entry {i}, float32 {a:R}, float64 {b:R}, bound 2ε·{bound.[i]:R}") g32 g64
                |> Array.reduce (.&.))
            |> List.reduce (.&.)
            |> Prop.label (string c))

    [<Property>]
    let ``a convolutional network's gradient through k shards is one shard's within rounding`` (c: ImageCase) (k: int) (p: Provider) =
        p.Run(fun () ->
            let c = { c with Normalised = false }
            let k = 2 + abs k % 3
            let network, x, y = c.Network<float> (), c.Inputs<float> (), c.Targets<float> ()
            let eps = Real.epsilon<float> ()
            let bound = RoundingBound.gradient eps training Loss.CrossEntropy network x y
            let _, one = Backprop.lossAndGradient training Loss.CrossEntropy network x y
            let _, sharded = Shards.lossAndGradient k training Loss.CrossEntropy network x y
            Array.mapi2 (fun i (a: float) (b: float) -> abs (a - b) <= 2.0 * eps * bound.[i] |> Prop.label $"entry {i}: one shard {a:R}, {k} shards {b:R}") (Gradients.toArray one) (Gradients.toArray sharded)
            |> Array.reduce (.&.)
            |> Prop.label (string c))
