namespace FunctionalBackprop.Core

open System
open System.Numerics
open MathNet.Numerics.Providers.LinearAlgebra
open FunctionalBackprop.Core.GenericArithmetic

/// A general matrix product C ← α·op(A)·op(B) + β·C on column-major arrays, as BLAS's
/// dgemm/sgemm define it: op(A) is m×k, op(B) is k×n, C is m×n; op(X) is X or Xᵀ; lda, ldb and
/// ldc are the row counts of the arrays as stored.
type IGemmProvider =
    /// A short name for reports ("managed", "openblas", …).
    abstract Name: string
    /// The float64 product.
    abstract Dgemm:
        transA: bool * transB: bool * m: int * n: int * k: int * alpha: float * a: float[] * lda: int *
        b: float[] * ldb: int * beta: float * c: float[] * ldc: int -> unit
    /// The float32 product.
    abstract Sgemm:
        transA: bool * transB: bool * m: int * n: int * k: int * alpha: float32 * a: float32[] * lda: int *
        b: float32[] * ldb: int * beta: float32 * c: float32[] * ldc: int -> unit

/// The library's own managed product (ManagedKernel): always available, no native library.
type ManagedGemm() =
    /// The one instance.
    static member val Instance = ManagedGemm()

    interface IGemmProvider with
        member _.Name = "managed"
        member _.Dgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) =
            ManagedKernel.gemm transA transB m n k alpha a lda b ldb beta c ldc
        member _.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) =
            ManagedKernel.gemm transA transB m n k alpha a lda b ldb beta c ldc

/// MathNet.Numerics' managed product (ManagedLinearAlgebraProvider), for comparison: fast enough
/// on large matrices, but about 8 µs of fixed cost per call.
type MathNetGemm() =
    static let provider = ManagedLinearAlgebraProvider.Instance
    static let op transpose = if transpose then Transpose.Transpose else Transpose.DontTranspose

    /// The one instance.
    static member val Instance = MathNetGemm()

    interface IGemmProvider with
        member _.Name = "mathnet"
        member _.Dgemm(transA, transB, m, n, k, alpha, a, _lda, b, _ldb, beta, c, _ldc) =
            let rowsA, colsA = if transA then k, m else m, k
            let rowsB, colsB = if transB then n, k else k, n
            (provider :> ILinearAlgebraProvider<float>)
                .MatrixMultiplyWithUpdate(op transA, op transB, alpha, a, rowsA, colsA, b, rowsB, colsB, beta, c)
        member _.Sgemm(transA, transB, m, n, k, alpha, a, _lda, b, _ldb, beta, c, _ldc) =
            let rowsA, colsA = if transA then k, m else m, k
            let rowsB, colsB = if transB then n, k else k, n
            (provider :> ILinearAlgebraProvider<float32>)
                .MatrixMultiplyWithUpdate(op transA, op transB, alpha, a, rowsA, colsA, b, rowsB, colsB, beta, c)

/// The GEMM seam: every matrix product of the forward and backward passes goes through
/// Gemm.run, so a faster provider (a native BLAS) can be put behind it without touching the math.
module Gemm =

    let mutable private current: IGemmProvider = ManagedGemm.Instance

    /// The provider every product currently goes through.
    let provider () : IGemmProvider = current

    /// Routes every later product through the given provider (process-wide, like MathNet's
    /// Control.LinearAlgebraProvider). Results differ between providers only by rounding.
    let useProvider (p: IGemmProvider) : unit =
        if isNull (box p) then nullArg "p"
        current <- p

    /// C ← α·op(A)·op(B) + β·C on whole column-major arrays (see IGemmProvider for the shapes).
    let run<'T when 'T :> IFloatingPointIeee754<'T>>
        (transA: bool) (transB: bool) (m: int) (n: int) (k: int)
        (alpha: 'T) (a: 'T[]) (b: 'T[]) (beta: 'T) (c: 'T[]) : unit =
        if m > 0 && n > 0 then
            if k = 0 then
                // An empty inner dimension contributes nothing: C ← β·C.
                for i in 0 .. m * n - 1 do
                    c.[i] <- if 'T.IsZero(beta) then 'T.Zero else beta * c.[i]
            else
                let lda = if transA then k else m
                let ldb = if transB then n else k
                if Type.op_Equality (typeof<'T>, typeof<float>) then
                    current.Dgemm(
                        transA, transB, m, n, k, Double.CreateTruncating alpha, (box a :?> float[]), lda,
                        (box b :?> float[]), ldb, Double.CreateTruncating beta, (box c :?> float[]), m)
                elif Type.op_Equality (typeof<'T>, typeof<float32>) then
                    current.Sgemm(
                        transA, transB, m, n, k, Single.CreateTruncating alpha, (box a :?> float32[]), lda,
                        (box b :?> float32[]), ldb, Single.CreateTruncating beta, (box c :?> float32[]), m)
                else
                    raise (NotSupportedException $"Matrix products are defined for float and float32, not {typeof<'T>.Name}.")
