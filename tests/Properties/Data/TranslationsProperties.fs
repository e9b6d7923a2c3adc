/// Images moved by whole pixels (training data augmented with shifted copies): each pixel is the
/// one dy rows above and dx columns left of it, or 0 from outside; a move and its opposite give
/// back the pixels that stayed inside; augmenting keeps each example and its target beside its
/// moved copies.
module FunctionalBackprop.Properties.TranslationsProperties

open System
open Xunit
open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open FunctionalBackprop.Core
open FunctionalBackprop.Properties.Generators

/// Images of c × h × w with values drawn from a seed, and a move (dy, dx) that may leave nothing
/// inside (|d| up to the size and one beyond).
type Moved = { C: int; H: int; W: int; Dy: int; Dx: int; Seed: uint64 }

type TranslationArbitraries =
    static member Moved() =
        gen {
            let! c = Gen.choose (1, 3)
            let! h = Gen.choose (1, 9)
            let! w = Gen.choose (1, 9)
            let! dy = Gen.choose (-h - 1, h + 1)
            let! dx = Gen.choose (-w - 1, w + 1)
            let! seed = Gen.choose (0, Int32.MaxValue)
            return { C = c; H = h; W = w; Dy = dy; Dx = dx; Seed = uint64 seed }
        }
        |> Arb.fromGen

let private image (m: Moved) : float[] = Random.normals m.Seed 0.0 1.0 (m.C * m.H * m.W)

let private moved (m: Moved) (dy: int) (dx: int) (x: float[]) : float[] =
    let target = Array.create x.Length nan
    Translations.translateInto (Shape.Image(m.C, m.H, m.W)) (struct (dy, dx)) (ReadOnlySpan x) (Span target)
    target

[<Properties(Arbitrary = [| typeof<TranslationArbitraries> |], MaxTest = 300)>]
module Moves =

    [<Property>]
    let ``each pixel is the one dy rows above and dx columns left, or 0 from outside`` (m: Moved) =
        let x = image m
        let y = moved m m.Dy m.Dx x
        [ for ch in 0 .. m.C - 1 do
              for row in 0 .. m.H - 1 do
                  for col in 0 .. m.W - 1 do
                      let fromRow, fromCol = row - m.Dy, col - m.Dx
                      let expected = if fromRow >= 0 && fromRow < m.H && fromCol >= 0 && fromCol < m.W then x.[(ch * m.H + fromRow) * m.W + fromCol] else 0.0
                      y.[(ch * m.H + row) * m.W + col] = expected |> Prop.label $"({ch}, {row}, {col})" ]
        |> List.fold (.&.) (Prop.ofTestable true)

    [<Property>]
    let ``moving back gives the pixels that stayed inside, and 0 where they left`` (m: Moved) =
        let x = image m
        let back = x |> moved m m.Dy m.Dx |> moved m -m.Dy -m.Dx
        let stayed (row: int) (col: int) = row + m.Dy >= 0 && row + m.Dy < m.H && col + m.Dx >= 0 && col + m.Dx < m.W
        [ for ch in 0 .. m.C - 1 do
              for row in 0 .. m.H - 1 do
                  for col in 0 .. m.W - 1 do
                      let k = (ch * m.H + row) * m.W + col
                      back.[k] = (if stayed row col then x.[k] else 0.0) |> Prop.label $"({ch}, {row}, {col})" ]
        |> List.fold (.&.) (Prop.ofTestable true)

[<Fact>]
let ``augmenting puts each example first, then its four moved copies, each with its target`` () =
    let shape = Shape.Image(2, 3, 4)
    let n = 5
    let inputs = Matrix.ofColumns [| for j in 0 .. n - 1 -> Random.normals (uint64 j) 0.0 1.0 24 |]
    let targets = Matrix.ofColumns [| for j in 0 .. n - 1 -> [| float j; -float j |] |]
    let moves = Translations.fourWays 1
    let x, t = Translations.augment shape moves inputs targets
    Assert.Equal(5 * n, x.Cols)
    Assert.Equal(5 * n, t.Cols)
    let columns, labels = Matrix.toColumns x, Matrix.toColumns t
    let originals = Matrix.toColumns inputs
    for j in 0 .. n - 1 do
        Assert.Equal<float[]>(originals.[j], columns.[5 * j])
        moves |> List.iteri (fun k move ->
            let expected = Array.zeroCreate 24
            Translations.translateInto shape move (ReadOnlySpan originals.[j]) (Span expected)
            Assert.Equal<float[]>(expected, columns.[5 * j + 1 + k]))
        for k in 0 .. 4 do
            Assert.Equal<float[]>([| float j; -float j |], labels.[5 * j + k])

[<Fact>]
let ``vectors cannot be moved, and inputs of another size are refused`` () =
    let e = Assert.Throws<ArgumentException>(fun () -> Translations.translateInto (Shape.Vector 4) (struct (1, 0)) (ReadOnlySpan(Array.zeroCreate<float> 4)) (Span(Array.zeroCreate<float> 4)))
    Assert.Contains("vectors of 4 values", e.Message)
    let inputs = Matrix.ofColumns [| Array.zeroCreate<float> 10 |]
    let targets = Matrix.ofColumns [| [| 1.0 |] |]
    let e = Assert.Throws<ArgumentException>(fun () -> Translations.augment (Shape.Image(1, 3, 3)) (Translations.fourWays 1) inputs targets |> ignore)
    Assert.Contains("10 values each, not the 9 of a 1×3×3 image", e.Message)
