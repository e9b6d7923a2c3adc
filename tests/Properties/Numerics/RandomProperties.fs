/// Random: the stream is xoshiro256** seeded through SplitMix64 (checked against an implementation
/// written here from the papers and their published outputs), the same seed gives the same bits,
/// other seeds and derived indices give other streams, and the draws have the distributions they
/// promise.
///
/// The statistical properties draw fresh seeds on every run, so each can fail by bad luck; the
/// comment above each gives that probability under a correct generator. Together they fail a
/// correct generator with probability below 4·10⁻¹⁰ per run.
module FunctionalBackprop.Properties.RandomProperties

open System
open System.Numerics
open Xunit
open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open FunctionalBackprop.Core

/// φ = ⌊2⁶⁴/golden ratio⌋, SplitMix64's increment.
let private golden = 0x9E3779B97F4A7C15UL

/// SplitMix64's output for the state z (Steele, Lea and Flood, 2014; Vigna's splitmix64.c).
let private splitMix64 (z: uint64) =
    let z = (z ^^^ (z >>> 30)) * 0xBF58476D1CE4E5B9UL
    let z = (z ^^^ (z >>> 27)) * 0x94D049BB133111EBUL
    z ^^^ (z >>> 31)

/// xoshiro256** from its paper (Blackman and Vigna, "Scrambled linear pseudorandom number
/// generators", 2018) with its state given directly.
type private Reference(s: uint64[]) =
    member _.Next() : uint64 =
        let result = BitOperations.RotateLeft(s.[1] * 5UL, 7) * 9UL
        let t = s.[1] <<< 17
        s.[2] <- s.[2] ^^^ s.[0]
        s.[3] <- s.[3] ^^^ s.[1]
        s.[1] <- s.[1] ^^^ s.[2]
        s.[0] <- s.[0] ^^^ s.[3]
        s.[2] <- s.[2] ^^^ t
        s.[3] <- BitOperations.RotateLeft(s.[3], 45)
        result

    /// Seeded as Random documents it: the state is the first four SplitMix64 outputs from the seed.
    static member Seeded(seed: uint64) = Reference(Array.init 4 (fun i -> splitMix64 (seed + uint64 (i + 1) * golden)))

    /// A uniform integer on [0, n): the high word of x·n, rejecting x when the low word falls below
    /// 2⁶⁴ mod n (Lemire, "Fast random integer generation in an interval", 2019, Algorithm 5).
    member r.Below(n: int) : int =
        let product = BigInteger(r.Next()) * BigInteger(n)
        let two64 = BigInteger.Pow(BigInteger(2), 64)
        if BigInteger.Remainder(product, two64) < BigInteger.Remainder(two64, BigInteger(n)) then r.Below n
        else int (BigInteger.Divide(product, two64))

/// A 64-bit seed of any value.
type Seed = { Value: uint64 }

/// Two different seeds.
type SeedPair = { First: uint64; Second: uint64 }

/// A bound n for bounded integers: small ones, powers of two, and the whole positive int range.
type Bound = { N: int }

/// A positive, finite, normal double (portableLog's domain), drawn where its arithmetic is hardest.
type LogArgument = { X: float }

let private seed64 =
    Gen.map4 (fun (a: int) (b: int) (c: int) (d: int) -> (uint64 a <<< 48) ||| (uint64 b <<< 32) ||| (uint64 c <<< 16) ||| uint64 d)
        (Gen.choose (0, 0xFFFF)) (Gen.choose (0, 0xFFFF)) (Gen.choose (0, 0xFFFF)) (Gen.choose (0, 0xFFFF))

