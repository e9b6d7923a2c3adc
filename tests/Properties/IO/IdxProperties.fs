/// IDX files (LeCun's format for MNIST): arrays encoded here byte by byte from the format's
/// definition (two zero bytes, a type code, the number of dimensions, each dimension as a big-endian
/// 32-bit integer, then the data) read back whole, raw or gzip-compressed, from seekable streams,
/// one-way streams and files; and every header or length that breaks the format refused with the
/// file's name and what is wrong.
module FunctionalBackprop.Properties.IdxProperties

open System
open System.IO
open System.IO.Compression
open Xunit
open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open FunctionalBackprop.Core
open FunctionalBackprop.Properties.Messages

/// An array of unsigned bytes: its dimensions, outermost first, and its values, last dimension fastest.
type Encoded = { Dimensions: int[]; Values: byte[] }

/// An array and a change to its data's length: Extra > 0 bytes appended, or −Extra removed.
type Miscounted = { Source: Encoded; Extra: int }

/// A header's first two bytes when they are not 00 00 (and not gzip's 1F 8B).
type BadMagic = { First: byte; Second: byte }

/// How the bytes reach the reader.
type Source =
    | Seekable
    | OneWay
    | Compressed
    | RawFile
    | CompressedFile

/// A stream that cannot seek and hands out at most 7 bytes per read, as a network stream might.
type private OneWayStream(bytes: byte[]) =
    inherit Stream()
    let inner = new MemoryStream(bytes)
    override _.CanRead = true
    override _.CanSeek = false
    override _.CanWrite = false
    override _.Length = raise (NotSupportedException())
    override _.Position
        with get () = raise (NotSupportedException())
        and set _ = raise (NotSupportedException())
    override _.Flush() = ()
    override _.Seek(_, _) = raise (NotSupportedException())
    override _.SetLength _ = raise (NotSupportedException())
    override _.Write(_, _, _) = raise (NotSupportedException())
    override _.Read(buffer: byte[], offset: int, count: int) = inner.Read(buffer, offset, Math.Min(count, 7))

/// The IDX encoding: 00 00, the type code, the rank, each dimension big-endian, the data.
let encode (typeCode: byte) (dimensions: int[]) (data: byte[]) : byte[] =
    let header = [| 0uy; 0uy; typeCode; byte dimensions.Length |]
    let bigEndian (d: int) = [| byte (d >>> 24); byte (d >>> 16); byte (d >>> 8); byte d |]
    Array.concat [ header; Array.collect bigEndian dimensions; data ]

/// The bytes gzip-compressed.
let gzip (bytes: byte[]) =
    use output = new MemoryStream()
    (use z = new GZipStream(output, CompressionLevel.Fastest)
     z.Write(bytes, 0, bytes.Length))
    output.ToArray()

/// Reads the bytes as the source delivers them; files go to a fresh temporary folder.
let private readAs (source: Source) (name: string) (bytes: byte[]) : IdxArray =
    let viaFile (contents: byte[]) (fileName: string) =
        let folder = Path.Combine(Path.GetTempPath(), "idx-" + Guid.NewGuid().ToString("N"))
        Directory.CreateDirectory folder |> ignore
        try
            let path = Path.Combine(folder, fileName)
            File.WriteAllBytes(path, contents)
            Idx.read path
        finally
            Directory.Delete(folder, true)
    match source with
    | Seekable -> Idx.readFrom name (new MemoryStream(bytes))
    | OneWay -> Idx.readFrom name (new OneWayStream(bytes))
    | Compressed -> Idx.readFrom name (new MemoryStream(gzip bytes))
    | RawFile -> viaFile bytes name
    | CompressedFile -> viaFile (gzip bytes) (name + ".gz")

let private array =
    gen {
        let! rank = Gen.frequency [ 6, Gen.choose (1, 4); 1, Gen.choose (5, 8) ]
        // Small dimensions (0 included), and sometimes one of 256 … 700 or 65 536 … 70 000 so that
        // every byte of the big-endian sizes is used; the total stays below 100 000 values.
        let small = if rank <= 4 then Gen.choose (0, 4) else Gen.choose (0, 2)
        let! dims = Gen.arrayOfLength rank small
        let! big = Gen.frequency [ 2, Gen.constant None; 1, Gen.choose (256, 700) |> Gen.map Some; 1, Gen.choose (65_536, 70_000) |> Gen.map Some ]
        let! at = Gen.choose (0, rank - 1)
        let dims =
            match big with
            | None -> dims
            | Some b when b < 65_536 -> Array.updateAt at b dims
            | Some b -> dims |> Array.mapi (fun i d -> if i = at then b else Math.Min(d, 1))
        let! values = Gen.arrayOfLength (Array.fold (*) 1 dims) (Gen.choose (0, 255) |> Gen.map byte)
        return { Dimensions = dims; Values = values }
    }

