namespace FunctionalBackprop.Core

#nowarn "9" // Pointer arithmetic over pinned panels and arrays.

open System
open System.Numerics
open Microsoft.FSharp.NativeInterop

/// Packing: copying a block of an operand into the order the register tile reads it.
///
/// op(A)'s rows are cut into panels of mr rows (the tile's height; the last panel as many vectors
/// as its rows need, its missing rows zero). A panel holds its kc columns one after the other,
/// each column's rows contiguous: entry (i, p) at p·h + i for a panel h rows tall, and panel r of
/// a block starts at r·mr·kc. op(B)'s columns are cut into panels of nr columns (the last one
/// narrower, never padded), a panel holding its kc rows one after the other: entry (p, j) at
/// p·w + j for a panel w columns wide, and the panel of column jr at jr·kc. The tile then walks
/// both panels with unit steps, whatever the operands' transposes and leading dimensions.
module internal Packing =

    /// The height of a row panel with `rows` rows left, for tiles of mr rows of w-lane vectors.
    let panelHeight (mr: int) (w: int) (rows: int) = if rows >= mr then mr else (rows + w - 1) / w * w

    /// Packs rows [i0, i0 + mc) and columns [p0, p0 + kc) of op(A) into dst, where op(A) = A
    /// (entry (i, p) at a[i + p·lda]) or Aᵀ (at a[p + i·lda]).
    [<HotPath>]
    let packA<'S, 'V, 'T when 'S :> ISimd<'V, 'T> and 'T: unmanaged and 'T :> IFloatingPointIeee754<'T>>
        (trans: bool) (a: nativeptr<'T>) (lda: int) (i0: int) (mc: int) (p0: int) (kc: int) (mr: int) (dst: nativeptr<'T>) : unit =
        let w = 'S.Width
        let mutable r = 0
        while r < mc do
            let rows = min mr (mc - r)
            let h = panelHeight mr w rows
            let panel = NativePtr.add dst (r * kc)
            if not trans then
                for p in 0 .. kc - 1 do
                    let src = NativePtr.add a ((i0 + r) + (p0 + p) * lda)
                    let out = NativePtr.add panel (p * h)
                    let mutable i = 0
                    while i + w <= rows do
                        'S.Store('S.Load(NativePtr.toVoidPtr (NativePtr.add src i)), NativePtr.toVoidPtr (NativePtr.add out i))
                        i <- i + w
                    if i < rows then
                        // The last rows, and zeros to the panel's height.
                        'S.Store('S.LoadFirst(NativePtr.toVoidPtr (NativePtr.add src i), rows - i), NativePtr.toVoidPtr (NativePtr.add out i))
            else
                // Aᵀ: the panel's rows are columns of A, contiguous along p.
                Transposition.copy (NativePtr.add a (p0 + (i0 + r) * lda)) lda rows kc panel h
                for p in 0 .. kc - 1 do
                    for i in rows .. h - 1 do
                        NativePtr.set panel (p * h + i) 'T.Zero
            r <- r + mr

    /// Packs rows [p0, p0 + kc) and columns [j0, j0 + nc) of op(B) into dst, where op(B) = B
    /// (entry (p, j) at b[p + j·ldb]) or Bᵀ (at b[j + p·ldb]).
    [<HotPath>]
    let packB<'T when 'T: unmanaged>
        (trans: bool) (b: nativeptr<'T>) (ldb: int) (p0: int) (kc: int) (j0: int) (nc: int) (nr: int) (dst: nativeptr<'T>) : unit =
        let mutable jr = 0
        while jr < nc do
            let w = min nr (nc - jr)
            let panel = NativePtr.add dst (jr * kc)
            if not trans then
                // B: the panel's columns are columns of B, contiguous along p.
                Transposition.copy (NativePtr.add b (p0 + (j0 + jr) * ldb)) ldb w kc panel w
            else
                for p in 0 .. kc - 1 do
                    let src = NativePtr.add b ((j0 + jr) + (p0 + p) * ldb)
                    let out = NativePtr.add panel (p * w)
                    for j in 0 .. w - 1 do
                        NativePtr.set out j (NativePtr.get src j)
            jr <- jr + nr
