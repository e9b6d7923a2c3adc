namespace FunctionalBackprop.Core

open System

/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), the checksum of zip and PNG: detects
/// every burst error of up to 32 bits and every odd number of flipped bits.
module internal Crc32 =

    let private table =
        Array.init 256 (fun n ->
            let mutable c = uint32 n
            for _ in 1 .. 8 do
                c <- if c &&& 1u <> 0u then 0xEDB88320u ^^^ (c >>> 1) else c >>> 1
            c)

    /// The CRC-32 of the bytes.
    let compute (bytes: ReadOnlySpan<byte>) : uint32 =
        let mutable crc = 0xFFFFFFFFu
        for b in bytes do
            crc <- table.[int ((crc ^^^ uint32 b) &&& 0xFFu)] ^^^ (crc >>> 8)
        crc ^^^ 0xFFFFFFFFu
