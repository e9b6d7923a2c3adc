/// MNIST: the bundled 10,000-digit subset loads with the counts its README documents, every pixel
/// the file's byte over 255 (read here from the gzip files by hand) and every label a digit;
/// generated image and label files load image by image; mismatched files are refused naming them;
/// one-hot targets have their 1 where the label says.
module FunctionalBackprop.Properties.MnistProperties

open System
open System.IO
open System.IO.Compression
open Xunit
open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open FunctionalBackprop.Core
open FunctionalBackprop.Properties.Messages

let private folder = lazy (Path.Combine(Repository.root (), "data", "mnist-10k"))

/// The bundled sets, loaded once for all the tests below.
let private bundled = lazy (Mnist.load<float> folder.Value)
let private bundled32 = lazy (Mnist.load<float32> folder.Value)

/// A gzip IDX file's bytes after its header, read here without the library: the header is checked
/// against the magic number (0x00000801 labels, 0x00000803 images) and the sizes the README gives.
let private dataOf (file: string) (magic: int) (dimensions: int list) =
    use z = new GZipStream(File.OpenRead(Path.Combine(folder.Value, file)), CompressionMode.Decompress)
    use all = new MemoryStream()
    z.CopyTo all
    let bytes = all.ToArray()
    let word (k: int) = (int bytes.[k] <<< 24) ||| (int bytes.[k + 1] <<< 16) ||| (int bytes.[k + 2] <<< 8) ||| int bytes.[k + 3]
    Assert.Equal(magic, word 0)
    Assert.Equal<int list>(dimensions, List.init dimensions.Length (fun i -> word (4 + 4 * i)))
    bytes.[4 + 4 * dimensions.Length ..]

/// The README's label counts of the test set, digits 0 to 9.
let private testLabelCounts = [| 211; 211; 191; 215; 201; 178; 220; 191; 187; 195 |]

[<Fact>]
let ``the bundled subset holds 8,000 training and 2,000 test digits of 28 × 28 pixels`` () =
    let train, test = bundled.Value
    for set, count in [ train, 8000; test, 2000 ] do
        Assert.Equal((28, 28), (set.Rows, set.Columns))
        Assert.Equal((784, count), (set.Images.Rows, set.Images.Cols))
        Assert.Equal(count, set.Labels.Length)

[<Fact>]
let ``every label is a digit, the test set's in the counts its README lists`` () =
    let train, test = bundled.Value
    Assert.All(Array.append train.Labels test.Labels, fun l -> Assert.InRange(l, 0, 9))
    Assert.Equal<int[]>(testLabelCounts, Array.init 10 (fun d -> test.Labels |> Array.filter ((=) d) |> Array.length))
    Assert.Equal<int[]>(dataOf "train-labels-idx1-ubyte.gz" 0x801 [ 8000 ] |> Array.map int, train.Labels)

