namespace FunctionalBackprop.Core

#nowarn "9" // The panels' pointer.

open System
open Microsoft.FSharp.NativeInterop

/// Which operand of C ← α·op(A)·op(B) + β·C a packed operand is.
type internal Side =
    /// op(A), m × k: cut into row panels.
    | Left = 0
    /// op(B), k × n: cut into column panels.
    | Right = 1

/// An operand packed whole, once, for many products: op(A) or op(B) in the panels the loops would
/// pack it in, block by block (see Packing), with every kc-deep slice of every panel in one
/// buffer. The panels are for this process's blocking of 'T (the vector width and block sizes do
/// not change while it runs). A product reading them (ManagedKernel.gemmPacked) skips that
/// operand's packing, and any number of products, on any threads, may read them at once; packing
/// again into the same panels (ManagedKernel.packInto) reuses the buffer.
[<Sealed>]
type internal PackedPanels<'T when 'T: unmanaged>(side: Side, rows: int, cols: int, blocking: Blocking) =
    do
        if rows < 1 || cols < 1 then
            raise (ArgumentOutOfRangeException("rows", $"A packed operand has at least one row and one column ({rows} × {cols})."))
    let step = if side = Side.Left then blocking.MR else blocking.NR
    let across = if side = Side.Left then rows else cols
    let depth = if side = Side.Left then cols else rows
    let buffer = AlignedBuffer<'T>(depth * ((across + step - 1) / step * step))

    /// Which operand the panels are.
    member _.Side = side

    /// The rows of op(A) or op(B).
    member _.Rows = rows

    /// The columns of op(A) or op(B).
    member _.Cols = cols

    /// The blocking the panels were laid out for.
    member _.Blocking = blocking

    /// The panels.
    member _.Pointer: nativeptr<'T> = buffer.Pointer
