namespace FunctionalBackprop.Core

open System
open System.Numerics
open System.Numerics.Tensors
open FunctionalBackprop.Core.GenericArithmetic

/// The library's own managed matrix product: C ← α·op(A)·op(B) + β·C on column-major arrays, in
/// plain .NET with SIMD (Vector&lt;T&gt;), no native code and no allocation on the common paths.
///
/// op(A) = A: each column of C gains a combination of A's columns, four at a time
///   C[:, j] += α Σₚ A[:, p]·op(B)[p, j],
/// which reads A's columns contiguously and keeps C's column in cache.
/// op(A) = Aᵀ: each entry is a dot product of two contiguous columns,
///   C[i, j] += α A[:, i]·op(B)[:, j].
/// It has none of the fixed cost a general library pays per call (MathNet's managed product
/// spends about 8 µs on a 10×10×8 product), which is what small layers and mini-batches need.
module internal ManagedKernel =

    let private scaleC<'T when 'T :> IFloatingPointIeee754<'T>> (beta: 'T) (m: int) (n: int) (c: 'T[]) =
        if 'T.IsZero(beta) then Array.Clear(c, 0, m * n)
        elif not ('T.op_Equality (beta, 'T.One)) then
            TensorPrimitives.Multiply(ReadOnlySpan(c, 0, m * n), beta, Span(c, 0, m * n))

    /// c[offset .. offset+len) += s0·a0 + s1·a1 + s2·a2 + s3·a3 for four columns of A.
    let inline private axpy4<'T when 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType and 'T :> IFloatingPointIeee754<'T>>
        (c: 'T[]) (cOffset: int) (a: 'T[]) (a0: int) (a1: int) (a2: int) (a3: int) (len: int)
        (s0: 'T) (s1: 'T) (s2: 'T) (s3: 'T) =
        let width = Vector<'T>.Count
        let v0, v1, v2, v3 = Vector<'T>(s0), Vector<'T>(s1), Vector<'T>(s2), Vector<'T>(s3)
        let mutable i = 0
        while i + width <= len do
            let acc =
                Vector.Add(
                    Vector.Add(Vector.Multiply(Vector<'T>(a, a0 + i), v0), Vector.Multiply(Vector<'T>(a, a1 + i), v1)),
                    Vector.Add(Vector.Multiply(Vector<'T>(a, a2 + i), v2), Vector.Multiply(Vector<'T>(a, a3 + i), v3)))
            Vector.Add(Vector<'T>(c, cOffset + i), acc).CopyTo(c, cOffset + i)
            i <- i + width
        while i < len do
            c.[cOffset + i] <- c.[cOffset + i] + ((a.[a0 + i] * s0 + a.[a1 + i] * s1) + (a.[a2 + i] * s2 + a.[a3 + i] * s3))
            i <- i + 1

    /// c[offset .. offset+len) += s·a for one column of A.
    let inline private axpy<'T when 'T :> IFloatingPointIeee754<'T>> (c: 'T[]) (cOffset: int) (a: 'T[]) (aOffset: int) (len: int) (s: 'T) =
        let cs = Span<'T>(c, cOffset, len)
        TensorPrimitives.MultiplyAdd(ReadOnlySpan<'T>(a, aOffset, len), s, Span<'T>.op_Implicit cs, cs)

    /// C ← α·op(A)·op(B) + β·C (see the module comment for the loop orders).
    [<HotPath>]
    let gemm<'T when 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType and 'T :> IFloatingPointIeee754<'T>>
        (transA: bool) (transB: bool) (m: int) (n: int) (k: int)
        (alpha: 'T) (a: 'T[]) (lda: int) (b: 'T[]) (ldb: int) (beta: 'T) (c: 'T[]) (ldc: int) : unit =
        scaleC beta m n c
        // op(B)[p, j]
        let bAt p j = if transB then b.[j + p * ldb] else b.[p + j * ldb]
        if not transA then
            for j in 0 .. n - 1 do
                let cOffset = j * ldc
                let mutable p = 0
                while p + 4 <= k do
                    axpy4 c cOffset a (p * lda) ((p + 1) * lda) ((p + 2) * lda) ((p + 3) * lda) m
                        (alpha * bAt p j) (alpha * bAt (p + 1) j) (alpha * bAt (p + 2) j) (alpha * bAt (p + 3) j)
                    p <- p + 4
                while p < k do
                    axpy c cOffset a (p * lda) m (alpha * bAt p j)
                    p <- p + 1
        else
            // Aᵀ: dot products of A's columns with op(B)'s columns; a transposed B's row is
            // gathered once per column of C so that both operands are contiguous.
            let row = if transB then Array.zeroCreate<'T> k else Array.Empty<'T>()
            for j in 0 .. n - 1 do
                let bColumn =
                    if transB then
                        for p in 0 .. k - 1 do row.[p] <- b.[j + p * ldb]
                        ReadOnlySpan<'T>(row)
                    else ReadOnlySpan<'T>(b, j * ldb, k)
                for i in 0 .. m - 1 do
                    let d = TensorPrimitives.Dot(ReadOnlySpan<'T>(a, i * lda, k), bColumn)
                    c.[i + j * ldc] <- c.[i + j * ldc] + alpha * d

/// The library's own managed product (ManagedKernel): always available, no native library.
type ManagedGemm() =
    /// The one instance.
    static member val Instance = ManagedGemm()

    interface IGemmProvider with
        member _.Name = "managed"
        [<HotPath>]
        member _.Dgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) =
            ManagedKernel.gemm transA transB m n k alpha a lda b ldb beta c ldc
        [<HotPath>]
        member _.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) =
            ManagedKernel.gemm transA transB m n k alpha a lda b ldb beta c ldc
