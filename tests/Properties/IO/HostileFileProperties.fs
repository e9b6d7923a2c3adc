/// Hostile files: random bytes, every truncation of a real file, bit flips and headers that lie.
/// Reading them either succeeds or raises the one documented exception with a message that says
/// what is wrong (InvalidDataException for model and IDX files, FormatException for CSV text);
/// never another exception, never a hang, never an allocation the file's size does not justify.
/// The coverage-guided version of these properties is fuzz/run.sh (see RELIABILITY.md).
module FunctionalBackprop.Properties.HostileFileProperties

open System
open System.IO
open System.IO.Compression
open System.Text
open System.Threading.Tasks
open Xunit
open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open FunctionalBackprop.Core

// ---------------------------------------------------------------------------------------------
// Running a reader on hostile bytes
// ---------------------------------------------------------------------------------------------

/// What one read did.
type Outcome =
    /// It returned a value.
    | Accepted
    /// It raised the documented exception, with this message.
    | Refused of message: string
    /// It raised something else.
    | Crashed of exn
    /// It had not returned after the time limit.
    | Hung
    /// It allocated this many bytes, more than the budget.
    | Overallocated of bytes: int64

/// Far longer than any read of these small inputs takes (milliseconds), so only a real hang trips it.
let private timeLimit = TimeSpan.FromSeconds 20.0

/// Runs read on a pool thread, with a time limit and an allocation budget in bytes (measured on
/// that thread, so other tests running at the same time do not count).
let private attempt<'E when 'E :> exn> (budget: int64) (read: unit -> unit) : Outcome =
    let task =
        Task.Run(
            (fun () ->
                let before = GC.GetAllocatedBytesForCurrentThread()
                let result =
                    try
                        read ()
                        Accepted
                    with
                    | :? 'E as e -> Refused e.Message
                    | e -> Crashed e
                let allocated = GC.GetAllocatedBytesForCurrentThread() - before
                if allocated > budget then Overallocated allocated else result))
    if task.Wait timeLimit then task.Result else Hung

/// A message that helps: it names the problem in a sentence, not just an exception type.
let private useful (message: string) =
    not (String.IsNullOrWhiteSpace message) && message.Length >= 20 && not (message.Contains "Exception of type")

/// The outcome as a property: accepted, or refused with a useful message.
let private acceptable (what: string) (outcome: Outcome) : Property =
    match outcome with
    | Accepted -> true |> Prop.ofTestable
    | Refused message -> useful message |> Prop.label $"{what}: the message is not useful: \"{message}\""
    | Crashed e -> false |> Prop.label $"{what}: unexpected {e.GetType().Name}: {e}"
    | Hung -> false |> Prop.label $"{what}: no answer after {timeLimit.TotalSeconds} s"
    | Overallocated bytes -> false |> Prop.label $"{what}: allocated {bytes:N0} bytes"

/// The same, as an xunit assertion, for the loops over every offset and every bit.
let private check (what: string) (outcome: Outcome) =
    match outcome with
    | Accepted -> ()
    | Refused message -> Assert.True(useful message, $"{what}: the message is not useful: \"{message}\"")
    | Crashed e -> Assert.Fail $"{what}: unexpected {e.GetType().Name}: {e}"
    | Hung -> Assert.Fail $"{what}: no answer after {timeLimit.TotalSeconds} s"
    | Overallocated bytes -> Assert.Fail $"{what}: allocated {bytes:N0} bytes"

/// A refusal, with a message containing the fragment.
let private refusedWith (fragment: string) (outcome: Outcome) =
    match outcome with
    | Refused message -> Assert.Contains(fragment, message)
    | other -> Assert.Fail $"expected a refusal mentioning \"{fragment}\", got {other}"

/// A stream that reads like the bytes but cannot seek (a pipe, a socket, a decompressor).
type private OneWayStream(bytes: byte[]) =
    inherit MemoryStream(bytes, false)
    override _.CanSeek = false
    override _.Length = raise (NotSupportedException())
    override _.Position
        with get () = raise (NotSupportedException())
        and set _ = raise (NotSupportedException())
    override _.Seek(_, _) = raise (NotSupportedException())

