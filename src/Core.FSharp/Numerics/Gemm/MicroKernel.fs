namespace FunctionalBackprop.Core

#nowarn "9" // Pointer arithmetic over pinned panels and arrays.

open System
open System.Numerics
open System.Runtime.Intrinsics.X86
open Microsoft.FSharp.NativeInterop

/// The register tile: the innermost loop of the product, where all its multiply-adds happen.
///
/// A tile of C, R vectors tall (R·W rows, W lanes per vector) and N columns wide, lives in R·N
/// vector registers for a whole run of kc steps:
///   tileᵢⱼ = Σₚ Ãᵢₚ·B̃ₚⱼ,   p = 0 … kc − 1,
/// each step loading R vectors of Ã's column p, broadcasting N entries of B̃'s row p, and doing
/// R·N fused multiply-adds. Only at the end does the tile meet C in memory:
///   C ← α·tile + β·C, and with β = 0 C is not read (BLAS's rule: whatever C held, NaN too, is
///   overwritten).
/// Every entry's sum runs over p in order, one multiply-add per step in its own lane, so an entry
/// gets the same bits in any tile, at any place in C, and on any thread.
///
/// R ≤ 2 and N ≤ 12: 24 accumulators and three working registers fit the 32 vector registers of
/// AVX-512 and NEON; 2 × 6 fits the 16 of AVX2 and SSE. The shape is a type parameter (ICount), so
/// the JIT compiles each shape with exactly its own registers: the accumulators and steps of a
/// smaller tile are removed, not branched over.
module internal MicroKernel =

    /// C ← α·acc + β·C for the first `count` lanes of a vector of C at p (β = 0: C ← α·acc, C
    /// unread). A partial vector (count < Width, at the tile's bottom edge) is loaded and stored
    /// masked, and computed as a whole one.
    let inline private put<'S, 'V, 'T when 'S :> ISimd<'V, 'T> and 'T: unmanaged>
        (betaZero: bool) (alpha: 'V) (beta: 'V) (acc: 'V) (p: nativeptr<'T>) (count: int) =
        let scaled = 'S.Multiply(alpha, acc)
        let at = NativePtr.toVoidPtr p
        if count = 'S.Width then
            if betaZero then 'S.Store(scaled, at) else 'S.Store('S.MulAdd(beta, 'S.Load at, scaled), at)
        elif betaZero then 'S.StoreFirst(scaled, at, count)
        else 'S.StoreFirst('S.MulAdd(beta, 'S.LoadFirst(at, count), scaled), at, count)

    /// B̃'s entry in column j of the row at pb: j entries on (U Adjacent), or j columns on, reached
    /// from the columns 0, 4 and 8 (pb, b4, b8) and offsets of 1, 2 and 3 columns (ld, 2·ld,
    /// ld3 bytes), which x64 addresses in the load itself: no arithmetic per entry in the loop.
    let inline private entry<'U, 'T when 'U :> IColumnStep and 'T: unmanaged>
        (pb: nativeptr<'T>) (j: int) (ld: nativeint) (ld3: nativeint) (b4: nativeint) (b8: nativeint) : 'T =
        if 'U.Adjacent then NativePtr.get pb j
        else
            let first = if j < 4 then NativePtr.toNativeInt pb elif j < 8 then b4 else b8
            let address =
                match j % 4 with
                | 0 -> first
                | 1 -> first + ld
                | 2 -> first + 2n * ld
                | _ -> first + ld3
            NativePtr.read (NativePtr.ofNativeInt<'T> address)

    /// C ← α·Ã·B̃ + β·C on the first `rows` rows (more than (R − 1)·W, at most R·W) of an R·W × N
    /// tile: Ã's entry (i, p) at a + p·aStride + i, B̃'s (p, j) at b + p·bStride + j·bColumns
    /// (bColumns = 1 when U is Adjacent), C's (i, j) at c + j·ldc + i. A packed panel has
    /// aStride = R·W, or bStride = N and bColumns = 1; an operand read where it lies has its own
    /// strides. Ã's rows past `rows` are read (zeros of a packed panel) but not stored.
    [<HotPath>]
    let tile<'S, 'R, 'N, 'U, 'V, 'T
        when 'S :> ISimd<'V, 'T> and 'R :> ICount and 'N :> ICount and 'U :> IColumnStep and 'T: unmanaged and 'T :> IFloatingPointIeee754<'T>>
        (kc: int) (a: nativeptr<'T>) (aStride: int) (b: nativeptr<'T>) (bStride: int) (bColumns: int)
        (c: nativeptr<'T>) (ldc: int) (rows: int) (alpha: 'T) (beta: 'T) : unit =
        let w = 'S.Width
        let vectors = 'R.Value
        let cols = 'N.Value
        let mutable c00 = 'S.Zero
        let mutable c10 = 'S.Zero
        let mutable c01 = 'S.Zero
        let mutable c11 = 'S.Zero
        let mutable c02 = 'S.Zero
        let mutable c12 = 'S.Zero
        let mutable c03 = 'S.Zero
        let mutable c13 = 'S.Zero
        let mutable c04 = 'S.Zero
        let mutable c14 = 'S.Zero
        let mutable c05 = 'S.Zero
        let mutable c15 = 'S.Zero
        let mutable c06 = 'S.Zero
        let mutable c16 = 'S.Zero
        let mutable c07 = 'S.Zero
        let mutable c17 = 'S.Zero
        let mutable c08 = 'S.Zero
        let mutable c18 = 'S.Zero
        let mutable c09 = 'S.Zero
        let mutable c19 = 'S.Zero
        let mutable c0a = 'S.Zero
        let mutable c1a = 'S.Zero
        let mutable c0b = 'S.Zero
        let mutable c1b = 'S.Zero
        // C's tile is met only at the end, often in lines no cache holds (its columns lie ldc
        // apart): their loads start now, under the multiply-adds, when there are enough of those
        // to hide them (for a short run the prefetches only cost).
        if Sse.IsSupported && kc >= 128 then
            for j in 0 .. cols - 1 do
                let column = NativePtr.add c (j * ldc)
                Sse.Prefetch0(NativePtr.toVoidPtr column)
                Sse.Prefetch0(NativePtr.toVoidPtr (NativePtr.add column (rows - 1)))
        let ld = nativeint bColumns * nativeint sizeof<'T>
        let ld3, ld4, ld8 = 3n * ld, 4n * ld, 8n * ld
        let mutable pa = a
        let mutable pb = b
        for _ in 1 .. kc do
            let b4, b8 = (if 'U.Adjacent then 0n else NativePtr.toNativeInt pb + ld4), (if 'U.Adjacent then 0n else NativePtr.toNativeInt pb + ld8)
            let a0 = 'S.Load(NativePtr.toVoidPtr pa)
            let a1 = if vectors > 1 then 'S.Load(NativePtr.toVoidPtr (NativePtr.add pa w)) else 'S.Zero
            do
                let s = 'S.Splat(entry<'U, 'T> pb 0 ld ld3 b4 b8)
                c00 <- 'S.MulAdd(a0, s, c00)
                if vectors > 1 then c10 <- 'S.MulAdd(a1, s, c10)
            if cols > 1 then
                let s = 'S.Splat(entry<'U, 'T> pb 1 ld ld3 b4 b8)
                c01 <- 'S.MulAdd(a0, s, c01)
                if vectors > 1 then c11 <- 'S.MulAdd(a1, s, c11)
            if cols > 2 then
                let s = 'S.Splat(entry<'U, 'T> pb 2 ld ld3 b4 b8)
                c02 <- 'S.MulAdd(a0, s, c02)
                if vectors > 1 then c12 <- 'S.MulAdd(a1, s, c12)
            if cols > 3 then
                let s = 'S.Splat(entry<'U, 'T> pb 3 ld ld3 b4 b8)
                c03 <- 'S.MulAdd(a0, s, c03)
                if vectors > 1 then c13 <- 'S.MulAdd(a1, s, c13)
            if cols > 4 then
                let s = 'S.Splat(entry<'U, 'T> pb 4 ld ld3 b4 b8)
                c04 <- 'S.MulAdd(a0, s, c04)
                if vectors > 1 then c14 <- 'S.MulAdd(a1, s, c14)
            if cols > 5 then
                let s = 'S.Splat(entry<'U, 'T> pb 5 ld ld3 b4 b8)
                c05 <- 'S.MulAdd(a0, s, c05)
                if vectors > 1 then c15 <- 'S.MulAdd(a1, s, c15)
            if cols > 6 then
                let s = 'S.Splat(entry<'U, 'T> pb 6 ld ld3 b4 b8)
                c06 <- 'S.MulAdd(a0, s, c06)
                if vectors > 1 then c16 <- 'S.MulAdd(a1, s, c16)
            if cols > 7 then
                let s = 'S.Splat(entry<'U, 'T> pb 7 ld ld3 b4 b8)
                c07 <- 'S.MulAdd(a0, s, c07)
                if vectors > 1 then c17 <- 'S.MulAdd(a1, s, c17)
            if cols > 8 then
                let s = 'S.Splat(entry<'U, 'T> pb 8 ld ld3 b4 b8)
                c08 <- 'S.MulAdd(a0, s, c08)
                if vectors > 1 then c18 <- 'S.MulAdd(a1, s, c18)
            if cols > 9 then
                let s = 'S.Splat(entry<'U, 'T> pb 9 ld ld3 b4 b8)
                c09 <- 'S.MulAdd(a0, s, c09)
                if vectors > 1 then c19 <- 'S.MulAdd(a1, s, c19)
            if cols > 10 then
                let s = 'S.Splat(entry<'U, 'T> pb 10 ld ld3 b4 b8)
                c0a <- 'S.MulAdd(a0, s, c0a)
                if vectors > 1 then c1a <- 'S.MulAdd(a1, s, c1a)
            if cols > 11 then
                let s = 'S.Splat(entry<'U, 'T> pb 11 ld ld3 b4 b8)
                c0b <- 'S.MulAdd(a0, s, c0b)
                if vectors > 1 then c1b <- 'S.MulAdd(a1, s, c1b)
            pa <- NativePtr.add pa aStride
            pb <- NativePtr.add pb bStride
        let betaZero = 'T.IsZero beta
        // The lanes stored of the tile's last vector.
        let last = rows - (vectors - 1) * w
        let first = if vectors > 1 then w else last
        let va, vb = 'S.Splat alpha, 'S.Splat beta
        put<'S, 'V, 'T> betaZero va vb c00 (NativePtr.add c (0 * ldc)) first
        if vectors > 1 then put<'S, 'V, 'T> betaZero va vb c10 (NativePtr.add c (0 * ldc + w)) last
        if cols > 1 then
            put<'S, 'V, 'T> betaZero va vb c01 (NativePtr.add c (1 * ldc)) first
            if vectors > 1 then put<'S, 'V, 'T> betaZero va vb c11 (NativePtr.add c (1 * ldc + w)) last
        if cols > 2 then
            put<'S, 'V, 'T> betaZero va vb c02 (NativePtr.add c (2 * ldc)) first
            if vectors > 1 then put<'S, 'V, 'T> betaZero va vb c12 (NativePtr.add c (2 * ldc + w)) last
        if cols > 3 then
            put<'S, 'V, 'T> betaZero va vb c03 (NativePtr.add c (3 * ldc)) first
            if vectors > 1 then put<'S, 'V, 'T> betaZero va vb c13 (NativePtr.add c (3 * ldc + w)) last
        if cols > 4 then
            put<'S, 'V, 'T> betaZero va vb c04 (NativePtr.add c (4 * ldc)) first
            if vectors > 1 then put<'S, 'V, 'T> betaZero va vb c14 (NativePtr.add c (4 * ldc + w)) last
        if cols > 5 then
            put<'S, 'V, 'T> betaZero va vb c05 (NativePtr.add c (5 * ldc)) first
            if vectors > 1 then put<'S, 'V, 'T> betaZero va vb c15 (NativePtr.add c (5 * ldc + w)) last
        if cols > 6 then
            put<'S, 'V, 'T> betaZero va vb c06 (NativePtr.add c (6 * ldc)) first
            if vectors > 1 then put<'S, 'V, 'T> betaZero va vb c16 (NativePtr.add c (6 * ldc + w)) last
        if cols > 7 then
            put<'S, 'V, 'T> betaZero va vb c07 (NativePtr.add c (7 * ldc)) first
            if vectors > 1 then put<'S, 'V, 'T> betaZero va vb c17 (NativePtr.add c (7 * ldc + w)) last
        if cols > 8 then
            put<'S, 'V, 'T> betaZero va vb c08 (NativePtr.add c (8 * ldc)) first
            if vectors > 1 then put<'S, 'V, 'T> betaZero va vb c18 (NativePtr.add c (8 * ldc + w)) last
        if cols > 9 then
            put<'S, 'V, 'T> betaZero va vb c09 (NativePtr.add c (9 * ldc)) first
            if vectors > 1 then put<'S, 'V, 'T> betaZero va vb c19 (NativePtr.add c (9 * ldc + w)) last
        if cols > 10 then
            put<'S, 'V, 'T> betaZero va vb c0a (NativePtr.add c (10 * ldc)) first
            if vectors > 1 then put<'S, 'V, 'T> betaZero va vb c1a (NativePtr.add c (10 * ldc + w)) last
        if cols > 11 then
            put<'S, 'V, 'T> betaZero va vb c0b (NativePtr.add c (11 * ldc)) first
            if vectors > 1 then put<'S, 'V, 'T> betaZero va vb c1b (NativePtr.add c (11 * ldc + w)) last

    /// The tile for a column count known at run time (1 … 12), R vectors tall.
    [<HotPath>]
    let private byColumns<'S, 'R, 'U, 'V, 'T
        when 'S :> ISimd<'V, 'T> and 'R :> ICount and 'U :> IColumnStep and 'T: unmanaged and 'T :> IFloatingPointIeee754<'T>>
        (cols: int) (kc: int) (a: nativeptr<'T>) (aStride: int) (b: nativeptr<'T>) (bStride: int) (bColumns: int)
        (c: nativeptr<'T>) (ldc: int) (rows: int) (alpha: 'T) (beta: 'T) : unit =
        match cols with
        | 1 -> tile<'S, 'R, N1, 'U, 'V, 'T> kc a aStride b bStride bColumns c ldc rows alpha beta
        | 2 -> tile<'S, 'R, N2, 'U, 'V, 'T> kc a aStride b bStride bColumns c ldc rows alpha beta
        | 3 -> tile<'S, 'R, N3, 'U, 'V, 'T> kc a aStride b bStride bColumns c ldc rows alpha beta
        | 4 -> tile<'S, 'R, N4, 'U, 'V, 'T> kc a aStride b bStride bColumns c ldc rows alpha beta
        | 5 -> tile<'S, 'R, N5, 'U, 'V, 'T> kc a aStride b bStride bColumns c ldc rows alpha beta
        | 6 -> tile<'S, 'R, N6, 'U, 'V, 'T> kc a aStride b bStride bColumns c ldc rows alpha beta
        | 7 -> tile<'S, 'R, N7, 'U, 'V, 'T> kc a aStride b bStride bColumns c ldc rows alpha beta
        | 8 -> tile<'S, 'R, N8, 'U, 'V, 'T> kc a aStride b bStride bColumns c ldc rows alpha beta
        | 9 -> tile<'S, 'R, N9, 'U, 'V, 'T> kc a aStride b bStride bColumns c ldc rows alpha beta
        | 10 -> tile<'S, 'R, N10, 'U, 'V, 'T> kc a aStride b bStride bColumns c ldc rows alpha beta
        | 11 -> tile<'S, 'R, N11, 'U, 'V, 'T> kc a aStride b bStride bColumns c ldc rows alpha beta
        | 12 -> tile<'S, 'R, N12, 'U, 'V, 'T> kc a aStride b bStride bColumns c ldc rows alpha beta
        | _ -> raise (ArgumentOutOfRangeException("cols", cols, "A register tile has 1 to 12 columns."))

    /// The tile for a shape known at run time: `rows` rows (1 … 2·Width) in as many vectors as they
    /// need, `cols` columns (1 … 12), op(B)'s columns bColumns apart (1: adjacent).
    [<HotPath>]
    let run<'S, 'V, 'T when 'S :> ISimd<'V, 'T> and 'T: unmanaged and 'T :> IFloatingPointIeee754<'T>>
        (rows: int) (cols: int) (kc: int) (a: nativeptr<'T>) (aStride: int) (b: nativeptr<'T>) (bStride: int) (bColumns: int)
        (c: nativeptr<'T>) (ldc: int) (alpha: 'T) (beta: 'T) : unit =
        if bColumns = 1 then
            if rows > 'S.Width then byColumns<'S, N2, Adjacent, 'V, 'T> cols kc a aStride b bStride 1 c ldc rows alpha beta
            else byColumns<'S, N1, Adjacent, 'V, 'T> cols kc a aStride b bStride 1 c ldc rows alpha beta
        elif rows > 'S.Width then byColumns<'S, N2, Apart, 'V, 'T> cols kc a aStride b bStride bColumns c ldc rows alpha beta
        else byColumns<'S, N1, Apart, 'V, 'T> cols kc a aStride b bStride bColumns c ldc rows alpha beta
