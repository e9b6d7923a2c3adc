namespace FunctionalBackprop.Experiments

open FunctionalBackprop.Core

/// The matrix products of a computation, counted at the library's GEMM seam.
type GemmCount =
    { /// Products w·a with neither factor transposed: the forward pass's zˡ = wˡaˡ⁻¹ + bˡ, one
      /// per layer. (The backward pass's products are (wˡ)ᵀδˡ and δˡ(aˡ⁻¹)ᵀ.)
      Untransposed: int
      /// All products.
      Products: int
      /// Floating-point operations of the products, 2mnk for an m×k by k×n product.
      Flops: float }

/// Counting the products a computation makes, by routing them through a counting provider.
module GemmCount =

    /// A provider that counts the products it passes on to another.
    type private Counter(inner: IGemmProvider) =
        member val Count = { Untransposed = 0; Products = 0; Flops = 0.0 } with get, set

        member c.Add(transA: bool, transB: bool, m: int, n: int, k: int) =
            c.Count <-
                { Untransposed = c.Count.Untransposed + (if transA || transB then 0 else 1)
                  Products = c.Count.Products + 1
                  Flops = c.Count.Flops + 2.0 * float m * float n * float k }

        interface IGemmProvider with
            member _.Name = $"counting {inner.Name}"
            member c.Dgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, cs, ldc) =
                c.Add(transA, transB, m, n, k)
                inner.Dgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, cs, ldc)
            member c.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, cs, ldc) =
                c.Add(transA, transB, m, n, k)
                inner.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, cs, ldc)

    /// f's result and the products it made on this thread (they still go through the provider in
    /// use, so the result is the same as without counting).
    let measure (f: unit -> 'R) : 'R * GemmCount =
        let counter = Counter(Gemm.provider ())
        let result = Gemm.withProvider counter f
        result, counter.Count