/// The repository's data/mnist-10k folder, found from the test's folder upwards.
let private mnistFolder =
    lazy (
        let rec up (dir: DirectoryInfo) =
            if isNull dir then failwith "data/mnist-10k not found above the test folder."
            let candidate = Path.Combine(dir.FullName, "data", "mnist-10k")
            if Directory.Exists candidate then candidate else up dir.Parent
        up (DirectoryInfo AppContext.BaseDirectory))

let private mnistFile name = File.ReadAllBytes(Path.Combine(mnistFolder.Value, name))

let private gunzip (bytes: byte[]) =
    use input = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress)
    use output = new MemoryStream()
    input.CopyTo output
    output.ToArray()

let private gzip (bytes: byte[]) =
    use output = new MemoryStream()
    (
        use compressor = new GZipStream(output, CompressionLevel.Optimal, leaveOpen = true)
        compressor.Write(bytes, 0, bytes.Length)
    )
    output.ToArray()

/// Every bit of the bytes flipped in turn, as copies.
let private everyFlip (bytes: byte[]) (limit: int) =
    seq {
        for bit in 0 .. Math.Min(bytes.Length * 8, limit) - 1 do
            let damaged = Array.copy bytes
            damaged.[bit / 8] <- damaged.[bit / 8] ^^^ (1uy <<< (bit % 8))
            yield bit, damaged
    }

// ---------------------------------------------------------------------------------------------
// Mutations, for the random properties
// ---------------------------------------------------------------------------------------------

/// One change to a file's bytes, at a position given as a fraction of its length.
type Mutation =
    | FlipBit of at: float * bit: int
    | SetByte of at: float * value: byte
    | SetWord of at: float * value: uint32
    | Delete of at: float * count: int
    | Duplicate of at: float * count: int
    | Truncate of at: float

/// Values that make lengths and counts lie: zero, one, the largest of each width, powers of two.
let private interestingWords = [ 0u; 1u; 2u; 255u; 65535u; 65536u; 65537u; 0x7FFFFFFFu; 0x80000000u; 0xFFFFFFFFu; 1u <<< 30; (1u <<< 30) + 1u; 1000000u ]

let private mutation: Gen<Mutation> =
    let at = Gen.choose (0, 10000) |> Gen.map (fun k -> float k / 10000.0)
    Gen.oneof
        [ Gen.map2 (fun a b -> FlipBit(a, b)) at (Gen.choose (0, 7))
          Gen.map2 (fun a v -> SetByte(a, byte v)) at (Gen.oneof [ Gen.elements [ 0; 1; 0x7F; 0x80; 0xFF ]; Gen.choose (0, 255) ])
          Gen.map2 (fun a v -> SetWord(a, v)) at (Gen.elements interestingWords)
          Gen.map2 (fun a n -> Delete(a, n)) at (Gen.choose (1, 16))
          Gen.map2 (fun a n -> Duplicate(a, n)) at (Gen.choose (1, 16))
          Gen.map Truncate at ]

let private apply (bytes: byte[]) (m: Mutation) : byte[] =
    let position (a: float) = if bytes.Length = 0 then 0 else Math.Min(bytes.Length - 1, int (a * float bytes.Length))
    if bytes.Length = 0 then bytes
    else
        match m with
        | FlipBit(a, bit) ->
            let copy = Array.copy bytes
            copy.[position a] <- copy.[position a] ^^^ (1uy <<< bit)
            copy
        | SetByte(a, v) ->
            let copy = Array.copy bytes
            copy.[position a] <- v
            copy
        | SetWord(a, v) ->
            let copy = Array.copy bytes
            let p = Math.Min(position a, Math.Max(0, copy.Length - 4))
            let word = BitConverter.GetBytes v
            for i in 0 .. Math.Min(3, copy.Length - 1 - p) do copy.[p + i] <- word.[i]
            copy
        | Delete(a, n) ->
            let p = position a
            Array.append bytes.[.. p - 1] bytes.[Math.Min(bytes.Length, p + n) ..]
        | Duplicate(a, n) ->
            let p = position a
            let piece = bytes.[p .. Math.Min(bytes.Length, p + n) - 1]
            Array.concat [ bytes.[.. p - 1]; piece; bytes.[p ..] ]
        | Truncate a -> bytes.[.. position a - 1]

let private mutations = Gen.choose (1, 4) |> Gen.bind (fun n -> Gen.listOfLength n mutation)

