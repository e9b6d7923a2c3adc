namespace FunctionalBackprop.Core

open System
open System.Numerics

/// Deterministic random numbers from an explicit seed, identical on every machine.
///
/// Nothing here is global: every function takes the seed it draws from and returns fresh values,
/// so the same seed always gives the same numbers. The generator is xoshiro256** (Blackman and
/// Vigna, 2018) seeded through SplitMix64. Normal deviates use Marsaglia's polar method with a
/// logarithm written in plain IEEE 754 arithmetic (+, −, ×, ÷, √ are correctly rounded everywhere),
/// rather than Math.Log, whose last bit may differ between C runtimes; that is what makes the
/// weights of a seeded network bit-identical on Linux, Windows and macOS.
module Random =

    /// SplitMix64's mixing step: a bijection on 64-bit integers with good avalanche.
    let mix (z: uint64) : uint64 =
        let z = (z ^^^ (z >>> 30)) * 0xBF58476D1CE4E5B9UL
        let z = (z ^^^ (z >>> 27)) * 0x94D049BB133111EBUL
        z ^^^ (z >>> 31)

    /// A seed for an independent stream derived from a parent seed and an index (for example the
    /// layer number), so that streams for different purposes never overlap in practice.
    let derive (seed: uint64) (index: uint64) : uint64 =
        mix (seed + 0x9E3779B97F4A7C15UL * (index + 1UL))

    /// xoshiro256** state; private to a single call, so the public functions stay pure.
    type internal Xoshiro(seed: uint64) =
        let mutable s0 = mix (seed + 0x9E3779B97F4A7C15UL)
        let mutable s1 = mix (seed + 2UL * 0x9E3779B97F4A7C15UL)
        let mutable s2 = mix (seed + 3UL * 0x9E3779B97F4A7C15UL)
        let mutable s3 = mix (seed + 4UL * 0x9E3779B97F4A7C15UL)

        member _.NextUInt64() : uint64 =
            let result = (BitOperations.RotateLeft(s1 * 5UL, 7)) * 9UL
            let t = s1 <<< 17
            s2 <- s2 ^^^ s0
            s3 <- s3 ^^^ s1
            s1 <- s1 ^^^ s2
            s0 <- s0 ^^^ s3
            s2 <- s2 ^^^ t
            s3 <- BitOperations.RotateLeft(s3, 45)
            result

        /// Uniform on [0, 1) with 53 random bits.
        member this.NextDouble() : float = float (this.NextUInt64() >>> 11) * (1.0 / 9007199254740992.0)

        /// Uniform integer on [0, n) without modulo bias (Lemire's multiply-shift with rejection).
        member this.NextInt(n: int) : int =
            let bound = uint64 n
            let mutable low = 0UL
            let mutable high = Math.BigMul(this.NextUInt64(), bound, &low)
            if low < bound then
                let threshold = (0UL - bound) % bound
                while low < threshold do
                    high <- Math.BigMul(this.NextUInt64(), bound, &low)
            int high

    let private ln2Hi = 6.93147180369123816490e-01
    let private ln2Lo = 1.90821492927058770002e-10

    /// Natural logarithm of a positive, finite, normal x in IEEE arithmetic only: x = m·2ᵉ with
    /// m in [√½, √2), ln m = 2 artanh f with f = (m−1)/(m+1), |f| ≤ 0.172, summed to 2⁻⁶⁰.
    let internal portableLog (x: float) : float =
        let bits = BitConverter.DoubleToInt64Bits x
        let mutable e = int ((bits >>> 52) &&& 0x7FFL) - 1023
        let mutable m = BitConverter.Int64BitsToDouble((bits &&& 0x000FFFFFFFFFFFFFL) ||| 0x3FF0000000000000L)
        if m > 1.4142135623730951 then
            m <- m * 0.5
            e <- e + 1
        let f = (m - 1.0) / (m + 1.0)
        let f2 = f * f
        // Horner form of 1 + f²/3 + f⁴/5 + … + f²²/23.
        let mutable series = 1.0 / 23.0
        for k in 10 .. -1 .. 0 do
            series <- 1.0 / float (2 * k + 1) + f2 * series
        let lnM = 2.0 * f * series
        float e * ln2Hi + (float e * ln2Lo + lnM)

    /// A standard normal deviate by Marsaglia's polar method.
    let internal nextNormal (rng: Xoshiro) : float =
        let mutable result = nan
        while Double.IsNaN result do
            let u = 2.0 * rng.NextDouble() - 1.0
            let v = 2.0 * rng.NextDouble() - 1.0
            let s = u * u + v * v
            if s > 0.0 && s < 1.0 then
                result <- u * Math.Sqrt(-2.0 * portableLog s / s)
        result

    /// n uniform numbers on [low, high) drawn from the seed.
    let uniforms (seed: uint64) (low: float) (high: float) (n: int) : float[] =
        let rng = Xoshiro seed
        Array.init n (fun _ -> low + (high - low) * rng.NextDouble())

    /// n draws from the normal distribution N(mean, standardDeviation²) drawn from the seed.
    let normals (seed: uint64) (mean: float) (standardDeviation: float) (n: int) : float[] =
        let rng = Xoshiro seed
        Array.init n (fun _ -> mean + standardDeviation * nextNormal rng)

    /// Writes into p a uniformly random permutation of 0 … p.Length − 1 (Fisher–Yates) drawn
    /// from the seed.
    let internal permutationInto (seed: uint64) (p: int[]) : unit =
        let rng = Xoshiro seed
        for i in 0 .. p.Length - 1 do
            p.[i] <- i
        for i in p.Length - 1 .. -1 .. 1 do
            let j = rng.NextInt(i + 1)
            let t = p.[i]
            p.[i] <- p.[j]
            p.[j] <- t

    /// A uniformly random permutation of 0 … n−1 (Fisher–Yates) drawn from the seed.
    let permutation (seed: uint64) (n: int) : int[] =
        let p = Array.zeroCreate n
        permutationInto seed p
        p