/// Every pixel of every image, column j = image j, row 28r + c = pixel (r, c), against the file's
/// byte b over 255: the library scales by 1/255 rounded, then rounds the product, so a pixel is
/// within 2u·b/255 of the exact quotient (plus u₆₄ for the float64 rounding of 1/255 before it
/// is rounded to float32), and the quotient computed here in float64 adds u₆₄ more.
let private pixelsAre<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> (set: DigitSet<'T>) (file: string) (count: int) =
    let bytes = dataOf file 0x803 [ count; 28; 28 ]
    let u, u64 = Real.epsilon<'T> () / 2.0, Math.Pow(2.0, -53.0)
    let pixels = set.Images.ToArray()
    let mutable worst = None
    for j in 0 .. count - 1 do
        for r in 0 .. 27 do
            for c in 0 .. 27 do
                let exact = float bytes.[j * 784 + r * 28 + c] / 255.0
                let pixel = Real.toFloat pixels.[(r * 28 + c) + j * 784]
                if worst.IsNone && not (Math.Abs(pixel - exact) <= (2.0 * u + 2.0 * u64) * exact && 0.0 <= pixel && pixel <= 1.0) then
                    worst <- Some $"{Real.typeName<'T> ()} image {j}, pixel ({r}, {c}): {pixel:R}, byte/255 = {exact:R}"
    Assert.True(worst.IsNone, defaultArg worst "")

[<Fact>]
let ``pixels are the file's bytes over 255 in [0, 1], image by image and row by row, in float64`` () =
    let train, test = bundled.Value
    pixelsAre train "train-images-idx3-ubyte.gz" 8000
    pixelsAre test "t10k-images-idx3-ubyte.gz" 2000

[<Fact>]
let ``pixels are the file's bytes over 255 in [0, 1], image by image and row by row, in float32`` () =
    let train, test = bundled32.Value
    pixelsAre train "train-images-idx3-ubyte.gz" 8000
    pixelsAre test "t10k-images-idx3-ubyte.gz" 2000

/// Images and labels to write as IDX files: count images of rows × columns pixels.
type Digits = { Count: int; Rows: int; Columns: int; Pixels: byte[]; Labels: byte[] }

/// Labels and a number of classes they fit in.
type MnistArbitraries =
    static member Digits() =
        gen {
            let! count = Gen.choose (0, 6)
            let! rows = Gen.choose (1, 6)
            let! columns = Gen.choose (1, 6)
            let! pixels = Gen.arrayOfLength (count * rows * columns) (Gen.choose (0, 255) |> Gen.map byte)
            let! labels = Gen.arrayOfLength count (Gen.choose (0, 9) |> Gen.map byte)
            return { Count = count; Rows = rows; Columns = columns; Pixels = pixels; Labels = labels }
        }
        |> Arb.fromGen

/// IDX files of unsigned bytes, encoded as in IdxProperties.
let private idx (dimensions: int list) (data: byte[]) = IdxProperties.encode 0x08uy (Array.ofList dimensions) data

/// Runs f on a fresh temporary folder, deleted afterwards.
let private inFolder (f: string -> 'R) : 'R =
    let path = Path.Combine(Path.GetTempPath(), "mnist-" + Guid.NewGuid().ToString("N"))
    Directory.CreateDirectory path |> ignore
    try f path finally Directory.Delete(path, true)

/// Writes the four standard files (gzip-compressed or raw) of the same digits into the folder.
let private writeSet (folder: string) (compressed: bool) (d: Digits) =
    let images = idx [ d.Count; d.Rows; d.Columns ] d.Pixels
    let labels = idx [ d.Count ] d.Labels
    for name, bytes in [ "train-images-idx3-ubyte", images; "train-labels-idx1-ubyte", labels; "t10k-images-idx3-ubyte", images; "t10k-labels-idx1-ubyte", labels ] do
        if compressed then File.WriteAllBytes(Path.Combine(folder, name + ".gz"), IdxProperties.gzip bytes)
        else File.WriteAllBytes(Path.Combine(folder, name), bytes)

[<Properties(Arbitrary = [| typeof<MnistArbitraries> |], MaxTest = 40)>]
module Files =

    [<Property>]
    let ``load reads image j into column j, its pixels row by row over 255, with its label`` (d: Digits) (compressed: bool) =
        inFolder (fun folder ->
            writeSet folder compressed d
            let train, test = Mnist.load<float> folder
            let size = d.Rows * d.Columns
            let expected = Array.init (size * d.Count) (fun k -> let j, p = k / size, k % size in float d.Pixels.[j * size + p] / 255.0)
            [ train; test ]
            |> List.map (fun set ->
                ((set.Rows, set.Columns) = (d.Rows, d.Columns) |> Prop.label "image size")
                .&. ((set.Images.Rows, set.Images.Cols) = (size, d.Count) |> Prop.label "one column per image")
                .&. (set.Labels = Array.map int d.Labels |> Prop.label "labels")
                // Within 3u of the float64 quotient, as for the bundled files.
                .&. (Array.forall2 (fun (e: float) (a: float) -> Math.Abs(a - e) <= 3.0 * Math.Pow(2.0, -53.0) * e) expected (set.Images.ToArray()) |> Prop.label "pixels"))
            |> List.reduce (.&.))

    [<Property>]
    let ``loadFiles refuses label files of another count and labels above 9, naming the files`` (d: Digits) (extra: PositiveInt) (bad: byte) =
        inFolder (fun folder ->
            let images, labels = Path.Combine(folder, "imgs.idx"), Path.Combine(folder, "lbls.idx")
            File.WriteAllBytes(images, idx [ d.Count; d.Rows; d.Columns ] d.Pixels)
            let count = d.Count + extra.Get
            File.WriteAllBytes(labels, idx [ count ] (Array.zeroCreate count))
            let miscounted = Assert.Throws<InvalidDataException>(fun () -> Mnist.loadFiles<float> images labels |> ignore)
            // A label of 10 … 255 at position i.
            let label = if bad < 10uy then bad + 10uy else bad
            let i = extra.Get % Math.Max(d.Count, 1)
            let labelsWithBad = Array.init (Math.Max(d.Count, 1)) (fun k -> if k = i then label else 3uy)
            File.WriteAllBytes(images, idx [ labelsWithBad.Length; d.Rows; d.Columns ] (Array.zeroCreate (labelsWithBad.Length * d.Rows * d.Columns)))
            File.WriteAllBytes(labels, idx [ labelsWithBad.Length ] labelsWithBad)
            let notDigit = Assert.Throws<InvalidDataException>(fun () -> Mnist.loadFiles<float> images labels |> ignore)
            mentions miscounted.Message [ "lbls.idx"; "imgs.idx"; $"{count} labels"; $"{d.Count} images" ]
            .&. mentions notDigit.Message [ "lbls.idx"; $"label {i} is {label}" ])

[<Fact>]
let ``load names a missing folder, and a missing file by its standard name`` () =
    let missing = Path.Combine(Path.GetTempPath(), "mnist-missing-" + Guid.NewGuid().ToString("N"))
    let e = Assert.Throws<DirectoryNotFoundException>(fun () -> Mnist.load<float> missing |> ignore)
    Assert.Contains(missing, e.Message)
    inFolder (fun folder ->
        writeSet folder true { Count = 1; Rows = 1; Columns = 1; Pixels = [| 9uy |]; Labels = [| 4uy |] }
        File.Delete(Path.Combine(folder, "t10k-labels-idx1-ubyte.gz"))
        let e = Assert.Throws<FileNotFoundException>(fun () -> Mnist.load<float> folder |> ignore)
        Assert.Contains("t10k-labels-idx1-ubyte", e.Message))