let private randomBytes (maxLength: int) =
    Gen.choose (0, maxLength) |> Gen.bind (fun n -> Gen.arrayOfLength n (Gen.choose (0, 255) |> Gen.map byte))

// ---------------------------------------------------------------------------------------------
// Model files
// ---------------------------------------------------------------------------------------------

/// Writes the CRC-32 of everything before the last four bytes into them, so that a damaged file
/// gets past the checksum and the parser's own checks are what refuse it.
let private withChecksum (bytes: byte[]) =
    if bytes.Length < 4 then bytes
    else
        let copy = Array.copy bytes
        let crc = Crc32.compute (ReadOnlySpan<byte>(copy, 0, copy.Length - 4))
        BitConverter.GetBytes(crc).CopyTo(copy, copy.Length - 4)
        copy

/// A checkpoint file: a 2-3-1 network trained five epochs with L2 and Adam, so the optimizer
/// state is a chain holding a stateless transform and Adam's two moment estimates.
let private checkpointFile =
    lazy (
        let x = Matrix.ofColumns [ [| 0.0; 0.0 |]; [| 0.0; 1.0 |]; [| 1.0; 0.0 |]; [| 1.0; 1.0 |] ]
        let y = Matrix.ofColumns [ [| 0.0 |]; [| 1.0 |]; [| 1.0 |]; [| 0.0 |] ]
        let network =
            Network.init<float> 5UL (Shape.Vector 2)
                [ LayerSpec.Dense(3, Activation.LeakyReLU 0.1, Some(Initializer.XavierNormal))
                  LayerSpec.Dense(1, Activation.Sigmoid, Some(Initializer.XavierNormal)) ]
        let optimizer = Optimizer.after [ Transform.l2 0.01 4 ] (Optimizer.adam (Schedule.Constant 0.05))
        let result = Training.train (TrainingOptions.create Loss.BinaryCrossEntropy optimizer 5 2) network x y
        use stream = new MemoryStream()
        let state = { OptimizerName = optimizer.Name; OptimizerState = result.OptimizerState; Epoch = result.Epochs; Step = result.Steps; RunningLoss = None }
        ModelFile.write stream { ModelContents.ofNetwork result.Network with Training = Some state }
        stream.ToArray())

/// A budget for a model file of n bytes: the copy of the stream, the parameters and the
/// optimizer state it can hold (each at most n bytes), and small objects.
let private modelBudget (n: int) = 16L * int64 n + (256L <<< 10)

let private readModel (bytes: byte[]) =
    attempt<InvalidDataException> (modelBudget bytes.Length) (fun () -> ModelFile.read<float> (new MemoryStream(bytes)) |> ignore)

[<Fact>]
let ``the checkpoint used below loads, with its training state`` () =
    let { Network = network; Training = training } = ModelFile.read<float> (new MemoryStream(checkpointFile.Value))
    Assert.Equal(2, network.Depth)
    Assert.True(training.IsSome)
    Assert.Equal(5, training.Value.Epoch)

[<Fact>]
let ``a checkpoint truncated at every length is refused`` () =
    let bytes = checkpointFile.Value
    for length in 0 .. bytes.Length - 1 do
        let outcome = readModel bytes.[.. length - 1]
        check $"truncated to {length} bytes" outcome
        Assert.NotEqual(Accepted, outcome)

[<Fact>]
let ``a checkpoint with any one bit flipped is refused`` () =
    for bit, damaged in everyFlip checkpointFile.Value Int32.MaxValue do
        let outcome = readModel damaged
        check $"bit {bit} flipped" outcome
        Assert.NotEqual(Accepted, outcome)

[<Fact>]
let ``a checkpoint with any one bit flipped and a valid checksum is read or refused, never worse`` () =
    // With the checksum recomputed, the parser's own checks are all that stand in the way.
    for bit, damaged in everyFlip checkpointFile.Value Int32.MaxValue do
        check $"bit {bit} flipped, checksum fixed" (readModel (withChecksum damaged))

[<Property(MaxTest = 300)>]
let ``random bytes are refused as a model file`` () =
    Prop.forAll (Arb.fromGen (randomBytes 300)) (fun bytes ->
        // Half of them start like a model file, so that they reach the header's fields.
        let bytes = if bytes.Length > 8 && bytes.[0] % 2uy = 0uy then Array.append "FBNN\001\000\008\001"B bytes else bytes
        acceptable "random bytes" (readModel bytes))