type RandomArbitraries =
    static member Seed() = seed64 |> Gen.map (fun s -> { Value = s }) |> Arb.fromGen

    static member SeedPair() =
        // The second differs from the first by 1 … 2³², or anywhere else: never equal.
        gen {
            let! first = seed64
            let! offset = Gen.oneof [ Gen.choose (0, Int32.MaxValue) |> Gen.map (fun d -> uint64 d + 1UL); seed64 |> Gen.map (fun d -> d ||| 1UL) ]
            return { First = first; Second = first + offset }
        }
        |> Arb.fromGen

    static member Bound() =
        Gen.oneof
            [ Gen.choose (1, 100)
              Gen.choose (1, Int32.MaxValue)
              Gen.choose (0, 30) |> Gen.map (fun k -> 1 <<< k)
              Gen.elements [ Int32.MaxValue; (1 <<< 30) + 1; 3 * (1 <<< 29) ] ]
        |> Gen.map (fun n -> { N = n })
        |> Arb.fromGen

    static member LogArgument() =
        let anyNormal =
            Gen.map3 (fun (e: int) (hi: int) (lo: int) -> BitConverter.Int64BitsToDouble((int64 e <<< 52) ||| (int64 hi <<< 26) ||| int64 lo))
                (Gen.choose (1, 2046)) (Gen.choose (0, (1 <<< 26) - 1)) (Gen.choose (0, (1 <<< 26) - 1))
        // Near 1, where ln x is tiny and every digit of it counts.
        let nearOne = Gen.choose (-(1 <<< 20), 1 <<< 20) |> Gen.map (fun k -> if k >= 0 then 1.0 + float k * Math.Pow(2.0, -52.0) else 1.0 + float k * Math.Pow(2.0, -53.0))
        // Around √2·2ᵉ, where the reduction switches between m and m/2.
        let nearRootTwo =
            Gen.map2 (fun (k: int) (e: int) -> BitConverter.Int64BitsToDouble(BitConverter.DoubleToInt64Bits(Math.Sqrt 2.0) + int64 k) * Math.Pow(2.0, float e))
                (Gen.choose (-1000, 1000)) (Gen.choose (-8, 8))
        // The s = u² + v² of the polar method: (0, 1).
        let polar = Gen.choose (1, Int32.MaxValue) |> Gen.map (fun k -> float k / 2147483648.0)
        Gen.oneof [ anyNormal; nearOne; nearRootTwo; polar ] |> Gen.map (fun x -> { X = x }) |> Arb.fromGen

let private bits (xs: float[]) = Bits.ofValues xs

[<Fact>]
let ``the reference generators reproduce their published outputs`` () =
    // splitmix64.c seeded with 1234567: its first three outputs.
    Assert.Equal<uint64[]>([| 6457827717110365317UL; 3203168211198807973UL; 9817491932198370423UL |], Array.init 3 (fun i -> splitMix64 (1234567UL + uint64 (i + 1) * golden)))
    // xoshiro256starstar.c from the state {1, 2, 3, 4}. By hand: the first output is
    // rotl(2·5, 7)·9 = 1280·9 = 11520; the update leaves s₁ = 0, so the second is 0; then
    // s₁ = 262149 and the third is (262149·5)·2⁷·9 = 1509978240 (no bit reaches the rotation).
    let r = Reference [| 1UL; 2UL; 3UL; 4UL |]
    Assert.Equal<uint64[]>([| 11520UL; 0UL; 1509978240UL; 1215971899390074240UL |], Array.init 4 (fun _ -> r.Next()))

