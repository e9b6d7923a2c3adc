/// The transposing copy of packing (Numerics/Gemm/Transposition.fs).
module FunctionalBackprop.Properties.Gemm.TranspositionProperties

#nowarn "9" // The copy works on pinned arrays' pointers.

open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open Microsoft.FSharp.NativeInterop
open FunctionalBackprop.Core

let private transposes<'T when 'T: unmanaged and 'T: equality> (make: int -> 'T) (lanes: int) (depth: int) (ldPad: int) (stridePad: int) =
    let ld, stride = depth + ldPad, lanes + stridePad
    let src = Array.init (ld * lanes) make
    let dst = Array.create (stride * depth) (make -1)
    do
        use ps = fixed src
        use pd = fixed dst
        Transposition.copy ps ld lanes depth pd stride
    [ for p in 0 .. depth - 1 do
          for l in 0 .. stride - 1 do
              let expected = if l < lanes then src.[p + l * ld] else make -1
              if dst.[p * stride + l] <> expected then yield p, l ]
    |> List.isEmpty

[<Property(MaxTest = 200)>]
let ``the transposing copy puts src[p + l·ld] at dst[p·stride + l] and nothing else`` () =
    let size = Gen.frequency [ 1, Gen.choose (1, 5); 2, Gen.choose (1, 150) ]
    Prop.forAll (Arb.fromGen (Gen.zip (Gen.zip size size) (Gen.zip (Gen.choose (0, 3)) (Gen.choose (0, 3))))) (fun ((lanes, depth), (ldPad, stridePad)) ->
        transposes<float32> float32 lanes depth ldPad stridePad .&. transposes<float> float lanes depth ldPad stridePad)
