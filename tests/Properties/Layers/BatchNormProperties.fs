/// Batch normalisation as PyTorch defines it: the batch's statistics in training, the running
/// ones in inference, and running statistics that move by the momentum towards the batch's mean
/// and unbiased variance, over the whole batch whatever the shards; each shard normalised by its
/// own examples.
module FunctionalBackprop.Properties.BatchNormProperties

open System
open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open FunctionalBackprop.Core

/// A batch-normalisation layer on images (or vectors, for one-pixel images of C channels) with
/// its settings, the batch, and running statistics already moved away from 0 and 1.
type Normalised =
    { Channels: int
      Pixels: int
      Batch: int
      Momentum: float
      Epsilon: float
      Seed: uint64 }

    member n.Input = if n.Pixels = 1 then Shape.Vector n.Channels else Shape.Image(n.Channels, 1, n.Pixels)

    /// The layer alone, with γ, β and the running statistics drawn from the seed.
    member n.Network() : Network<float> =
        let draw (k: uint64) (lo: float) = Random.normals (Random.derive n.Seed k) 0.0 1.0 n.Channels |> Array.map (fun v -> lo + abs v) |> Matrix.ofColumnMajor n.Channels 1
        let layer = Layer.ofTensors (LayerSpec.BatchNorm(n.Momentum, n.Epsilon)) n.Input [ draw 1UL 0.5; draw 2UL -1.0 ] [ draw 3UL -1.0; draw 4UL 0.1 ]
        Network.create n.Input [ layer ]

    member n.Inputs() : Matrix<float> =
        Random.normals (Random.derive n.Seed 5UL) 0.3 2.0 (n.Channels * n.Pixels * n.Batch) |> Matrix.ofColumnMajor (n.Channels * n.Pixels) n.Batch

    override n.ToString() = $"{n.Batch} × {n.Input}, m = {n.Momentum}, ε = {n.Epsilon}, seed {n.Seed}"

type BatchNormArbitraries =
    static member Normalised() =
        gen {
            let! channels = Gen.choose (1, 4)
            let! pixels = Gen.elements [ 1; 1; 3; 6 ]
            let! batch = Gen.choose (2, 9)
            let! momentum = Gen.elements [ 0.0; 0.1; 0.5; 1.0 ]
            let! epsilon = Gen.elements [ 1e-5; 1e-3 ]
            let! seed = Gen.choose (0, Int32.MaxValue)
            return { Channels = channels; Pixels = pixels; Batch = batch; Momentum = momentum; Epsilon = epsilon; Seed = uint64 seed }
        }
        |> Arb.fromGen

/// Channel ch's values over the examples in the columns first … first + count − 1.
let private channel (n: Normalised) (x: Matrix<float>) (first: int) (count: int) (ch: int) : float[] =
    [| for j in first .. first + count - 1 do
           for p in 0 .. n.Pixels - 1 -> x.[ch * n.Pixels + p, j] |]

let private stateOf (network: Network<float>) = network.State |> List.map (fun m -> m.ToArray())

