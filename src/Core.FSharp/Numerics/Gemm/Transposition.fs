namespace FunctionalBackprop.Core

#nowarn "9" // Pointer arithmetic over pinned panels and arrays.

open System
open System.Runtime.Intrinsics
open System.Runtime.Intrinsics.Arm
open System.Runtime.Intrinsics.X86
open Microsoft.FSharp.NativeInterop

/// The transposing copy that packing needs where an operand's panel runs across its storage:
/// op(A) = Aᵀ (a row panel of op(A) is a set of A's columns) and op(B) = B (a column panel's rows
/// are spread over B's columns). Square blocks of 4 × 4 float32 or 2 × 2 float64 are transposed
/// in 128-bit registers (SSE's unpacks on x86, NEON's zips on Arm64), about four times fewer
/// instructions than element by element; what is left at the edges goes element by element.
module internal Transposition =

    /// Whether 128-bit transposes are available here.
    let private vectorised = Sse2.IsSupported || AdvSimd.Arm64.IsSupported

    /// The four rows r0 … r3 of a 4 × 4 float32 block, transposed: column q of the block into
    /// dst + q·stride.
    let inline private four (r0: Vector128<float32>) (r1: Vector128<float32>) (r2: Vector128<float32>) (r3: Vector128<float32>) (dst: nativeptr<float32>) (stride: int) =
        if Sse.IsSupported then
            let t0, t1 = Sse.UnpackLow(r0, r1), Sse.UnpackLow(r2, r3)
            let t2, t3 = Sse.UnpackHigh(r0, r1), Sse.UnpackHigh(r2, r3)
            Vector128.Store(Sse.MoveLowToHigh(t0, t1), dst)
            Vector128.Store(Sse.MoveHighToLow(t1, t0), NativePtr.add dst stride)
            Vector128.Store(Sse.MoveLowToHigh(t2, t3), NativePtr.add dst (2 * stride))
            Vector128.Store(Sse.MoveHighToLow(t3, t2), NativePtr.add dst (3 * stride))
        else
            let t0, t1 = AdvSimd.Arm64.ZipLow(r0, r1).AsDouble(), AdvSimd.Arm64.ZipLow(r2, r3).AsDouble()
            let t2, t3 = AdvSimd.Arm64.ZipHigh(r0, r1).AsDouble(), AdvSimd.Arm64.ZipHigh(r2, r3).AsDouble()
            Vector128.Store(AdvSimd.Arm64.ZipLow(t0, t1).AsSingle(), dst)
            Vector128.Store(AdvSimd.Arm64.ZipHigh(t0, t1).AsSingle(), NativePtr.add dst stride)
            Vector128.Store(AdvSimd.Arm64.ZipLow(t2, t3).AsSingle(), NativePtr.add dst (2 * stride))
            Vector128.Store(AdvSimd.Arm64.ZipHigh(t2, t3).AsSingle(), NativePtr.add dst (3 * stride))

    /// The two rows of a 2 × 2 float64 block, transposed into dst and dst + stride.
    let inline private two (r0: Vector128<float>) (r1: Vector128<float>) (dst: nativeptr<float>) (stride: int) =
        if Sse2.IsSupported then
            Vector128.Store(Sse2.UnpackLow(r0, r1), dst)
            Vector128.Store(Sse2.UnpackHigh(r0, r1), NativePtr.add dst stride)
        else
            Vector128.Store(AdvSimd.Arm64.ZipLow(r0, r1), dst)
            Vector128.Store(AdvSimd.Arm64.ZipHigh(r0, r1), NativePtr.add dst stride)

    /// dst[p·stride + l] ← src[p + l·ld] for lanes l < lanes and steps p < depth: `lanes`
    /// contiguous runs of `depth` elements, ld apart, become `depth` runs of `lanes` elements,
    /// stride apart. Steps go 64 at a time, so that the lines written stay in the first-level
    /// cache while every lane passes over them.
    [<HotPath>]
    let copy<'T when 'T: unmanaged> (src: nativeptr<'T>) (ld: int) (lanes: int) (depth: int) (dst: nativeptr<'T>) (stride: int) : unit =
        let block = if not vectorised then 1 elif Lanes.isSingle<'T> then 4 else 2
        let mutable q = 0
        while q < depth do
            let span = min 64 (depth - q)
            let mutable l = 0
            while l + block <= lanes && block > 1 do
                let mutable p = q
                while p + block <= q + span do
                    let from = NativePtr.add src (p + l * ld)
                    let into = NativePtr.add dst (p * stride + l)
                    if Lanes.isSingle<'T> then
                        let from, into = NativePtr.ofNativeInt<float32> (NativePtr.toNativeInt from), NativePtr.ofNativeInt<float32> (NativePtr.toNativeInt into)
                        four (Vector128.Load from) (Vector128.Load(NativePtr.add from ld)) (Vector128.Load(NativePtr.add from (2 * ld)))
                            (Vector128.Load(NativePtr.add from (3 * ld))) into stride
                    else
                        let from, into = NativePtr.ofNativeInt<float> (NativePtr.toNativeInt from), NativePtr.ofNativeInt<float> (NativePtr.toNativeInt into)
                        two (Vector128.Load from) (Vector128.Load(NativePtr.add from ld)) into stride
                    p <- p + block
                // The steps left over in this span, lane by lane.
                for lane in l .. l + block - 1 do
                    for s in p .. q + span - 1 do
                        NativePtr.set dst (s * stride + lane) (NativePtr.get src (s + lane * ld))
                l <- l + block
            for lane in l .. lanes - 1 do
                for s in q .. q + span - 1 do
                    NativePtr.set dst (s * stride + lane) (NativePtr.get src (s + lane * ld))
            q <- q + span