[<Property(MaxTest = 500)>]
let ``a mutated checkpoint is read or refused with a useful message`` () =
    Prop.forAll (Arb.fromGen (Gen.zip mutations (Gen.elements [ true; false ]))) (fun (changes, fixChecksum) ->
        let damaged = List.fold apply checkpointFile.Value changes
        let damaged = if fixChecksum then withChecksum damaged else damaged
        acceptable $"{changes}, checksum fixed {fixChecksum}" (readModel damaged))

/// A model file's header and layer table, followed by the given bytes, with a valid checksum.
let private header (depth: uint32) (inputWidth: uint32) (layers: (uint32 * byte) list) (flags: byte) (rest: byte[]) =
    use stream = new MemoryStream()
    use w = new BinaryWriter(stream)
    w.Write "FBNN"B
    w.Write 1us
    w.Write 8uy
    w.Write flags
    w.Write depth
    w.Write inputWidth
    for units, code in layers do
        w.Write units
        w.Write code
        w.Write 0.0
    w.Write rest
    w.Write 0u
    w.Flush()
    withChecksum (stream.ToArray())

[<Fact>]
let ``headers that claim huge networks are refused before anything is allocated`` () =
    let cases =
        [ "65,536 layers", header 65536u 4u [ 4u, 2uy ] 0uy [||], "layer table"
          "2³⁰ inputs to 2³⁰ units", header 1u (1u <<< 30) [ 1u <<< 30, 0uy ] 0uy [||], "parameters"
          "2³⁰ units after 2³⁰ units", header 2u 1u [ 1u <<< 30, 0uy; 1u <<< 30, 0uy ] 0uy [||], "parameters"
          "a layer of 2³⁰ + 1 units", header 1u 4u [ (1u <<< 30) + 1u, 0uy ] 0uy [||], "width"
          "zero layers", header 0u 4u [] 0uy [||], "layer count"
          "an unknown activation", header 1u 1u [ 1u, 9uy ] 0uy (Array.zeroCreate 16), "activation code" ]
    for what, bytes, fragment in cases do
        // The files are under 100 bytes; reading one allocates a few kilobytes, not gigabytes.
        let outcome = attempt<InvalidDataException> (64L <<< 10) (fun () -> ModelFile.read<float> (new MemoryStream(bytes)) |> ignore)
        check what outcome
        refusedWith fragment outcome

[<Fact>]
let ``layer widths whose parameter count wraps round 2⁶⁴ to 1 are refused`` () =
    // 16 layers of about 2³⁰ units each: 2⁶⁴ + 1 parameters, which 64-bit arithmetic makes 1.
    let widths = [ 1073741822u; 1073741821u; 1073741824u; 1073741824u; 1073741824u; 1073741824u; 1073741822u; 1073741823u; 1073741824u
                   1073741824u; 1073741823u; 1073741824u; 1073741824u; 1073741824u; 1073741824u; 1073741824u; 1073741824u ]
    let bytes = header 16u widths.Head [ for w in widths.Tail -> w, 0uy ] 0uy (BitConverter.GetBytes 0.5)
    let outcome = attempt<InvalidDataException> (64L <<< 10) (fun () -> ModelFile.read<float> (new MemoryStream(bytes)) |> ignore)
    check "wrapped parameter count" outcome
    refusedWith "parameters" outcome

[<Fact>]
let ``a training state whose chain claims billions of states is refused at once`` () =
    // One 1→1 identity layer (two parameters), then epoch, step, name "x", a chain of 2³² − 1.
    let parameters = Array.concat [ BitConverter.GetBytes 0.5; BitConverter.GetBytes 0.0 ]
    let training = Array.concat [ BitConverter.GetBytes 1; BitConverter.GetBytes 1L; BitConverter.GetBytes 1u; "x"B; [| 6uy |]; BitConverter.GetBytes UInt32.MaxValue ]
    let bytes = header 1u 1u [ 1u, 0uy ] 1uy (Array.append parameters training)
    let outcome = attempt<InvalidDataException> (64L <<< 10) (fun () -> ModelFile.read<float> (new MemoryStream(bytes)) |> ignore)
    refusedWith "claims 4294967295 states" outcome