type IdxArbitraries =
    static member Encoded() = Arb.fromGen array
    static member Source() = Gen.elements [ Seekable; OneWay; Compressed; RawFile; CompressedFile ] |> Arb.fromGen
    static member Miscounted() =
        gen {
            let! a = array
            let! extra = if a.Values.Length = 0 then Gen.choose (1, 9) else Gen.oneof [ Gen.choose (1, 9); Gen.choose (-(Math.Min(9, a.Values.Length)), -1) ]
            return { Source = a; Extra = extra }
        }
        |> Arb.fromGen
    static member BadMagic() =
        // 1 … 65 535 without 0x1F8B: every pair of first bytes but 00 00 and the gzip signature.
        Gen.choose (1, 65_534)
        |> Gen.map (fun k -> let k = if k >= 0x1F8B then k + 1 else k in { First = byte (k >>> 8); Second = byte k })
        |> Arb.fromGen

/// The exception reading throws, which must be an InvalidDataException.
let private refusal (source: Source) (name: string) (bytes: byte[]) = Assert.Throws<InvalidDataException>(fun () -> readAs source name bytes |> ignore)

[<Properties(Arbitrary = [| typeof<IdxArbitraries> |], MaxTest = 60)>]
module Reading =

    [<Property>]
    let ``an IDX array of unsigned bytes reads back whole, however it is delivered`` (a: Encoded) (source: Source) =
        // Unsigned bytes (type 0x08) are the only element type the reader supports.
        let read = readAs source "digits.idx" (encode 0x08uy a.Dimensions a.Values)
        (read.Dimensions = a.Dimensions |> Prop.label $"dimensions {read.Dimensions}")
        .&. (read.Values = a.Values |> Prop.label "values")

    [<Property>]
    let ``element types other than unsigned bytes are refused, naming the type code and the file`` (a: Encoded) (code: byte) (source: Source) =
        // IDX's other codes are 0x09 (signed byte), 0x0B (short), 0x0C (int), 0x0D (float) and
        // 0x0E (double); every code but 0x08 must be refused.
        let code = if code = 0x08uy then 0x0Duy else code
        let e = refusal source "weights.idx" (encode code a.Dimensions a.Values)
        mentions e.Message [ "weights.idx"; $"0x{code:X2}" ]

    [<Property>]
    let ``a header not starting 00 00 is refused, showing its first bytes`` (a: Encoded) (magic: BadMagic) (source: Source) =
        let bytes = encode 0x08uy a.Dimensions a.Values
        bytes.[0] <- magic.First
        bytes.[1] <- magic.Second
        let e = refusal source "photo.jpg" bytes
        mentions e.Message [ "photo.jpg"; "not an IDX file"; $"{magic.First:X2} {magic.Second:X2}" ]

    [<Property>]
    let ``a number of dimensions outside 1 … 8 is refused`` (rank: byte) (source: Source) =
        let rank = if rank >= 1uy && rank <= 8uy then rank + 8uy else rank
        let bytes = Array.append [| 0uy; 0uy; 0x08uy; rank |] (Array.zeroCreate (4 * int rank))
        let e = refusal source "labels.idx" bytes
        mentions e.Message [ "labels.idx"; $"number of dimensions {rank}" ]

    [<Property>]
    let ``a negative dimension is refused, naming it`` (a: Encoded) (k: PositiveInt) (source: Source) =
        let i = k.Get % a.Dimensions.Length
        let dims = Array.updateAt i (-k.Get) a.Dimensions
        let e = refusal source "images.idx" (encode 0x08uy dims [||])
        mentions e.Message [ "images.idx"; $"dimension {i + 1} is negative ({-k.Get})" ]

    [<Property>]
    let ``data shorter or longer than the header claims is refused, naming the file and the shape`` (m: Miscounted) (source: Source) =
        let a = m.Source
        let data = if m.Extra > 0 then Array.append a.Values (Array.create m.Extra 7uy) else a.Values.[.. a.Values.Length + m.Extra - 1]
        let e = refusal source "short.idx" (encode 0x08uy a.Dimensions data)
        let shape = String.Join(" × ", a.Dimensions)
        mentions e.Message [ "short.idx"; shape; (if m.Extra > 0 then "more" else "truncated") ]

    [<Property>]
    let ``a header cut short is refused, saying where the file ends`` (a: Encoded) (k: NonNegativeInt) (source: Source) =
        let bytes = encode 0x08uy a.Dimensions a.Values
        let headerLength = 4 + 4 * a.Dimensions.Length
        let cut = k.Get % headerLength
        let e = refusal source "cut.idx" bytes.[.. cut - 1]
        mentions e.Message [ "cut.idx"; "ends" ]
