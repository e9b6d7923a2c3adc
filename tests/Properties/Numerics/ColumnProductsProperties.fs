/// Column products (Aᵀ·B for a small result over a long inner dimension, a convolution's weight
/// gradient): the exact product to rounding, the same bits run after run, and arrays too short
/// refused.
module FunctionalBackprop.Properties.ColumnProductsProperties

open System
open Xunit
open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open FunctionalBackprop.Core
open FunctionalBackprop.Properties.Generators

/// C (m × n) = Aᵀ·B for A of k × m and B of k × n, entries drawn from a seed.
type ColumnProduct = { K: int; M: int; N: int; Seed: uint64; Float32: bool }

type ColumnProductArbitraries =
    static member ColumnProduct() =
        // Inner dimensions from 1 (no whole vector) past one block of 2,048 rows (several blocks
        // and a tail); m and n around the 2 × 4 tile, so that whole tiles and their edges both run.
        let inner = Gen.frequency [ 1, Gen.choose (1, 17); 2, Gen.choose (18, 600); 1, Gen.choose (2040, 5000) ]
        gen {
            let! k = inner
            let! m = Gen.choose (1, 9)
            let! n = Gen.choose (1, 11)
            let! seed = Gen.choose (0, Int32.MaxValue)
            let! f32 = Gen.elements [ false; true ]
            return { K = k; M = m; N = n; Seed = uint64 seed; Float32 = f32 }
        }
        |> Arb.fromGen

/// The product twice, and its float64 reference with the bound of each entry:
/// γₖ·Σ_q |a_qi b_qj| with γₖ = 2kε (Higham, Accuracy and Stability, §3.1).
let private check<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> (p: ColumnProduct) =
    let a: 'T[] = Random.normals p.Seed 0.0 1.0 (p.K * p.M) |> Array.map Real.ofFloat
    let b: 'T[] = Random.normals (p.Seed + 1UL) 0.0 1.0 (p.K * p.N) |> Array.map Real.ofFloat
    let product () =
        let c: 'T[] = Array.create (p.M * p.N) (Real.ofFloat 7.0)
        ColumnProducts.transposeInto p.K p.M p.N a b c
        c
    let first, second = product (), product ()
    let gamma = 2.0 * float p.K * Real.epsilon<'T> ()
    let bits (c: 'T[]) = c |> Array.map (Real.toFloat >> BitConverter.DoubleToInt64Bits)
    let same = (bits first = bits second) |> Prop.label "the same arrays gave other bits"
    [ for j in 0 .. p.N - 1 do
          for i in 0 .. p.M - 1 do
              let terms = [| for q in 0 .. p.K - 1 -> Real.toFloat a.[q + i * p.K] * Real.toFloat b.[q + j * p.K] |]
              let exact = Array.sum terms
              let bound = gamma * Array.sumBy (fun (t: float) -> Math.Abs t) terms + 1e-300
              let c = Real.toFloat first.[i + j * p.M]
              Math.Abs(c - exact) <= bound |> Prop.label $"({i}, {j}) of {p.M}×{p.N} over {p.K}: {c:R}, exact {exact:R}" ]
    |> List.fold (.&.) same

[<Properties(Arbitrary = [| typeof<ColumnProductArbitraries> |], MaxTest = 150)>]
module Products =

    [<Property>]
    let ``Aᵀ·B equals the exact product to rounding, the same bits every time`` (p: ColumnProduct) =
        if p.Float32 then check<float32> p else check<float> p

[<Fact>]
let ``arrays shorter than the product's shapes are refused with the shapes`` () =
    let e = Assert.Throws<ArgumentException>(fun () -> ColumnProducts.transposeInto 10 2 3 (Array.zeroCreate<float> 20) (Array.zeroCreate 29) (Array.zeroCreate 6))
    Assert.Contains("10×2 and 10×3", e.Message)
    Assert.Contains("got 20, 29 and 6", e.Message)
