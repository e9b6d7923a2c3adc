/// The element-wise dispatch: a kernel's lanes are independent, so an element gets the same bits
/// whether it falls in a whole vector or in the zero-padded last one; types other than float and
/// float32 are refused.
module FunctionalBackprop.Properties.ElementwiseProperties

open System
open Xunit
open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open FunctionalBackprop.Core

/// Two arrays of 0 to 70 entries (several vectors plus a tail), in (−4, 4).
type Pair = { X: float[]; Y: float[] }

type Arbitraries =
    static member Pair() =
        gen {
            let! n = Gen.choose (0, 70)
            let entry = Gen.choose (-2000, 2000) |> Gen.map (fun k -> float k / 500.0)
            let! x = Gen.arrayOfLength n entry
            let! y = Gen.arrayOfLength n entry
            return { X = x; Y = y }
        }
        |> Arb.fromGen

/// The kernel over the whole arrays against the kernel on each element alone (a length-1 array
/// runs entirely in the padded tail), as bits.
let private sameEverywhere<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> (convert: float -> 'T) (bits: 'T -> int64) (pair: Pair) =
    let x, y = Array.map convert pair.X, Array.map convert pair.Y
    let whole = Array.zeroCreate x.Length
    Elementwise.binary ActivationRules.Sigmoid.backward x y whole
    let alone =
        Array.init x.Length (fun i ->
            let out = Array.zeroCreate 1
            Elementwise.binary ActivationRules.Sigmoid.backward [| x.[i] |] [| y.[i] |] out
            out.[0])
    (Array.map bits whole = Array.map bits alone) |> Prop.label $"{typeof<'T>.Name}, length {x.Length}"

[<Properties(Arbitrary = [| typeof<Arbitraries> |], MaxTest = 200)>]
module Properties =

    [<Property>]
    let ``an element gets the same bits in a whole vector and in the padded tail`` (pair: Pair) =
        sameEverywhere float BitConverter.DoubleToInt64Bits pair
        .&. sameEverywhere float32 (fun v -> int64 (BitConverter.SingleToInt32Bits v)) pair

[<Fact>]
let ``types other than float and float32 are refused with the type's name`` () =
    let e = Assert.Throws<NotSupportedException>(fun () -> Elementwise.binary ActivationRules.Sigmoid.backward [| Half.One |] [| Half.One |] [| Half.Zero |])
    Assert.Contains("Half", e.Message)
