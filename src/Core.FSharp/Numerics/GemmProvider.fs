namespace FunctionalBackprop.Core

open System
open System.Numerics

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