[<Fact>]
let ``a training state that nests chains without end is refused, not a stack overflow`` () =
    let parameters = Array.concat [ BitConverter.GetBytes 0.5; BitConverter.GetBytes 0.0 ]
    let nest = Array.concat (List.replicate 5000 (Array.append [| 6uy |] (BitConverter.GetBytes 1u)))
    let training = Array.concat [ BitConverter.GetBytes 1; BitConverter.GetBytes 1L; BitConverter.GetBytes 1u; "x"B; nest; [| 0uy |] ]
    let outcome = readModel (header 1u 1u [ 1u, 0uy ] 1uy (Array.append parameters training))
    refusedWith "64 deep" outcome

// ---------------------------------------------------------------------------------------------
// IDX files
// ---------------------------------------------------------------------------------------------

/// A budget for an IDX read of n bytes: the copies of what it holds, decompressed (a gzip member
/// of n bytes inflates to at most about 1,032·n), and the 64 KB chunk and stream buffers.
let private idxBudget (n: int) = 4L * 1100L * int64 n + (1L <<< 20)

let private readIdx (name: string) (stream: unit -> Stream) (budget: int64) =
    attempt<InvalidDataException> budget (fun () -> Idx.readFrom name (stream ()) |> ignore)

let private readIdxBytes (bytes: byte[]) =
    readIdx "file.idx" (fun () -> new MemoryStream(bytes)) (idxBudget bytes.Length)

/// The real label file (2,000 labels), compressed as shipped and raw.
let private labelsGz = lazy (mnistFile "t10k-labels-idx1-ubyte.gz")
let private labelsRaw = lazy (gunzip labelsGz.Value)

/// A small real image file: the first five test images, with the header rewritten to say five.
let private imagesRaw =
    lazy (
        let all = gunzip (mnistFile "t10k-images-idx3-ubyte.gz")
        let small = all.[.. 16 + 5 * 784 - 1]
        small.[4..7] <- [| 0uy; 0uy; 0uy; 5uy |]
        small)

[<Fact>]
let ``the real files read whole`` () =
    let labels = Idx.readFrom "labels" (new MemoryStream(labelsGz.Value))
    Assert.Equal<int[]>([| 2000 |], labels.Dimensions)
    Assert.Equal<int[]>([| 5; 28; 28 |], (Idx.readFrom "images" (new MemoryStream(imagesRaw.Value))).Dimensions)
    Assert.Equal<byte[]>(labels.Values, (Idx.readFrom "one-way" (new OneWayStream(labelsRaw.Value))).Values)

[<Fact>]
let ``the real compressed label file truncated at every offset is refused, naming the file, or read whole`` () =
    // .NET's GZipStream does not report a missing gzip trailer (CRC-32 and length, the last 8
    // bytes), so a file cut after its deflate data reads whole; the IDX header's length check
    // still refuses every cut that loses data.
    let bytes = labelsGz.Value
    let original = Idx.readFrom "labels" (new MemoryStream(bytes))
    for length in 0 .. bytes.Length - 1 do
        let outcome = readIdx "t10k-labels" (fun () -> new MemoryStream(bytes, 0, length)) (idxBudget bytes.Length)
        check $"truncated to {length} bytes" outcome
        match outcome with
        | Refused message -> Assert.StartsWith("t10k-labels: ", message)
        | _ ->
            Assert.True(length >= bytes.Length - 9, $"truncated to {length} bytes of {bytes.Length}, inside the deflate data, but read")
            Assert.Equal<byte[]>(original.Values, (Idx.readFrom "cut" (new MemoryStream(bytes, 0, length))).Values)

[<Fact>]
let ``the real raw files truncated at every offset are refused, seekable or not`` () =
    for what, bytes in [ "labels", labelsRaw.Value; "images", imagesRaw.Value ] do
        for length in 0 .. bytes.Length - 1 do
            let piece = bytes.[.. length - 1]
            for stream in [ (fun () -> new MemoryStream(piece) :> Stream); (fun () -> new OneWayStream(piece) :> Stream) ] do
                let outcome = readIdx what stream (idxBudget bytes.Length)
                check $"{what} truncated to {length} bytes" outcome
                Assert.NotEqual(Accepted, outcome)

