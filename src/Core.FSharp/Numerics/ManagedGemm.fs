namespace FunctionalBackprop.Core

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