[<Properties(Arbitrary = [| typeof<RandomArbitraries> |], MaxTest = 100)>]
module Streams =

    [<Property>]
    let ``uniforms are xoshiro256**'s top 53 bits over 2⁵³, the generator seeded through SplitMix64`` (seed: Seed) (n: NonNegativeInt) =
        let r = Reference.Seeded seed.Value
        let expected = Array.init (n.Get % 200) (fun _ -> float (r.Next() >>> 11) / 9007199254740992.0)
        bits (Random.uniforms seed.Value 0.0 1.0 expected.Length) = bits expected

    [<Property>]
    let ``bounded integers are Lemire's ⌊x·n/2⁶⁴⌋ of the stream, so always in [0, n)`` (seed: Seed) (bound: Bound) =
        let ours = Random.Xoshiro seed.Value
        let reference = Reference.Seeded seed.Value
        let draws = Array.init 200 (fun _ -> ours.NextInt bound.N)
        (draws = Array.init 200 (fun _ -> reference.Below bound.N) |> Prop.label "the reference's draws")
        .&. (draws |> Array.forall (fun k -> 0 <= k && k < bound.N) |> Prop.label "in [0, n)")

    [<Property>]
    let ``the same seed gives the same numbers, bit for bit`` (seed: Seed) (n: NonNegativeInt) =
        let n = n.Get % 300
        (bits (Random.uniforms seed.Value -2.0 3.0 n) = bits (Random.uniforms seed.Value -2.0 3.0 n) |> Prop.label "uniforms")
        .&. (bits (Random.normals seed.Value 1.0 2.0 n) = bits (Random.normals seed.Value 1.0 2.0 n) |> Prop.label "normals")
        .&. (Random.permutation seed.Value n = Random.permutation seed.Value n |> Prop.label "permutation")

    [<Property>]
    let ``a longer draw begins with the shorter one`` (seed: Seed) (n: NonNegativeInt) (m: NonNegativeInt) =
        let n, m = n.Get % 100, m.Get % 100
        (bits (Random.uniforms seed.Value 0.0 1.0 (n + m)).[.. n - 1] = bits (Random.uniforms seed.Value 0.0 1.0 n) |> Prop.label "uniforms")
        .&. (bits (Random.normals seed.Value 0.0 1.0 (n + m)).[.. n - 1] = bits (Random.normals seed.Value 0.0 1.0 n) |> Prop.label "normals")

    [<Property>]
    let ``uniforms on [low, high) and normals of mean μ and deviation σ are low + (high − low)u and μ + σz`` (seed: Seed) (a: NormalFloat) (b: NormalFloat) =
        let low, width, mu, sigma = float a, Math.Abs(float b) + 0.5, float b, Math.Abs(float a) + 0.1
        let u, z = Random.uniforms seed.Value 0.0 1.0 50, Random.normals seed.Value 0.0 1.0 50
        (bits (Random.uniforms seed.Value low (low + width) 50) = bits (u |> Array.map (fun u -> low + (low + width - low) * u)) |> Prop.label "uniforms")
        .&. (bits (Random.normals seed.Value mu sigma 50) = bits (z |> Array.map (fun z -> mu + sigma * z)) |> Prop.label "normals")

    [<Property>]
    let ``different seeds give different streams`` (pair: SeedPair) =
        // Four 53-bit draws of two xoshiro streams from different states agree by chance with
        // probability about 2⁻²¹², and the SplitMix64 seeding gives different seeds different states.
        (bits (Random.uniforms pair.First 0.0 1.0 4) <> bits (Random.uniforms pair.Second 0.0 1.0 4) |> Prop.label "uniforms")
        .&. (bits (Random.normals pair.First 0.0 1.0 4) <> bits (Random.normals pair.Second 0.0 1.0 4) |> Prop.label "normals")

    [<Property>]
    let ``derive gives every index its own seed and stream, unlike the parent's`` (seed: Seed) (pair: SeedPair) =
        // derive s i = mix(s + φ(i + 1)): φ is odd, so i ↦ s + φ(i + 1) is injective modulo 2⁶⁴, and
        // mix is a bijection: different indices always give different seeds.
        let i, j = pair.First, pair.Second
        let si, sj = Random.derive seed.Value i, Random.derive seed.Value j
        let stream s = bits (Random.uniforms s 0.0 1.0 4)
        (si <> sj |> Prop.label "seeds")
        .&. (stream si <> stream sj |> Prop.label "streams of two indices")
        .&. (stream si <> stream seed.Value |> Prop.label "the stream of an index and the parent's")

    [<Property>]
    let ``mix is a bijection: undoing each of its steps gives the argument back`` (seed: Seed) =
        // y = x ⊕ (x ≫ k) is undone by iterating x ← y ⊕ (x ≫ k) (each round fixes k more top bits);
        // multiplication by an odd c is undone by c⁻¹ mod 2⁶⁴, found by Newton's iteration
        // c⁻¹ ← c⁻¹(2 − c·c⁻¹), which doubles the correct low bits from 3 (c·c ≡ 1 mod 8).
        let unshift (k: int) (y: uint64) = Seq.fold (fun x _ -> y ^^^ (x >>> k)) y (seq { 1 .. 64 / k + 1 })
        let inverse (c: uint64) = Seq.fold (fun x _ -> x * (2UL - c * x)) c (seq { 1 .. 6 })
        let unmix (z: uint64) =
            let z = unshift 31 z
            let z = unshift 27 (z * inverse 0x94D049BB133111EBUL)
            unshift 30 (z * inverse 0xBF58476D1CE4E5B9UL)
        unmix (Random.mix seed.Value) = seed.Value

    [<Property>]
    let ``the portable logarithm agrees with Math.Log to 6.5u|ln x| plus Math.Log's own ulp`` (x: LogArgument) =
        // With x = m·2ᵉ, m ∈ [√½, √2): m − 1 is exact (Sterbenz), so f = (m − 1)/(m + 1) carries
        // two roundings, 2u. The series S = Σ f²ᵏ/(2k + 1) ∈ [1, 1.0101] (f² ≤ 0.0295) is truncated
        // after f²²/23, below 2⁻⁶⁰ as the source states; its Horner sum ends with 1 + f²·S₁, whose
        // rounding u dominates: the earlier errors arrive damped by f² (in all about 1.1u). Then
        // ln m = 2f·S rounds once more: 4.1u relative. For e ≠ 0, |ln m| ≤ ½ ln 2 ≤ |ln x| and the
        // two additions of e·ln 2 (split in two so that e·ln2Hi is exact) add u|ln x| each: 6.1u|ln x|
        // in all, to first order. Math.Log itself is within 1 ulp (glibc and the Windows CRT
        // document < 1 ulp), hence 6.5u|ln x| + 1 ulp.
        let ours, theirs = Random.portableLog x.X, Math.Log x.X
        let ulp = Math.BitIncrement(Math.Abs theirs) - Math.Abs theirs
        Math.Abs(ours - theirs) <= 6.5 * Math.Pow(2.0, -53.0) * Math.Abs theirs + ulp
        |> Prop.label $"ln {x.X:R}: portable {ours:R}, Math.Log {theirs:R}"