[<Fact>]
let ``bit flips in the header, and in the compressed file, are read or refused`` () =
    // A flip in the data of a raw file is a valid file with another pixel; in the header it
    // changes the shape, and in the gzip stream the CRC or the deflate data.
    for bit, damaged in everyFlip imagesRaw.Value (16 * 8) do
        check $"raw bit {bit}" (readIdxBytes damaged)
    // In the compressed file, one bit of every byte (bit k mod 8 of byte k), to keep it quick.
    for bit, damaged in everyFlip labelsGz.Value Int32.MaxValue do
        if bit % 8 = (bit / 8) % 8 then check $"gzip bit {bit}" (readIdxBytes damaged)

[<Property(MaxTest = 300)>]
let ``random bytes are refused as an IDX file`` () =
    Prop.forAll (Arb.fromGen (Gen.zip (randomBytes 200) (Gen.elements [ 0; 1; 2 ]))) (fun (bytes, start) ->
        // Some start like a raw IDX file of bytes, some like a gzip member, some not at all.
        let bytes =
            match start with
            | 0 -> Array.append [| 0uy; 0uy; 8uy; 1uy + (if bytes.Length > 0 then bytes.[0] % 3uy else 0uy) |] bytes
            | 1 -> Array.append [| 0x1Fuy; 0x8Buy; 8uy; 0uy |] bytes
            | _ -> bytes
        acceptable "random bytes" (readIdxBytes bytes))

[<Property(MaxTest = 400)>]
let ``a mutated IDX file, raw or compressed, is read or refused with a useful message`` () =
    Prop.forAll (Arb.fromGen (Gen.zip3 mutations (Gen.elements [ true; false ]) (Gen.elements [ true; false ]))) (fun (changes, labels, compressed) ->
        let original = if labels then labelsRaw.Value else imagesRaw.Value
        let original = if compressed then gzip original else original
        let damaged = List.fold apply original changes
        acceptable $"{changes}" (readIdxBytes damaged))

/// A raw IDX header of unsigned bytes with these dimensions.
let private idxHeader (dimensions: int list) =
    Array.concat
        [ [| 0uy; 0uy; 8uy; byte dimensions.Length |]
          yield! dimensions |> List.map (fun d -> let b = BitConverter.GetBytes d in Array.rev b) ]

[<Fact>]
let ``headers that claim gigabytes cost kilobytes, seekable, one-way or compressed`` () =
    let lying = Array.append (idxHeader [ Int32.MaxValue ]) (Array.zeroCreate 100)
    let sources =
        [ "seekable", (fun () -> new MemoryStream(lying) :> Stream)
          "one-way", (fun () -> new OneWayStream(lying) :> Stream)
          "compressed", (fun () -> new MemoryStream(gzip lying) :> Stream) ]
    for what, source in sources do
        // The budget is the chunk buffer and the stream's own, far below the 2 GB claimed.
        let outcome = readIdx "huge.idx" source (1L <<< 20)
        check what outcome
        refusedWith "truncated" outcome
    refusedWith "more than one array can hold" (readIdxBytes (idxHeader [ 65536; 65536; 2 ]))
    refusedWith "negative" (readIdxBytes (idxHeader [ 10; -1 ]))
    refusedWith "number of dimensions 0" (readIdxBytes [| 0uy; 0uy; 8uy; 0uy |])
    refusedWith "element type 0x0D" (readIdxBytes [| 0uy; 0uy; 0x0Duy; 1uy; 0uy; 0uy; 0uy; 0uy |])

[<Fact>]
let ``an image file of no images but a vast image size is refused by the MNIST loader`` () =
    // No data to bound it, so rows × columns (100,000 × 30,000) would overflow an int.
    let folder = Directory.CreateTempSubdirectory("fbp-idx-").FullName
    try
        let images, labels = Path.Combine(folder, "images"), Path.Combine(folder, "labels")
        File.WriteAllBytes(images, idxHeader [ 0; 100000; 30000 ])
        File.WriteAllBytes(labels, idxHeader [ 0 ])
        let e = Assert.Throws<InvalidDataException>(fun () -> Mnist.loadFiles<float> images labels |> ignore)
        Assert.Contains("100000 × 30000 pixels", e.Message)
    finally
        Directory.Delete(folder, true)

// ---------------------------------------------------------------------------------------------
// CSV text
// ---------------------------------------------------------------------------------------------

