namespace FunctionalBackprop.Experiments

open System
open System.IO
open FunctionalBackprop.Core
open SkiaSharp

/// How LeNet-5 is trained for the picture: as the main job's LeNet configuration (MnistTrainer
/// --network lenet: float32, ReLU, He weights, heavy-ball SGD with a cosine schedule,
/// cross-entropy, each training digit joined by copies shifted by a pixel), without its dropout
/// and L2, which change the filters little.
type FeatureMapSettings =
    { /// The folder of the MNIST files.
      Data: string
      /// Training digits used (from the first).
      Examples: int
      /// Epochs.
      Epochs: int
      /// Pixels by which each training digit's four extra copies move (0: no copies).
      Shift: int
      /// Examples per mini-batch.
      BatchSize: int
      /// η at the start of the cosine schedule (it ends at η/100).
      Rate: float
      /// Heavy-ball β.
      Momentum: float
      /// Seeds the weights and the shuffles.
      Seed: uint64
      /// The test digit whose feature maps are drawn.
      Digit: int }

/// What the picture shows.
type FeatureMapResult =
    { /// The test accuracy of the trained network.
      Accuracy: float
      /// The digit drawn: its 28 × 28 pixels, row by row.
      Image: float[]
      /// Its label.
      Label: int
      /// The first convolution's filters: 6 of 5 × 5 weights, row by row.
      Filters: float[][]
      /// The digit's six feature maps after the first convolution and its ReLU: 28 × 28 each.
      Maps: float[][] }

/// LeNet-5's first-layer filters and one digit's feature maps, drawn as a PNG.
module FeatureMaps =

    /// The settings of the picture in README: the main job's LeNet run.
    let full: FeatureMapSettings =
        { Data = "data/mnist-10k"; Examples = 8000; Epochs = 6; Shift = 1; BatchSize = 64; Rate = 0.05; Momentum = 0.9; Seed = 1UL; Digit = 0 }

    /// A second's worth: one epoch on 1,000 digits.
    let quick: FeatureMapSettings = { full with Examples = 1000; Epochs = 1 }

    /// Trains LeNet-5 and reads its first layer's filters and the digit's feature maps.
    let run (settings: FeatureMapSettings) : FeatureMapResult =
        let train, test = Mnist.load<float32> settings.Data
        let x = Matrix.sliceColumns 0 settings.Examples train.Images
        let y = ClassLabels.oneHot 10 (Array.sub train.Labels 0 settings.Examples)
        let x, y = if settings.Shift > 0 then Translations.augment train.Shape (Translations.fourWays settings.Shift) x y else x, y
        let input, specs = Architectures.lenet5 Activation.ReLU (Some Initializer.HeNormal)
        let network = Network.init<float32> settings.Seed input specs
        let steps = settings.Epochs * ((x.Cols + settings.BatchSize - 1) / settings.BatchSize)
        let schedule = Schedule.Cosine(settings.Rate, settings.Rate / 100.0, steps)
        let options = { TrainingOptions.create Loss.CrossEntropy (Optimizer.heavyBall schedule settings.Momentum) settings.Epochs settings.BatchSize with Seed = settings.Seed }
        let trained = (Training.train options network x y).Network
        let image = Matrix.sliceColumns settings.Digit 1 test.Images
        let first = (Forward.trace Mode.Inference trained image).Layers.Head
        let conv = match trained.Layers.Head with Layer.Conv2D c -> c | other -> invalidOp $"LeNet's first layer is {other}"
        let filters = conv.Kernels.ToArray() |> Array.map float
        let mapSize = first.A.Rows / conv.Filters
        { Accuracy = Evaluation.accuracy trained test.Images (ClassLabels.oneHot 10 test.Labels)
          Image = image.ToArray() |> Array.map float
          Label = test.Labels.[settings.Digit]
          // w[o, k] at o + k·filters (column-major): filter o's 25 weights
          Filters = Array.init conv.Filters (fun o -> Array.init (filters.Length / conv.Filters) (fun k -> filters.[o + k * conv.Filters]))
          Maps = Array.init conv.Filters (fun o -> Array.init mapSize (fun p -> float first.A.[o * mapSize + p, 0])) }

    /// The accuracy, and each filter's range.
    let table (result: FeatureMapResult) : string =
        let rows =
            result.Filters
            |> Array.mapi (fun o f -> [ string (o + 1); $"{Array.min f:F3}"; $"{Array.max f:F3}"; $"{Array.max result.Maps.[o]:F3}" ])
            |> List.ofArray
        $"LeNet-5, test accuracy {result.Accuracy:P2}; digit {result.Label}\n"
        + TextTable.render [ "filter"; "min weight"; "max weight"; "max activation" ] rows

    /// A grey-level tile of `side` × `side` values scaled to the tile's own range (white high), drawn
    /// at `cell` pixels per value with its top-left corner at (left, top).
    let private tile (canvas: SKCanvas) (values: float[]) (side: int) (cell: float32) (left: float32) (top: float32) =
        let lo, hi = Array.min values, Array.max values
        let span = if hi > lo then hi - lo else 1.0
        use paint = new SKPaint()
        for r in 0 .. side - 1 do
            for c in 0 .. side - 1 do
                let level = byte (Math.Round(255.0 * (values.[r * side + c] - lo) / span))
                paint.Color <- SKColor(level, level, level)
                canvas.DrawRect(left + float32 c * cell, top + float32 r * cell, cell, cell, paint)

    /// One PNG: the digit, then the six filters (top row) above the digit's six feature maps.
    let plot (folder: string) (result: FeatureMapResult) : string list =
        Directory.CreateDirectory folder |> ignore
        let path = Path.Combine(folder, "lenet-feature-maps.png")
        let side, gap, count = 112.0f, 16.0f, result.Filters.Length
        let width, height = int (gap + float32 (count + 1) * (side + gap)), int (3.0f * gap + 2.0f * side + 24.0f)
        use surface = SKSurface.Create(SKImageInfo(width, height))
        let canvas = surface.Canvas
        canvas.Clear SKColors.White
        tile canvas result.Image 28 (side / 28.0f) gap (gap + 24.0f)
        for o in 0 .. count - 1 do
            let left = gap + float32 (o + 1) * (side + gap)
            tile canvas result.Filters.[o] 5 (side / 5.0f) left (gap + 24.0f)
            tile canvas result.Maps.[o] 28 (side / 28.0f) left (2.0f * gap + side + 24.0f)
        use text = new SKPaint(Color = SKColors.Black, IsAntialias = true)
        use font = new SKFont(Size = 16.0f)
        canvas.DrawText($"digit {result.Label}; LeNet-5's first-layer filters (top) and its feature maps (bottom); test accuracy {result.Accuracy:P2}", gap, 18.0f, SKTextAlign.Left, font, text)
        use image = surface.Snapshot()
        use data = image.Encode(SKEncodedImageFormat.Png, 100)
        File.WriteAllBytes(path, data.ToArray())
        [ path ]
