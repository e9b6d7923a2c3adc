namespace FunctionalBackprop.Core

#nowarn "9" // Pointers into the pinned operands.

open System
open System.Numerics
open System.Runtime.Intrinsics
open System.Runtime.Intrinsics.X86
open System.Runtime.Intrinsics.Arm
open Microsoft.FSharp.NativeInterop

/// The vectors the managed kernel runs on, chosen once from what the processor (and the runtime's
/// settings, such as DOTNET_EnableAVX512=0) allows.
type internal VectorBits =
    /// Vector512 (AVX-512).
    | Bits512
    /// Vector256 (AVX2).
    | Bits256
    /// Vector128 (SSE, NEON).
    | Bits128
    /// Scalars (no hardware intrinsics).
    | Bits0

/// A product's C divided among threads: part t of Parts computes a band of whole tiles, of rows
/// (SplitRows) or of columns.
[<Sealed>]
type internal ProductJob<'S, 'V, 'T when 'S :> ISimd<'V, 'T> and 'T: unmanaged and 'T :> IFloatingPointIeee754<'T>>() =
    inherit ParallelWork()

    /// The product's block sizes.
    member val Blocking = Unchecked.defaultof<Blocking> with get, set

    /// The product.
    member val Operands = Unchecked.defaultof<Operands<'T>> with get, set

    /// Whether the parts are bands of C's rows (else of its columns).
    member val SplitRows = false with get, set

    /// How many parts.
    member val Parts = 1 with get, set

    /// The first row (SplitRows) or column of part t: whole tiles, as evenly as they go.
    member this.Bound(t: int) =
        let o = this.Operands
        let size, step = if this.SplitRows then o.M, this.Blocking.MR else o.N, this.Blocking.NR
        let tiles = (size + step - 1) / step
        min size (int (int64 tiles * int64 t / int64 this.Parts) * step)

    /// Computes part `part`'s band of C.
    [<HotPath>]
    override this.Run(part: int) =
        let o = this.Operands
        let first, last = this.Bound part, this.Bound(part + 1)
        if first < last then
            if this.SplitRows then GemmLoops.run<'S, 'V, 'T> this.Blocking o first last 0 o.N
            else GemmLoops.run<'S, 'V, 'T> this.Blocking o 0 o.M first last