[<Properties(Arbitrary = [| typeof<BatchNormArbitraries> |], MaxTest = 100)>]
module Properties =

    [<Property>]
    let ``in inference z = γ·(x − μ_run)/√(σ²_run + ε) + β`` (n: Normalised) =
        let network, x = n.Network(), n.Inputs()
        let gamma, beta = network.Layers.Head |> Layer.parameters |> List.map (fun m -> m.ToArray()) |> fun l -> l.[0], l.[1]
        let mean, variance = stateOf network |> fun l -> l.[0], l.[1]
        let z = Forward.run network x
        [ for j in 0 .. n.Batch - 1 do
              for ch in 0 .. n.Channels - 1 do
                  for p in 0 .. n.Pixels - 1 ->
                      let expected = gamma.[ch] * ((x.[ch * n.Pixels + p, j] - mean.[ch]) * (1.0 / Math.Sqrt(variance.[ch] + n.Epsilon))) + beta.[ch]
                      BitConverter.DoubleToInt64Bits z.[ch * n.Pixels + p, j] = BitConverter.DoubleToInt64Bits expected
                      |> Prop.label $"example {j}, channel {ch}, pixel {p}: {z.[ch * n.Pixels + p, j]:R} vs {expected:R}" ]
        |> List.reduce (.&.)
        |> Prop.label (string n)

    [<Property>]
    let ``in training each channel of each shard is normalised by the shard's mean and biased variance`` (n: Normalised) (k: int) =
        let k = 1 + abs k % 3
        let network, x = n.Network(), n.Inputs()
        let gamma, beta = network.Layers.Head |> Layer.parameters |> List.map (fun m -> m.ToArray()) |> fun l -> l.[0], l.[1]
        [ for s in 0 .. Shards.count n.Batch k - 1 do
              let struct (first, size) = Shards.range n.Batch k s
              let z = (Forward.trace (Mode.Training { Seed = 1UL; Step = 1L; First = first }) network (Matrix.sliceColumns first size x)).Output
              for ch in 0 .. n.Channels - 1 do
                  let values = channel n x first size ch
                  let mu = Array.average values
                  let variance = values |> Array.averageBy (fun v -> (v - mu) ** 2.0)
                  for j in 0 .. size - 1 do
                      for p in 0 .. n.Pixels - 1 ->
                          let expected = gamma.[ch] * (x.[ch * n.Pixels + p, first + j] - mu) / Math.Sqrt(variance + n.Epsilon) + beta.[ch]
                          let actual = z.[ch * n.Pixels + p, j]
                          abs (actual - expected) <= 1e-12 * (1.0 + abs expected) |> Prop.label $"shard {s}, example {j}, channel {ch}: {actual:R} vs {expected:R}" ]
        |> List.reduce (.&.)
        |> Prop.label (string n)

    [<Property>]
    let ``a training step moves the running statistics by the momentum to the whole batch's mean and unbiased variance, whatever the shards`` (n: Normalised) (k: int) =
        let k = 1 + abs k % 3
        let network, x = n.Network(), n.Inputs()
        let y = Forward.run network x
        // one step of plain gradient descent at rate 0 on the whole batch: only the state moves
        let options = { TrainingOptions.create Loss.Quadratic (Optimizer.sgd (Schedule.Constant 1e-300)) 1 n.Batch with Shards = k; Seed = 3UL }
        let trained = (Training.train options network x y).Network
        let before, after = stateOf network, stateOf trained
        [ for ch in 0 .. n.Channels - 1 ->
              let values = channel n x 0 n.Batch ch
              let mu = Array.average values
              let unbiased = (values |> Array.sumBy (fun v -> (v - mu) ** 2.0)) / float (values.Length - 1)
              let mean = (1.0 - n.Momentum) * before.[0].[ch] + n.Momentum * mu
              let variance = (1.0 - n.Momentum) * before.[1].[ch] + n.Momentum * unbiased
              (abs (after.[0].[ch] - mean) <= 1e-12 * (1.0 + abs mean) |> Prop.label $"channel {ch}: running mean {after.[0].[ch]:R}, expected {mean:R}")
              .&. (abs (after.[1].[ch] - variance) <= 1e-12 * (1.0 + abs variance) |> Prop.label $"channel {ch}: running variance {after.[1].[ch]:R}, expected {variance:R}") ]
        |> List.reduce (.&.)
        |> Prop.label (string n)

    [<Property>]
    let ``the state a training run reaches is the same bits run after run, and Network.updateState gives the fold's`` (n: Normalised) =
        let network, x = n.Network(), n.Inputs()
        let y = Forward.run network x
        // One shard, as the trace below is the whole batch's (the automatic count is two with the
        // managed kernel on two cores, and each shard normalises by its own statistics).
        let options = { TrainingOptions.create Loss.Quadratic (Optimizer.sgd (Schedule.Constant 1e-300)) 1 n.Batch with Seed = 3UL; Shards = 1 }
        let once, twice = (Training.train options network x y).Network, (Training.train options network x y).Network
        let trace = Forward.trace (Mode.Training { Seed = 3UL; Step = 1L; First = 0 }) network x
        let updated = Network.updateState trace.Statistics network
        (Bits.ofValues (Array.concat (stateOf once)) = Bits.ofValues (Array.concat (stateOf twice)) |> Prop.label "run after run")
        .&. (Bits.ofValues (Array.concat (stateOf updated)) = Bits.ofValues (Array.concat (stateOf once)) |> Prop.label "updateState")
        |> Prop.label (string n)
