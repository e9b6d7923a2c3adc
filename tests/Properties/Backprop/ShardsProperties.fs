/// Data-parallel mini-batches: a batch's gradient as the ordered sum of its shards' shares.
module FunctionalBackprop.Properties.ShardsProperties

open System
open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open FunctionalBackprop.Core
open FunctionalBackprop.Properties.Generators

/// A backprop problem (a network of every kind of layer), a shard count up to past its batch
/// size, and whether its passes run in training mode (dropout drawing its masks) or inference.
type ShardCase =
    { Case: LayeredCase; Shards: int; Float32: bool; Training: bool }

    /// The mode of the batch's passes.
    member s.Mode = if s.Training then s.Case.Mode else Mode.Inference

type ShardArbitraries =
    static member ShardCase() =
        gen {
            let! c = layeredOf case
            let! k = Gen.choose (2, 20)
            let! f32 = Gen.elements [ false; true ]
            let! training = Gen.elements [ false; true ]
            return { Case = c; Shards = k; Float32 = f32; Training = training }
        }
        |> Arb.fromGen
    static member Provider() = Arbitraries.Provider()
    static member Batch() = Arb.fromGen (Gen.zip (Gen.choose (1, 300)) (Gen.choose (1, 40)))

let private flatten (g: Gradients<'T>) = Gradients.toArray g |> Array.map Real.toFloat

/// The sharded and the one-shard gradient, each within its rounding bound of the exact gradient
/// (RoundingBound: any summation order, so any split of the batch's sums), hence within twice the
/// bound of each other; the mean costs likewise within their summation's rounding.
let private closeToOneShard<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> (s: ShardCase) =
    let c = s.Case.Case
    let network, x, y = s.Case.Network<'T> (), c.Inputs<'T> (), c.TargetMatrix<'T> ()
    let cost1, g1 = Backprop.lossAndGradient s.Mode c.Loss network x y
    let costK, gK = Shards.lossAndGradient s.Shards s.Mode c.Loss network x y
    let eps = Real.epsilon<'T> ()
    let bound = RoundingBound.gradient eps s.Mode c.Loss (Network.convert<'T, float> network) (Matrix.convert<'T, float> x) (Matrix.convert<'T, float> y)
    let a, b = flatten g1, flatten gK
    // Below float32's (or float64's) normal range rounding is absolute; see PrecisionProperties.
    let underflow = if typeof<'T> = typeof<float32> then 1e-36 else 1e-300
    let worst = Array.init a.Length id |> Array.tryFind (fun i -> Math.Abs(a.[i] - b.[i]) - underflow > 2.0 * eps * bound.[i])
    // Each cost likewise within its rounding bound of the exact cost (RoundingBound.cost): the
    // terms come from differently shaped products, so they differ by rounding, not only their sum.
    let costBound = RoundingBound.cost eps s.Mode c.Loss (Network.convert<'T, float> network) (Matrix.convert<'T, float> x) (Matrix.convert<'T, float> y)
    let costsClose = Math.Abs(Real.toFloat cost1 - Real.toFloat costK) <= 2.0 * eps * costBound + underflow
    match worst with
    | Some i -> false |> Prop.label $"entry {i}: one shard {a.[i]:R}, {s.Shards} shards {b.[i]:R}, bound 2ε·{bound.[i]:R}"
    | None -> costsClose |> Prop.label $"costs {Real.toFloat cost1:R} and {Real.toFloat costK:R}, bound 2ε·{costBound:R}"

[<Properties(Arbitrary = [| typeof<ShardArbitraries> |], MaxTest = 100)>]
module Properties =

    [<Property>]
    let ``the shards of a batch partition it in order, their sizes differing by at most one`` ((n, k): int * int) =
        let used = Shards.count n k
        let ranges = [ for i in 0 .. used - 1 -> Shards.range n k i ]
        let sizes = ranges |> List.map (fun struct (_, size) -> size)
        let examples = ranges |> List.collect (fun struct (first, size) -> [ first .. first + size - 1 ])
        (used = Math.Min(n, k)) |> Prop.label "min(k, n) shards"
        .&. (examples = [ 0 .. n - 1 ]) |> Prop.label "every example once, in order"
        .&. (List.max sizes - List.min sizes <= 1 && List.min sizes >= 1) |> Prop.label $"sizes {sizes}"

    [<Property>]
    let ``a batch's gradient through k shards equals its one-shard gradient within rounding`` (s: ShardCase) (p: Provider) =
        p.Run(fun () -> if s.Float32 then closeToOneShard<float32> s else closeToOneShard<float> s)

    [<Property>]
    let ``a batch's gradient through k shards is the ordered sum of the shards' shares`` (s: ShardCase) (p: Provider) =
        // The definition, entry by entry and bit for bit: share₀ + share₁ + … in shard order.
        p.Run(fun () ->
            let c = s.Case.Case
            let network, x, y = s.Case.Network<float> (), c.Inputs<float> (), c.TargetMatrix<float> ()
            let n = x.Cols
            let shares =
                [ for i in 0 .. Shards.count n s.Shards - 1 ->
                      let struct (first, size) = Shards.range n s.Shards i
                      Shards.share (Mode.part first s.Mode) c.Loss network (Matrix.sliceColumns first size x) (Matrix.sliceColumns first size y) n ]
            let expected = shares |> List.map (fun share -> Gradients.toArray share.Gradient) |> List.reduce (Array.map2 (+))
            let _, gK = Shards.lossAndGradient s.Shards s.Mode c.Loss network x y
            (shares.Length = 1 || Bits.ofValues expected = Bits.ofGradients gK) |> Prop.label "the sum in shard order")
