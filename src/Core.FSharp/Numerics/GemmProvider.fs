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

/// What a thread's products go through, set for a block of code on one thread: a provider (for
/// tests and comparisons that run one block with one provider while other threads use another),
/// and whether its products must stay on this one thread (the shards of a data-parallel
/// mini-batch, which already keep every core busy).
type internal GemmScope() =
    [<ThreadStatic; DefaultValue>]
    static val mutable private current: IGemmProvider

    [<ThreadStatic; DefaultValue>]
    static val mutable private singleThreaded: bool

    /// The provider chosen for this thread, or null.
    static member Current
        with get () = GemmScope.current
        and set (value: IGemmProvider) = GemmScope.current <- value

    /// Whether this thread's products must run on this thread alone.
    static member SingleThreaded
        with get () = GemmScope.singleThreaded
        and set (value: bool) = GemmScope.singleThreaded <- value
