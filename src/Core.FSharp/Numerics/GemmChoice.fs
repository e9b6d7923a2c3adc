namespace FunctionalBackprop.Core

/// Which provider multiplies faster, by the product's shape, where a native BLAS sits beside the
/// managed kernel.
module internal GemmChoice =

    /// Whether the managed kernel is faster than the native library for a product of this shape
    /// (float32 when `single`).
    let managedIsFaster (single: bool) (transA: bool) (transB: bool) (m: int) (n: int) (k: int) : bool =
        ignore single
        ignore transA
        ignore transB
        int64 m * int64 n * int64 k >= 4096L
