namespace FunctionalBackprop.Core

#nowarn "9" // Pointer arithmetic over pinned panels and arrays.

open System
open System.Numerics
open Microsoft.FSharp.NativeInterop

/// Where the tiles read an operand from.
type internal Source =
    /// Packed block by block into this thread's buffers, as the loops reach each block.
    | Pack = 0
    /// Where it lies, unpacked: op(A) = A, whose columns hold the tile's rows contiguously (a
    /// partial row panel is still packed); op(B) either way, its entries a leading dimension
    /// apart along its rows (B) or down its columns (Bᵀ).
    | InPlace = 1
    /// Packed beforehand, whole, in the layout the loops would have packed it in (PackedPanels).
    | Prepacked = 2

/// One product's operands: C ← α·op(A)·op(B) + β·C with op(A) m × k and op(B) k × n, as
/// pointers into pinned arrays (see IGemmProvider for the shapes), and where its tiles read
/// op(A) and op(B) from. A prepacked operand's pointer is to its panels.
[<Struct>]
type internal Operands<'T when 'T: unmanaged> =
    { TransA: bool; TransB: bool; M: int; N: int; K: int
      Alpha: 'T; A: nativeint; Lda: int; B: nativeint; Ldb: int; Beta: 'T; C: nativeint; Ldc: int
      SourceA: Source; SourceB: Source }

/// The five loops of Goto and van de Geijn (as BLIS arranges them) around the register tile:
///   for each nc-wide block of C's columns,
///     for each kc-deep slice of the inner dimension: op(B)'s kc × nc block (packed, or in place),
///       for each mc-tall block of C's rows: op(A)'s mc × kc block (packed, or in place),
///         for each nr-wide panel of op(B)'s block, for each mr-tall panel of op(A)'s block:
///           the tile, C's mr × nr piece ← α·(panel × panel) + β'·C's piece,
/// with β' = β for the first slice and 1 after, so that each entry of C is α times its sum over
/// the first kc steps plus β·C, then plus α times each later slice's sum: the same operations
/// however the rows and columns are divided among threads, and wherever the panels come from.
module internal GemmLoops =

    /// The offset of the slice from inner index p0 in a prepacked operand of `size` rows (op(A))
    /// or columns (op(B)) in panels of `step`: each slice holds every panel, padded to whole steps.
    let slice (size: int) (step: int) (p0: int) = p0 * ((size + step - 1) / step * step)

    /// C's rows [i0, i1) and columns [j0, j1) of the product, on this thread. i0 is a multiple of
    /// mr and j0 of nr, so that the tiles are where a single thread would put them.
    [<HotPath>]
    let run<'S, 'V, 'T when 'S :> ISimd<'V, 'T> and 'T: unmanaged and 'T :> IFloatingPointIeee754<'T>>
        (blocking: Blocking) (o: Operands<'T>) (i0: int) (i1: int) (j0: int) (j1: int) : unit =
        let { Width = w; MR = mr; NR = nr; KC = kcMax; MC = mcMax; NC = ncMax } = blocking
        let a, b, c = NativePtr.ofNativeInt<'T> o.A, NativePtr.ofNativeInt<'T> o.B, NativePtr.ofNativeInt<'T> o.C
        let kcTop = min kcMax o.K
        let bBuffer =
            if o.SourceB = Source.Pack then Scratch<'T>.B(kcTop * ((min ncMax (j1 - j0) + nr - 1) / nr * nr))
            else NativePtr.nullPtr
        let aBuffer =
            match o.SourceA with
            | Source.Pack -> Scratch<'T>.A(kcTop * ((min mcMax (i1 - i0) + mr - 1) / mr * mr))
            | Source.InPlace -> Scratch<'T>.A(kcTop * mr)
            | _ -> NativePtr.nullPtr
        let mutable jc = j0
        while jc < j1 do
            let nc = min ncMax (j1 - jc)
            let mutable pc = 0
            while pc < o.K do
                let kc = min kcMax (o.K - pc)
                // op(B)'s block: packed panels, the operand itself, or its prepacked slice.
                let bBlock =
                    match o.SourceB with
                    | Source.Pack ->
                        Packing.packB o.TransB b o.Ldb pc kc jc nc nr bBuffer
                        bBuffer
                    | Source.InPlace -> if o.TransB then NativePtr.add b (jc + pc * o.Ldb) else NativePtr.add b (pc + jc * o.Ldb)
                    | _ -> NativePtr.add b (slice o.N nr pc + jc * kc)
                let bInPlace = o.SourceB = Source.InPlace
                let beta = if pc = 0 then o.Beta else 'T.One
                let mutable ic = i0
                while ic < i1 do
                    let mc = min mcMax (i1 - ic)
                    let aBlock =
                        match o.SourceA with
                        | Source.Pack ->
                            Packing.packA<'S, 'V, 'T> o.TransA a o.Lda ic mc pc kc mr aBuffer
                            aBuffer
                        | Source.InPlace ->
                            // Only a partial last panel is packed (its rows end before a vector does).
                            let full = mc / mr * mr
                            if full < mc then Packing.packA<'S, 'V, 'T> false a o.Lda (ic + full) (mc - full) pc kc mr aBuffer
                            NativePtr.add a (ic + pc * o.Lda)
                        | _ -> NativePtr.add a (slice o.M mr pc + ic * kc)
                    let aInPlace = o.SourceA = Source.InPlace
                    let mutable jr = 0
                    while jr < nc do
                        let cols = min nr (nc - jr)
                        let bPanel, bStride, bColumns =
                            if not bInPlace then NativePtr.add bBlock (jr * kc), cols, 1
                            elif o.TransB then NativePtr.add bBlock jr, o.Ldb, 1
                            else NativePtr.add bBlock (jr * o.Ldb), 1, o.Ldb
                        let mutable ir = 0
                        while ir < mc do
                            let rows = min mr (mc - ir)
                            let aPanel, aStride =
                                if aInPlace && rows = mr then NativePtr.add aBlock ir, o.Lda
                                elif aInPlace then aBuffer, Packing.panelHeight mr w rows
                                else NativePtr.add aBlock (ir * kc), Packing.panelHeight mr w rows
                            let cTile = NativePtr.add c ((ic + ir) + (jc + jr) * o.Ldc)
                            MicroKernel.run<'S, 'V, 'T> rows cols kc aPanel aStride bPanel bStride bColumns cTile o.Ldc o.Alpha beta
                            ir <- ir + mr
                        jr <- jr + nr
                    ic <- ic + mcMax
                pc <- pc + kcMax
            jc <- jc + ncMax
