namespace FunctionalBackprop.Core

open System
open System.Numerics
open System.Runtime.CompilerServices
open System.Runtime.InteropServices

/// C = Aᵀ·B when C is small and the inner dimension long: a convolution's weight gradient,
/// ∂C/∂w = δᵀ·cols, has one entry per filter and window entry (6 × 25 in LeNet's first layer) and
/// sums over every output position of every example (50,176 for a batch of 64). A BLAS spends such
/// a product packing its operands (measured: OpenBLAS at 3 GMAC/s on one thread); here every entry
/// is an inner product of two columns, taken in blocks of rows that stay in the second-level cache,
/// two columns of A against four of B at a time.
///
/// The sums are deterministic: each entry adds its products lane by lane in vector accumulators,
/// block after block (a product, then a sum, each rounded), then the lanes in order, then the
/// rows after the last whole vector one by one; the same arrays give the same bits run after run
/// on a machine (machines with other vector widths group the products differently, as BLAS
/// providers do).
module internal ColumnProducts =

    /// Rows per block: 2,048 rows of 31 columns (LeNet's first layer) are 254 KB in float32, in the
    /// second-level cache; the accumulators stay in the first.
    let private block = 2048

    /// The vector at x[q …] (unchecked: the loops stay inside whole vectors of the columns).
    let inline private at<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType> (x: ReadOnlySpan<'U>) (q: int) : Vector<'U> =
        Vector.LoadUnsafe(&MemoryMarshal.GetReference x, unativeint q)

    /// Adds the products of rows [start, stop) of columns i, i + 1 of A and j … j + 3 of B to
    /// their eight accumulators (a 2 × 4 tile: six loads for eight products, in registers).
    let inline private tile<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType and 'U :> IFloatingPointIeee754<'U>>
        (k: int) (m: int) (a: ReadOnlySpan<'U>) (b: ReadOnlySpan<'U>) (sums: Span<Vector<'U>>) (i: int) (j: int) (start: int) (stop: int) : unit =
        let a0 = a.Slice(i * k)
        let a1 = a.Slice((i + 1) * k)
        let b0 = b.Slice(j * k)
        let b1 = b.Slice((j + 1) * k)
        let b2 = b.Slice((j + 2) * k)
        let b3 = b.Slice((j + 3) * k)
        let mutable s00, s10, s01, s11 = sums.[i + j * m], sums.[i + 1 + j * m], sums.[i + (j + 1) * m], sums.[i + 1 + (j + 1) * m]
        let mutable s02, s12, s03, s13 = sums.[i + (j + 2) * m], sums.[i + 1 + (j + 2) * m], sums.[i + (j + 3) * m], sums.[i + 1 + (j + 3) * m]
        let mutable q = start
        while q < stop do
            let x0, x1 = at a0 q, at a1 q
            let y0, y1, y2, y3 = at b0 q, at b1 q, at b2 q, at b3 q
            s00 <- s00 + x0 * y0
            s10 <- s10 + x1 * y0
            s01 <- s01 + x0 * y1
            s11 <- s11 + x1 * y1
            s02 <- s02 + x0 * y2
            s12 <- s12 + x1 * y2
            s03 <- s03 + x0 * y3
            s13 <- s13 + x1 * y3
            q <- q + Vector<'U>.Count
        sums.[i + j * m] <- s00
        sums.[i + 1 + j * m] <- s10
        sums.[i + (j + 1) * m] <- s01
        sums.[i + 1 + (j + 1) * m] <- s11
        sums.[i + (j + 2) * m] <- s02
        sums.[i + 1 + (j + 2) * m] <- s12
        sums.[i + (j + 3) * m] <- s03
        sums.[i + 1 + (j + 3) * m] <- s13

    /// Adds the products of rows [start, stop) of column i of A and column j of B to their accumulator.
    let inline private single<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType and 'U :> IFloatingPointIeee754<'U>>
        (k: int) (m: int) (a: ReadOnlySpan<'U>) (b: ReadOnlySpan<'U>) (sums: Span<Vector<'U>>) (i: int) (j: int) (start: int) (stop: int) : unit =
        let ai = a.Slice(i * k)
        let bj = b.Slice(j * k)
        let mutable acc = sums.[i + j * m]
        let mutable q = start
        while q < stop do
            acc <- acc + at ai q * at bj q
            q <- q + Vector<'U>.Count
        sums.[i + j * m] <- acc

    [<HotPath>]
    let private productsOf<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType and 'U :> IFloatingPointIeee754<'U>>
        (k: int) (m: int) (n: int) (a: ReadOnlySpan<'U>) (b: ReadOnlySpan<'U>) (c: Span<'U>) (sums: Span<Vector<'U>>) : unit =
        let width = Vector<'U>.Count
        let whole = k - k % width
        let m2, n4 = m - m % 2, n - n % 4
        sums.Clear()
        let mutable start = 0
        while start < whole do
            let stop = Math.Min(whole, start + block)
            // whole 2 × 4 tiles, then the entries of the last rows and columns one by one
            for j in 0 .. 4 .. n4 - 1 do
                for i in 0 .. 2 .. m2 - 1 do
                    tile k m a b sums i j start stop
            for j in 0 .. n - 1 do
                for i in (if j < n4 then m2 else 0) .. m - 1 do
                    single k m a b sums i j start stop
            start <- stop
        for j in 0 .. n - 1 do
            for i in 0 .. m - 1 do
                // cᵢⱼ = the lanes' sums in order, then the last rows' products
                let acc = sums.[i + j * m]
                let mutable total = 'U.Zero
                for lane in 0 .. width - 1 do
                    total <- total + acc.[lane]
                for q in whole .. k - 1 do
                    total <- total + a.[i * k + q] * b.[j * k + q]
                c.[i + j * m] <- total

    /// Per-thread accumulators, reused (no allocation after a thread's first call of a size).
    type private Accumulators<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType>() =
        [<ThreadStatic; DefaultValue>]
        static val mutable private sums: Vector<'U>[]

        static member Get(n: int) : Span<Vector<'U>> =
            if isNull Accumulators<'U>.sums || Accumulators<'U>.sums.Length < n then Accumulators<'U>.sums <- Array.zeroCreate n
            Span(Accumulators<'U>.sums, 0, n)

    let inline private asU<'T, 'U> (s: 'T[]) : Span<'U> = MemoryMarshal.CreateSpan(&Unsafe.As<'T, 'U>(&MemoryMarshal.GetArrayDataReference s), s.Length)

    /// c (m × n, column-major) ← aᵀ·b for a of k × m and b of k × n (column-major, whole arrays).
    [<HotPath>]
    let transposeInto<'T when 'T :> IFloatingPointIeee754<'T>> (k: int) (m: int) (n: int) (a: 'T[]) (b: 'T[]) (c: 'T[]) : unit =
        if a.Length < k * m || b.Length < k * n || c.Length < m * n then
            raise (ArgumentException($"Aᵀ·B of {k}×{m} and {k}×{n} needs arrays of {k * m}, {k * n} and {m * n} values, got {a.Length}, {b.Length} and {c.Length}."))
        if Type.op_Equality (typeof<'T>, typeof<float>) then
            productsOf<float> k m n (Span<float>.op_Implicit (asU a)) (Span<float>.op_Implicit (asU b)) (asU c) (Accumulators<float>.Get(m * n))
        elif Type.op_Equality (typeof<'T>, typeof<float32>) then
            productsOf<float32> k m n (Span<float32>.op_Implicit (asU a)) (Span<float32>.op_Implicit (asU b)) (asU c) (Accumulators<float32>.Get(m * n))
        else raise (NotSupportedException($"Column products run on float and float32, not {typeof<'T>.Name}."))