/// The products of one vector type: one job, reused by every threaded product (the threads run
/// one product at a time).
type internal Engine<'S, 'V, 'T when 'S :> ISimd<'V, 'T> and 'T: unmanaged and 'T :> IFloatingPointIeee754<'T>>() =
    static let job = ProductJob<'S, 'V, 'T>()

    /// The product on up to `threads` threads (1: on this one). C's rows are divided among them
    /// when they make at least two bands of tiles per thread: each thread then packs only its own
    /// rows of op(A), and op(B), read in place or packed per thread, is shared. Otherwise C's
    /// columns are, when they make more bands (each thread then packs all of op(A)).
    [<HotPath>]
    static member Run(blocking: Blocking, o: Operands<'T>, threads: int) =
        let rowTiles = (o.M + blocking.MR - 1) / blocking.MR
        let columnTiles = (o.N + blocking.NR - 1) / blocking.NR
        let splitRows = rowTiles >= 2 * threads || rowTiles >= columnTiles
        let parts = min threads (if splitRows then rowTiles else columnTiles)
        if parts <= 1 then GemmLoops.run<'S, 'V, 'T> blocking o 0 o.M 0 o.N
        else
            GemmThreads.enter ()
            try
                job.Blocking <- blocking
                job.Operands <- o
                job.SplitRows <- splitRows
                job.Parts <- parts
                GemmThreads.run job parts
            finally
                GemmThreads.exit ()

    /// Packs op(X) whole into the panels.
    [<HotPath>]
    static member Pack(panels: PackedPanels<'T>, trans: bool, x: nativeptr<'T>, ld: int) =
        let b = panels.Blocking
        let mutable pc = 0
        let depth = if panels.Side = Side.Left then panels.Cols else panels.Rows
        while pc < depth do
            let kc = min b.KC (depth - pc)
            if panels.Side = Side.Left then
                Packing.packA<'S, 'V, 'T> trans x ld 0 panels.Rows pc kc b.MR (NativePtr.add panels.Pointer (GemmLoops.slice panels.Rows b.MR pc))
            else Packing.packB trans x ld pc kc 0 panels.Cols b.NR (NativePtr.add panels.Pointer (GemmLoops.slice panels.Cols b.NR pc))
            pc <- pc + b.KC

/// The library's own managed matrix product, C ← α·op(A)·op(B) + β·C on column-major arrays, in
/// the structure of BLIS (GemmLoops around MicroKernel.tile) on the widest vectors the processor
/// has. Large products are divided among threads by bands of C's rows or columns, never of the
/// inner dimension, so a result has the same bits on any number of threads.
module internal ManagedKernel =

    /// The widest vectors available: Vector512 wherever AVX-512 is (even where .NET prefers 256
    /// bits for general code: a product's throughput doubles with the width), then 256, 128, none.
    let bits =
        if Avx512F.IsSupported then Bits512
        elif Vector256.IsHardwareAccelerated then Bits256
        elif Vector128.IsHardwareAccelerated then Bits128
        else Bits0

    /// The tile's columns: 12 with 32 vector registers (AVX-512, Arm64), 6 with 16 (AVX2, SSE):
    /// 2 × 12 or 2 × 6 accumulators and three working registers.
    let private columns = if Avx512F.IsSupported || AdvSimd.Arm64.IsSupported then 12 else 6

    /// The block sizes for 'T on this processor.
    let blocking<'T when 'T: unmanaged> () : Blocking =
        let bytes = sizeof<'T>
        let width =
            match bits with
            | Bits512 -> 64 / bytes
            | Bits256 -> 32 / bytes
            | Bits128 -> 16 / bytes
            | Bits0 -> 1
        Blockings.derive (Caches.sizes.Force()) width columns bytes

    /// The blocking of 'T, derived once.
    type internal BlockingOf<'T when 'T: unmanaged>() =
        static member val Value = blocking<'T> ()

    /// The most threads a product uses (at most the processor count).
    let mutable maxThreads = GemmThreads.available

    /// The multiply-adds (m·n·k) from which a product uses more than one thread.
    let mutable threadingThreshold = 1L <<< 21

    [<HotPath>]
    let private threadsFor (m: int) (n: int) (k: int) =
        if maxThreads > 1 && not GemmScope.SingleThreaded && int64 m * int64 n * int64 k >= threadingThreshold then
            min maxThreads GemmThreads.available
        else 1

    [<HotPath>]
    let private check (name: string) (length: int) (rows: int) (cols: int) (ld: int) =
        if ld < max 1 rows then
            raise (ArgumentOutOfRangeException($"ld{name}", ld, $"The leading dimension of {name} must be at least its {rows} rows."))
        if cols > 0 && rows > 0 && int64 ld * int64 (cols - 1) + int64 rows > int64 length then
            raise (ArgumentException($"{name} holds {length} elements, fewer than a {rows} × {cols} matrix with leading dimension {ld} needs.", name))

    /// C ← β·C (β = 0: C ← 0, whatever it held).
    [<HotPath>]
    let private scale<'T when 'T :> IFloatingPointIeee754<'T>> (m: int) (n: int) (beta: 'T) (c: 'T[]) (ldc: int) =
        for j in 0 .. n - 1 do
            let column = Span<'T>(c, j * ldc, m)
            if 'T.IsZero beta then column.Clear()
            else
                for i in 0 .. m - 1 do column.[i] <- 'T.op_Multiply (beta, column.[i])

    [<HotPath>]
    let private dispatch<'T when 'T: unmanaged and 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType and 'T :> IFloatingPointIeee754<'T>>
        (o: Operands<'T>) =
        let blocking = BlockingOf<'T>.Value
        let threads = threadsFor o.M o.N o.K
        match bits with
        | Bits512 -> Engine<Lanes512<'T>, Vector512<'T>, 'T>.Run(blocking, o, threads)
        | Bits256 -> Engine<Lanes256<'T>, Vector256<'T>, 'T>.Run(blocking, o, threads)
        | Bits128 -> Engine<Lanes128<'T>, Vector128<'T>, 'T>.Run(blocking, o, threads)
        | Bits0 -> Engine<Lanes1<'T>, 'T, 'T>.Run(blocking, o, threads)

    /// Where the tiles read op(A) and op(B) from for a product of this shape (measured on AVX-512,
    /// one thread, every transpose, the shapes of W1 to W5; see docs/performance.md).
    /// op(B) in place always: packing B means a transposing copy, which cost more than reading its
    /// columns where they lie in every shape measured, small or large (W5 2048² float32: 96 % of
    /// OpenBLAS in place, 87 % packed). op(A) = A in place when C has at most 16·nr columns, so
    /// that each panel of A is read 16 times at most (a forward pass's weights against a
    /// mini-batch: 784 × 100 by 16 columns took 15.6 µs in place, 20.3 packed; 1024 × 1024 by
    /// 128 columns, 1.11 ms against 1.17); packed for wider products, whose tiles read each panel
    /// many times (1024 × 784 by 1024 columns: up to 3 % slower in place).
    [<HotPath>]
    let sources (transA: bool) (_transB: bool) (_m: int) (n: int) (_k: int) : struct (Source * Source) =
        let a = if not transA && n <= 16 * BlockingOf<float>.Value.NR then Source.InPlace else Source.Pack
        struct (a, Source.InPlace)

    /// C ← α·op(A)·op(B) + β·C (see IGemmProvider for the shapes), the tiles reading op(A) from
    /// sourceA (Source.InPlace only where op(A) = A; packed otherwise) and op(B) from sourceB
    /// (Source.Pack or Source.InPlace). Every choice of sources gives the same bits.
    [<HotPath>]
    let gemmFrom<'T when 'T: unmanaged and 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType and 'T :> IFloatingPointIeee754<'T>>
        (sourceA: Source) (sourceB: Source) (transA: bool) (transB: bool) (m: int) (n: int) (k: int)
        (alpha: 'T) (a: 'T[]) (lda: int) (b: 'T[]) (ldb: int) (beta: 'T) (c: 'T[]) (ldc: int) : unit =
        if m < 0 || n < 0 || k < 0 then raise (ArgumentOutOfRangeException("m", $"The dimensions must not be negative (m = {m}, n = {n}, k = {k})."))
        check "C" c.Length m n ldc
        if m > 0 && n > 0 then
            if k = 0 || 'T.IsZero alpha then scale m n beta c ldc
            else
                if transA then check "A" a.Length k m lda else check "A" a.Length m k lda
                if transB then check "B" b.Length n k ldb else check "B" b.Length k n ldb
                use pa = fixed a
                use pb = fixed b
                use pc = fixed c
                dispatch
                    { TransA = transA; TransB = transB; M = m; N = n; K = k; Alpha = alpha
                      A = NativePtr.toNativeInt pa; Lda = lda; B = NativePtr.toNativeInt pb; Ldb = ldb
                      Beta = beta; C = NativePtr.toNativeInt pc; Ldc = ldc
                      SourceA = (if sourceA = Source.InPlace && not transA then Source.InPlace else Source.Pack)
                      SourceB = (if sourceB = Source.InPlace then Source.InPlace else Source.Pack) }

    /// C ← α·op(A)·op(B) + β·C (see IGemmProvider for the shapes), each operand read where the
    /// rule `sources` says.
    [<HotPath>]
    let gemm<'T when 'T: unmanaged and 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType and 'T :> IFloatingPointIeee754<'T>>
        (transA: bool) (transB: bool) (m: int) (n: int) (k: int)
        (alpha: 'T) (a: 'T[]) (lda: int) (b: 'T[]) (ldb: int) (beta: 'T) (c: 'T[]) (ldc: int) : unit =
        let struct (sourceA, sourceB) = sources transA transB m n k
        gemmFrom sourceA sourceB transA transB m n k alpha a lda b ldb beta c ldc

    /// Empty panels for op(A) (Side.Left, rows × cols = m × k) or op(B) (Side.Right, k × n).
    let panels<'T when 'T: unmanaged> (side: Side) (rows: int) (cols: int) : PackedPanels<'T> =
        PackedPanels<'T>(side, rows, cols, BlockingOf<'T>.Value)

    /// Packs op(X) into the panels, where op(X) = X, stored with leading dimension ld, or Xᵀ
    /// (trans), with the panels' rows and columns.
    [<HotPath>]
    let packInto<'T when 'T: unmanaged and 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType and 'T :> IFloatingPointIeee754<'T>>
        (panels: PackedPanels<'T>) (trans: bool) (x: 'T[]) (ld: int) : unit =
        if trans then check "X" x.Length panels.Cols panels.Rows ld else check "X" x.Length panels.Rows panels.Cols ld
        use px = fixed x
        match bits with
        | Bits512 -> Engine<Lanes512<'T>, Vector512<'T>, 'T>.Pack(panels, trans, px, ld)
        | Bits256 -> Engine<Lanes256<'T>, Vector256<'T>, 'T>.Pack(panels, trans, px, ld)
        | Bits128 -> Engine<Lanes128<'T>, Vector128<'T>, 'T>.Pack(panels, trans, px, ld)
        | Bits0 -> Engine<Lanes1<'T>, 'T, 'T>.Pack(panels, trans, px, ld)

    /// C ← α·P·op(B) + β·C when P is packed op(A) (Side.Left; `trans` and `x` are then op(B)'s),
    /// or C ← α·op(A)·P + β·C when P is packed op(B) (Side.Right; `trans` and `x` are op(A)'s):
    /// the same bits as gemm on the operand P was packed from.
    [<HotPath>]
    let gemmPacked<'T when 'T: unmanaged and 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType and 'T :> IFloatingPointIeee754<'T>>
        (panels: PackedPanels<'T>) (trans: bool) (size: int) (alpha: 'T) (x: 'T[]) (ld: int) (beta: 'T) (c: 'T[]) (ldc: int) : unit =
        let left = panels.Side = Side.Left
        let m, n, k = (if left then panels.Rows else size), (if left then size else panels.Cols), (if left then panels.Cols else panels.Rows)
        check "C" c.Length m n ldc
        if left then
            (if trans then check "B" x.Length n k ld else check "B" x.Length k n ld)
        else
            (if trans then check "A" x.Length k m ld else check "A" x.Length m k ld)
        if m > 0 && n > 0 then
            if 'T.IsZero alpha then scale m n beta c ldc
            else
                use px = fixed x
                use pc = fixed c
                let packed, other = NativePtr.toNativeInt panels.Pointer, NativePtr.toNativeInt px
                let struct (sourceA, sourceB) = sources (if left then false else trans) (if left then trans else false) m n k
                dispatch
                    { TransA = (not left && trans); TransB = (left && trans); M = m; N = n; K = k; Alpha = alpha
                      A = (if left then packed else other); Lda = (if left then 0 else ld)
                      B = (if left then other else packed); Ldb = (if left then ld else 0)
                      Beta = beta; C = NativePtr.toNativeInt pc; Ldc = ldc
                      SourceA = (if left then Source.Prepacked else sourceA); SourceB = (if left then sourceB else Source.Prepacked) }
