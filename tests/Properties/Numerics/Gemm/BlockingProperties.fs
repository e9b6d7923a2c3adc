/// Block sizes from the caches (Numerics/Gemm/Blocking.fs, Caches.fs).
module FunctionalBackprop.Properties.Gemm.BlockingProperties

open Xunit
open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open FunctionalBackprop.Core

[<Property(MaxTest = 300)>]
let ``blocks are whole tiles and fit the caches they are meant for`` () =
    let caches =
        gen {
            let! l1 = Gen.choose (16, 256)
            let! l2 = Gen.choose (128, 16384)
            let! l3 = Gen.choose (256, 65536)
            return { L1 = l1 <<< 10; L2 = l2 <<< 10; L3PerCore = l3 <<< 10 }
        }
    let shapes = Gen.elements [ 16, 12, 4; 8, 12, 8; 8, 6, 4; 4, 6, 8; 4, 6, 4; 2, 6, 8; 1, 6, 4; 1, 6, 8 ]
    Prop.forAll (Arb.fromGen (Gen.zip caches shapes)) (fun (c, (width, columns, bytes)) ->
        let b = Blockings.derive c width columns bytes
        let label = $"%A{c} %A{b}"
        (b.MR = 2 * width && b.NR = columns) |> Prop.label $"tile {label}"
        .&. (b.KC % 16 = 0 && b.KC >= 64 && b.KC <= 512) |> Prop.label $"kc {label}"
        .&. (b.MC % b.MR = 0 && b.MC >= b.MR) |> Prop.label $"mc {label}"
        .&. (b.NC % b.NR = 0 && b.NC >= 8 * b.NR) |> Prop.label $"nc {label}"
        // op(B)'s panel in half the first level, unless even the smallest slice (64) is larger.
        .&. (b.KC = 64 || b.NR * b.KC * bytes <= c.L1 / 2) |> Prop.label $"panel in L1 {label}"
        .&. (b.MC = b.MR || b.MC * b.KC * bytes <= c.L2 / 2) |> Prop.label $"block in L2 {label}")

[<Fact>]
let ``the caches read from the system are sizes processors have, the larger levels larger`` () =
    let c = Caches.sizes.Force()
    Assert.InRange(c.L1, 16 <<< 10, 256 <<< 10)
    Assert.InRange(c.L2, 128 <<< 10, 16 <<< 20)
    Assert.True(c.L1 < c.L2, $"%A{c}")