[<Fact>]
let ``the portable logarithm of 1 is exactly 0`` () =
    // m = 1, e = 0: f = 0, so ln m = 2·0·S = 0 and no multiple of ln 2 is added.
    Assert.Equal(0L, BitConverter.DoubleToInt64Bits(Random.portableLog 1.0))

/// The upper bound of Laurent and Massart (Annals of Statistics 28, 2000, Lemma 1) for a
/// chi-square variable with d degrees of freedom: P(χ²_d ≥ d + 2√(dx) + 2x) ≤ e⁻ˣ.
let private chiSquareBound (d: int) (x: float) = float d + 2.0 * Math.Sqrt(float d * x) + 2.0 * x

/// Pearson's statistic Σ (observed − expected)²/expected over categories of equal probability.
let private pearson (counts: int[]) (total: int) =
    let expected = float total / float counts.Length
    counts |> Array.sumBy (fun c -> (float c - expected) ** 2.0 / expected)

[<Properties(Arbitrary = [| typeof<RandomArbitraries> |], MaxTest = 10)>]
module Distributions =

    let private n = 100_000

    [<Property>]
    let ``uniforms lie in [0, 1) with mean ½, variance 1/12 and the uniform distribution function`` (seed: Seed) =
        // Hoeffding: the mean of n values in [0, 1] is off by t with probability ≤ 2e^(−2nt²), and
        // the mean of (u − ½)² ∈ [0, ¼] off by t/4 likewise; the Dvoretzky–Kiefer–Wolfowitz
        // inequality (Massart's constant): sup |Fₙ − F| > t with probability ≤ 2e^(−2nt²). t is
        // chosen so that each is 10⁻¹¹: with n = 10⁵, t = 0.0114 (12 standard deviations of the
        // mean). Three checks on 10 seeds: 3·10⁻¹⁰ per run.
        let u = Random.uniforms seed.Value 0.0 1.0 n
        let t = Math.Sqrt(Math.Log(2.0 / 1e-11) / (2.0 * float n))
        let mean = Array.average u
        let variance = u |> Array.averageBy (fun v -> (v - 0.5) * (v - 0.5))
        let sorted = Array.sort u
        let distance = sorted |> Array.mapi (fun i v -> Math.Max(float (i + 1) / float n - v, v - float i / float n)) |> Array.max
        (u |> Array.forall (fun v -> 0.0 <= v && v < 1.0) |> Prop.label "in [0, 1)")
        .&. (Math.Abs(mean - 0.5) <= t |> Prop.label $"mean {mean}")
        .&. (Math.Abs(variance - 1.0 / 12.0) <= t / 4.0 |> Prop.label $"variance {variance}")
        .&. (distance <= t |> Prop.label $"Kolmogorov distance {distance}")

    [<Property>]
    let ``normals have mean 0 and variance 1`` (seed: Seed) =
        // For n standard normals the mean is N(0, 1/n): |mean| > 7/√n with probability
        // erfc(7/√2) = 2.6·10⁻¹². Σz² is χ²ₙ: by Laurent and Massart it exceeds
        // n + 2√(27n) + 54, or falls below n − 2√(27n), each with probability ≤ e⁻²⁷ = 1.9·10⁻¹².
        // Three checks on 10 seeds: 7·10⁻¹¹ per run.
        let z = Random.normals seed.Value 0.0 1.0 n
        let mean = Array.average z
        let squares = Array.sumBy (fun v -> v * v) z
        (Math.Abs mean <= 7.0 / Math.Sqrt(float n) |> Prop.label $"mean {mean}")
        .&. (squares <= chiSquareBound n 27.0 |> Prop.label $"Σz² = {squares} too large")
        .&. (squares >= float n - 2.0 * Math.Sqrt(float n * 27.0) |> Prop.label $"Σz² = {squares} too small")

    [<Property>]
    let ``bounded integers are uniform (chi-square)`` (seed: Seed) (k: PositiveInt) =
        // n ∈ [2, 60] categories, 3000 expected draws in each. Pearson's statistic is then χ² with
        // n − 1 degrees of freedom to a good approximation, and exceeds Laurent and Massart's bound
        // with x = 28 with probability ≤ e⁻²⁸ = 7·10⁻¹³ (10 seeds: 7·10⁻¹²).
        let bound = 2 + k.Get % 59
        let draws = 3000 * bound
        let rng = Random.Xoshiro seed.Value
        let counts = Array.zeroCreate bound
        for _ in 1 .. draws do
            let j = rng.NextInt bound
            counts.[j] <- counts.[j] + 1
        let x2 = pearson counts draws
        x2 <= chiSquareBound (bound - 1) 28.0 |> Prop.label $"n = {bound}: χ² = {x2}, counts {counts}"

    [<Property(MaxTest = 100)>]
    let ``a permutation is a permutation of 0 … n − 1`` (seed: Seed) (n: NonNegativeInt) =
        let n = n.Get % 300
        Array.sort (Random.permutation seed.Value n) = Array.init n id

    [<Property(MaxTest = 100)>]
    let ``the permutation depends on the seed`` (pair: SeedPair) (n: PositiveInt) =
        // Two uniform permutations of n ≥ 20 elements coincide with probability 1/n! ≤ 4·10⁻¹⁹.
        let n = 20 + n.Get % 280
        Random.permutation pair.First n <> Random.permutation pair.Second n

    [<Property(MaxTest = 3)>]
    let ``every permutation of four elements is equally likely (chi-square)`` (seed: Seed) =
        // 240,000 permutations from derived seeds, 10,000 expected of each of the 24. Pearson's
        // statistic is χ² with 23 degrees of freedom to a good approximation at these counts, and
        // exceeds Laurent and Massart's bound with x = 28 (129.8) with probability ≤ 7·10⁻¹³
        // (3 seeds: 2·10⁻¹²). A shuffle that swaps with any position (j from 0 … n − 1 at every
        // step) gives some orders 15/256 and others 8/256 instead of 1/24: χ² in the thousands.
        let draws = 240_000
        let counts = Collections.Generic.Dictionary<int, int>()
        for i in 0 .. draws - 1 do
            let p = Random.permutation (Random.derive seed.Value (uint64 i)) 4
            let key = p.[0] * 64 + p.[1] * 16 + p.[2] * 4 + p.[3]
            counts.[key] <- (match counts.TryGetValue key with | true, c -> c | _ -> 0) + 1
        let observed = counts.Values |> Array.ofSeq
        let x2 = pearson observed draws
        (observed.Length = 24 |> Prop.label $"{observed.Length} orders seen")
        .&. (x2 <= chiSquareBound 23 28.0 |> Prop.label $"χ² = {x2}")
