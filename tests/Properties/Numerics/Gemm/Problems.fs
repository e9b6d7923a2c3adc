/// Products to check the managed kernel with, and the exact product they are checked against.
module FunctionalBackprop.Properties.Gemm.Problems

open System
open FsCheck
open FsCheck.FSharp
open FunctionalBackprop.Core

/// C ← α·op(A)·op(B) + β·C with op(A) m × k and op(B) k × n; each array's leading dimension exceeds
/// its rows by its padding (whose entries are NaN, which must be neither read into a result nor
/// written). The entries of A, B and C are drawn from Seed, so a failing case can be rebuilt from
/// what FsCheck prints.
type Problem =
    { M: int; N: int; K: int; TransA: bool; TransB: bool
      PadA: int; PadB: int; PadC: int; Alpha: float; Beta: float; Seed: uint64; Float32: bool }

    member p.Lda = (if p.TransA then p.K else p.M) + p.PadA
    member p.Ldb = (if p.TransB then p.N else p.K) + p.PadB
    member p.Ldc = p.M + p.PadC

    /// A, B and C as stored: normal entries, NaN in the padding rows.
    member p.Operands<'T when 'T :> Numerics.IFloatingPointIeee754<'T>>() : 'T[] * 'T[] * 'T[] =
        let stored (seed: uint64) (rows: int) (cols: int) (ld: int) =
            let values = Random.normals seed 0.0 1.0 (ld * cols)
            Array.init (ld * cols) (fun q -> if q % ld < rows then Real.ofFloat<'T> values.[q] else 'T.NaN)
        let aRows, aCols = if p.TransA then p.K, p.M else p.M, p.K
        let bRows, bCols = if p.TransB then p.N, p.K else p.K, p.N
        stored p.Seed aRows aCols p.Lda, stored (p.Seed + 1UL) bRows bCols p.Ldb, stored (p.Seed + 2UL) p.M p.N p.Ldc

    /// op(A)[i, q] and op(B)[q, j] in a's and b's storage.
    member p.OpA (a: 'T[]) (i: int) (q: int) = if p.TransA then a.[q + i * p.Lda] else a.[i + q * p.Lda]
    member p.OpB (b: 'T[]) (q: int) (j: int) = if p.TransB then b.[j + q * p.Ldb] else b.[q + j * p.Ldb]

/// Dimensions of 1, small primes, sizes on either side of the tiles' (16 and 32 rows with
/// AVX-512, 12 columns), and any up to 140.
let dimension: Gen<int> =
    Gen.frequency
        [ 2, Gen.constant 1
          3, Gen.elements [ 2; 3; 5; 7; 11; 13; 15; 16; 17; 23; 31; 32; 33; 47; 61; 97; 127 ]
          3, Gen.choose (2, 140) ]

/// Inner dimensions as dimension, and across the slices of the loops (256 and 512 deep).
let depth: Gen<int> =
    Gen.frequency [ 8, dimension; 1, Gen.elements [ 255; 256; 257; 511; 512; 513; 600 ] ]

/// α and β: 1, 0, and values that change every bit of a product.
let scalar: Gen<float> = Gen.elements [ 1.0; 0.0; -1.0; 0.5; 1.7; -2.25 ]

/// A product of generated shape, transposes, paddings, α, β and element type.
let problemOf (dimension: Gen<int>) (depth: Gen<int>) : Gen<Problem> =
    gen {
        let! m = dimension
        let! n = dimension
        let! k = depth
        let! ta = Gen.elements [ false; true ]
        let! tb = Gen.elements [ false; true ]
        let! pads = Gen.arrayOfLength 3 (Gen.frequency [ 2, Gen.constant 0; 1, Gen.choose (1, 3) ])
        let! alpha = scalar
        let! beta = scalar
        let! seed = Gen.choose (0, Int32.MaxValue)
        let! f32 = Gen.elements [ false; true ]
        return
            { M = m; N = n; K = k; TransA = ta; TransB = tb; PadA = pads.[0]; PadB = pads.[1]; PadC = pads.[2]
              Alpha = alpha; Beta = beta; Seed = uint64 seed; Float32 = f32 }
    }

/// Products large enough to be divided among threads (at least 2²¹ multiply-adds).
let threaded: Gen<Problem> =
    problemOf (Gen.choose (130, 200)) (Gen.choose (130, 300))

/// The generators FsCheck looks up by type.
type ProblemArbitraries =
    static member Problem() : Arbitrary<Problem> = Arb.fromGen (problemOf dimension depth)

/// The product through f on this problem's operands ('T's C after it, every entry of the stored
/// array, padding included).
let through<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> (p: Problem) (f: 'T[] -> 'T[] -> 'T[] -> unit) : 'T[] =
    let a, b, c = p.Operands<'T>()
    f a b c
    c

/// The managed kernel's product on p, through the IGemmProvider interface.
let managed<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> (p: Problem) : 'T[] -> 'T[] -> 'T[] -> unit =
    let provider = ManagedGemm.Instance :> IGemmProvider
    fun a b c ->
        match box a, box b, box c with
        | (:? (float[]) as a), (:? (float[]) as b), (:? (float[]) as c) ->
            provider.Dgemm(p.TransA, p.TransB, p.M, p.N, p.K, p.Alpha, a, p.Lda, b, p.Ldb, p.Beta, c, p.Ldc)
        | (:? (float32[]) as a), (:? (float32[]) as b), (:? (float32[]) as c) ->
            provider.Sgemm(p.TransA, p.TransB, p.M, p.N, p.K, float32 p.Alpha, a, p.Lda, b, p.Ldb, float32 p.Beta, c, p.Ldc)
        | _ -> invalidOp "float and float32 only"

/// The IEEE bits of every entry, NaN payloads included, for comparing results bit for bit.
let bits<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> (xs: 'T[]) : int64[] =
    xs |> Array.map (fun x -> BitConverter.DoubleToInt64Bits(Real.toFloat x))

/// Whether two results have the same bits, as a property naming the first entry that differs.
let sameBits<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> (what: string) (expected: 'T[]) (actual: 'T[]) : Property =
    let e, a = bits expected, bits actual
    match Array.tryFindIndex id (Array.map2 (<>) e a) with
    | None -> Prop.ofTestable true
    | Some q -> false |> Prop.label $"{what}: entry {q} was {Real.toFloat expected.[q]:R}, now {Real.toFloat actual.[q]:R}"

/// A result checked against the exact product, computed in float64 from the same 'T inputs:
/// every entry of C within the rounding bound of its sum, every padding entry still NaN. The
/// bound: a sum of k products rounded at each of its steps (one rounding with fused multiply-add,
/// two without), α's product and β's multiply-add, then each later slice of the loops added
/// once: at most 2(k + 4)·ε·(|α|·Σ|op(A)ᵢₚ op(B)ₚⱼ| + |β·Cᵢⱼ|) (Higham, Accuracy and Stability,
/// §3.1, with ε the spacing of 'T at 1).
let checkExact<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> (p: Problem) (result: 'T[]) : Property =
    let a, b, c = p.Operands<'T>()
    let eps = Real.epsilon<'T> ()
    let failures =
        seq {
            for j in 0 .. p.N - 1 do
                for i in 0 .. p.Ldc - 1 do
                    let q = i + j * p.Ldc
                    let got = Real.toFloat result.[q]
                    if i >= p.M then
                        if not (Double.IsNaN got) then yield $"padding ({i}, {j}) was written: {got:R}"
                    else
                        let mutable sum, magnitude = 0.0, 0.0
                        for s in 0 .. p.K - 1 do
                            let x = Real.toFloat (p.OpA a i s) * Real.toFloat (p.OpB b s j)
                            sum <- sum + x
                            magnitude <- magnitude + abs x
                        let old = if p.Beta = 0.0 then 0.0 else p.Beta * Real.toFloat c.[q]
                        let exact = p.Alpha * sum + old
                        let bound = 2.0 * float (p.K + 4) * eps * (abs p.Alpha * magnitude + abs old) + 1e-300
                        if not (abs (got - exact) <= bound) then yield $"({i}, {j}): {got:R}, exact {exact:R}, bound {bound:R}"
        }
    match Seq.tryHead failures with
    | None -> Prop.ofTestable true
    | Some failure -> false |> Prop.label failure
