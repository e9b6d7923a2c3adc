namespace FunctionalBackprop.Core

open System
open System.IO
open System.IO.Compression

/// Two streams read one after the other; disposing it disposes the first (owned here) but not
/// the second (the caller's).
type internal ConcatenatedStream(first: Stream, second: Stream) =
    inherit Stream()
    let mutable onSecond = false
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
    override _.Read(buffer: byte[], offset: int, count: int) =
        if count = 0 then 0
        elif not onSecond then
            let n = first.Read(buffer, offset, count)
            if n > 0 then n
            else
                onSecond <- true
                second.Read(buffer, offset, count)
        else second.Read(buffer, offset, count)
    override _.Dispose(disposing: bool) =
        if disposing then first.Dispose()
        base.Dispose disposing

/// An IDX array of unsigned bytes (the MNIST format): its dimensions, outermost first, and its
/// values in row-major order.
type IdxArray =
    { /// The sizes of the dimensions, outermost first (MNIST images: count, rows, columns).
      Dimensions: int[]
      /// The values, last dimension fastest.
      Values: byte[] }

/// Reading IDX files (LeCun's format for MNIST): a header of two zero bytes, a type code, the
/// number of dimensions, then each dimension as a big-endian 32-bit integer, then the data.
/// Gzip-compressed files (starting 1F 8B) are decompressed on the fly; others are read raw.
module Idx =

    /// The type code of unsigned bytes, the only element type MNIST uses.
    [<Literal>]
    let UnsignedByte = 0x08uy

    /// At most this many bytes of data (2³¹ − 1, the largest .NET array).
    let private maxData = int64 Int32.MaxValue

    let private fail (name: string) (problem: string) : 'a = raise (InvalidDataException($"{name}: {problem}"))

    /// Reads exactly `count` bytes, or as many as the stream has.
    let private readUpTo (stream: Stream) (buffer: byte[]) (offset: int) (count: int) =
        let mutable total = 0
        let mutable finished = false
        while total < count && not finished do
            let n = stream.Read(buffer, offset + total, count - total)
            if n = 0 then finished <- true else total <- total + n
        total

    /// Reads an IDX array from a stream; `name` (the file name) starts every error message.
    /// Throws InvalidDataException for a bad magic number, an unsupported element type, bad
    /// dimensions, or data shorter or longer than the header claims. A raw seekable stream's length
    /// is checked before its data is allocated; a compressed file's data, or a raw stream's that
    /// cannot seek, is collected as it is read, so memory never exceeds what the file really holds.
    let readFrom (name: string) (stream: Stream) : IdxArray =
        if isNull stream then nullArg "stream"
        let head = Array.zeroCreate<byte> 4
        let got = readUpTo stream head 0 4
        let compressed = got >= 2 && head.[0] = 0x1Fuy && head.[1] = 0x8Buy
        // Put the bytes already read back in front of the stream.
        let source: Stream =
            let rest = new MemoryStream(head, 0, got)
            let joined = new ConcatenatedStream(rest, stream)
            if compressed then new GZipStream(joined, CompressionMode.Decompress) else joined
        try
            let header = Array.zeroCreate<byte> 4
            let n = try readUpTo source header 0 4 with :? InvalidDataException as e -> fail name $"the gzip data is corrupt ({e.Message})"
            if n < 4 then fail name $"the file ends after {n} bytes, inside the 4-byte IDX magic number."
            if header.[0] <> 0uy || header.[1] <> 0uy then
                fail name $"this is not an IDX file: its magic number starts {header.[0]:X2} {header.[1]:X2}, not 00 00."
            if header.[2] <> UnsignedByte then
                fail name $"the element type 0x{header.[2]:X2} is not supported; only unsigned bytes (0x08), as in MNIST, are."
            let rank = int header.[3]
            if rank < 1 || rank > 8 then fail name $"the number of dimensions {rank} is not valid (1 … 8)."
            let dimensionBytes = Array.zeroCreate<byte> (4 * rank)
            let n = try readUpTo source dimensionBytes 0 dimensionBytes.Length with :? InvalidDataException as e -> fail name $"the gzip data is corrupt ({e.Message})"
            if n < dimensionBytes.Length then fail name $"the file ends inside its header ({4 + n} of {4 + dimensionBytes.Length} bytes)."
            let dimensions = Array.init rank (fun i -> Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(ReadOnlySpan(dimensionBytes, 4 * i, 4)))
            dimensions |> Array.iteri (fun i d -> if d < 0 then fail name $"dimension {i + 1} is negative ({d}).")
            let count = dimensions |> Array.fold (fun total d -> if total > maxData then total else total * int64 d) 1L
            let shape = String.Join(" × ", dimensions)
            if count > maxData then fail name $"the header claims {shape} values, more than one array can hold."
            let headerLength = 4L + int64 dimensionBytes.Length
            let data =
                if not compressed && stream.CanSeek then
                    // A raw file whose length is known: check it before allocating the data.
                    let actual = stream.Length - stream.Position
                    if actual < count then fail name $"the data is truncated: the header claims {shape} = {count} bytes but the file holds {actual}."
                    if actual > count then fail name $"the file holds {actual - count} bytes more than its header claims ({shape} = {count} bytes)."
                    let data = Array.zeroCreate<byte> (int count)
                    let got = readUpTo source data 0 data.Length
                    if got < data.Length then fail name $"the data is truncated: the header claims {shape} = {count} bytes but the file holds {got}."
                    data
                else
                    // Compressed, or a stream of unknown length: collect what it really yields,
                    // in chunks, then check its length, so a header that lies costs nothing.
                    use collected = new MemoryStream()
                    let chunk = Array.zeroCreate<byte> 65536
                    let mutable total = 0L
                    let mutable finished = false
                    while not finished do
                        let wanted = int (Math.Min(int64 chunk.Length, count + 1L - total))
                        let got = try readUpTo source chunk 0 wanted with :? InvalidDataException as e -> fail name $"the gzip data is corrupt ({e.Message})"
                        collected.Write(chunk, 0, got)
                        total <- total + int64 got
                        if got < wanted || total > count then finished <- true
                    if total < count then fail name $"the data is truncated: the header claims {shape} = {count} bytes but the file holds {total}."
                    if total > count then fail name $"the file holds more data than its header claims ({shape} = {count} bytes)."
                    collected.ToArray()
            { Dimensions = dimensions; Values = data }
        finally
            source.Dispose()

    /// Reads an IDX file, gzip-compressed or raw.
    let read (path: string) : IdxArray =
        if isNull path then nullArg "path"
        use stream = File.OpenRead path
        readFrom (Path.GetFileName path) stream