/// Every field of CSV text becomes a string, a list cell and a number: a few hundred bytes for a
/// field of one character and its separator, in proportion to the text, never more.
let private csvBudget (n: int) = 256L * int64 n + (256L <<< 10)

let private readCsv (options: CsvOptions) (text: string) =
    attempt<FormatException> (csvBudget text.Length) (fun () ->
        let table = Csv.parse options (new StringReader(text))
        // What parse accepts is a well-formed table.
        if table.Features |> Array.exists (fun row -> row.Length <> table.FeatureNames.Length || not (Array.forall Double.IsFinite row)) then
            failwith "a row of the accepted table is ragged or holds a value that is not finite"
        Csv.numericTargets table |> ignore)

let private noHeader = { Csv.defaults with HasHeader = false; Targets = TargetColumns.Indices [ 0 ] }

/// A small, valid file with quoting, a header, a blank line and CRLF endings.
let private sampleCsv =
    "x,\"y, with a comma\",label\r\n1.5,-2e3,0\r\n\"3\",4,1\r\n\r\n5,6.25,\"2\"\r\n-0.5,1e-300,3\r\n"

[<Fact>]
let ``the sample CSV reads`` () =
    let table = Csv.parse Csv.defaults (new StringReader(sampleCsv))
    Assert.Equal(4, table.Features.Length)
    Assert.Equal("y, with a comma", table.FeatureNames.[1])

[<Fact>]
let ``CSV text cut at every offset is read or refused with FormatException`` () =
    for length in 0 .. sampleCsv.Length do
        for options in [ Csv.defaults; noHeader ] do
            check $"cut at {length}" (readCsv options sampleCsv.[.. length - 1])

/// Characters that CSV parsing branches on, and some that it should not care about.
let private csvChar: Gen<char> =
    Gen.frequency
        [ 6, Gen.elements [ ','; '"'; '\n'; '\r'; ';'; ' ' ]
          8, Gen.elements [ '0'; '1'; '9'; '.'; '-'; '+'; 'e'; 'E' ]
          2, Gen.elements [ 'a'; 'N'; 'I'; 'n'; 'f'; '\t'; '\000'; '\u00e9'; '\ufffd'; '\ud800' ] ]

[<Property(MaxTest = 300)>]
let ``random text is read or refused with FormatException`` () =
    let text = Gen.choose (0, 120) |> Gen.bind (fun n -> Gen.arrayOfLength n csvChar) |> Gen.map String
    Prop.forAll (Arb.fromGen (Gen.zip text (Gen.elements [ true; false ]))) (fun (text, header) ->
        acceptable $"\"{text}\"" (readCsv (if header then Csv.defaults else noHeader) text))

[<Property(MaxTest = 200)>]
let ``random bytes decoded as UTF-8 are read or refused with FormatException`` () =
    Prop.forAll (Arb.fromGen (randomBytes 200)) (fun bytes ->
        let text = (new StreamReader(new MemoryStream(bytes), Encoding.UTF8)).ReadToEnd()
        acceptable "random bytes" (readCsv Csv.defaults text))

[<Fact>]
let ``hostile CSV text is refused with the line and column`` () =
    let refused options text fragment = refusedWith fragment (readCsv options text)
    refused Csv.defaults "a,b\n1,\"2\n" "not closed"
    refused Csv.defaults "a,b\n1,\"2\"x\n" "after a closing quote"
    refused Csv.defaults "a,b\n1e400,0\n" "Line 2, column 1 (a)"
    refused Csv.defaults "a,b\nNaN,0\n" "not a finite number"
    refused Csv.defaults "a,b\n1,2,3\n" "expected 2 fields, got 3"
    refused Csv.defaults "a,b\n" "no data rows"
    refused Csv.defaults "" "no header row"
    refused Csv.defaults "a\n1\n" "at least one feature"
    refused Csv.defaults "a,b\n1,x\n" "Line 2, column 2 (b): the target 'x' is not a finite number"
    // A field of a million digits, and 100,000 columns, take time in proportion, not a hang.
    refused Csv.defaults ("a,b\n" + String('9', 1000000) + "1e400,0\n") "not a finite number"
    let wide = String.Join(",", Array.create 100000 "1")
    Assert.Equal(Accepted, readCsv Csv.defaults (wide + "\n" + wide + "\n"))
