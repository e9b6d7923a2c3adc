namespace FunctionalBackprop.Core

#nowarn "9" // The address of the pinned array's aligned run.

open System
open System.Runtime.InteropServices
open Microsoft.FSharp.NativeInterop

/// A pinned array with a 64-byte aligned run of elements inside it (a cache line, and AVX-512's
/// vector), grown when a larger run is asked for and otherwise kept: the packed panels of one
/// thread's products, which therefore allocate only when a product is larger than any before.
[<Sealed; AllowNullLiteral>]
type internal AlignedBuffer<'T when 'T: unmanaged>(length: int) =
    let extra = 64 / sizeof<'T>
    let array = GC.AllocateUninitializedArray<'T>(length + extra, pinned = true)
    let first = Marshal.UnsafeAddrOfPinnedArrayElement(array, 0)
    let start = int ((64n - first % 64n) % 64n) / sizeof<'T>

    /// How many elements the aligned run holds.
    member _.Length = length

    /// The array itself: held here so that the collector keeps it as long as the buffer.
    member _.Storage: 'T[] = array

    /// The first element of the aligned run (the array is pinned: the address never changes).
    member _.Pointer: nativeptr<'T> = NativePtr.add (NativePtr.ofNativeInt<'T> first) start

    /// The buffer if it holds `length` elements, else a new one that does (the old one is left to
    /// the collector).
    static member AtLeast(buffer: AlignedBuffer<'T>, length: int) : AlignedBuffer<'T> =
        if not (isNull buffer) && buffer.Length >= length then buffer
        else AlignedBuffer<'T>(max length (if isNull buffer then 0 else buffer.Length))

/// One thread's buffers for packed blocks, kept from product to product.
type internal Scratch<'T when 'T: unmanaged>() =
    [<ThreadStatic; DefaultValue>]
    static val mutable private a: AlignedBuffer<'T>

    [<ThreadStatic; DefaultValue>]
    static val mutable private b: AlignedBuffer<'T>

    /// This thread's buffer for op(A)'s packed blocks, at least `length` long.
    static member A(length: int) =
        Scratch<'T>.a <- AlignedBuffer.AtLeast(Scratch<'T>.a, length)
        Scratch<'T>.a.Pointer

    /// This thread's buffer for op(B)'s packed blocks, at least `length` long.
    static member B(length: int) =
        Scratch<'T>.b <- AlignedBuffer.AtLeast(Scratch<'T>.b, length)
        Scratch<'T>.b.Pointer
