/// Inverted dropout: the identity in inference; in training each value kept and scaled by
/// 1/(1 − p), or dropped, with probability p; masks that depend on the key and the example's
/// place in the epoch, never on how the batch is split.
module FunctionalBackprop.Properties.DropoutProperties

open System
open Xunit
open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open FunctionalBackprop.Core
open FunctionalBackprop.Properties.Generators
open FunctionalBackprop.Properties.Messages

/// A dropout layer of `units` units behind an identity dense layer, a batch for it, and a key.
type Masked =
    { Rate: float
      Units: int
      Batch: int
      Key: BatchKey }

    /// Dense(units) (identity, He weights), then dropout: the dropout layer is layer 2.
    member m.Network<'T when 'T :> Numerics.IFloatingPointIeee754<'T>>() : Network<'T> =
        Network.init m.Key.Seed (Shape.Vector 3) [ LayerSpec.Dense(m.Units, Activation.Identity, Some Initializer.HeNormal); LayerSpec.Dropout m.Rate ]

    /// Inputs drawn from the key's seed.
    member m.Inputs<'T when 'T :> Numerics.IFloatingPointIeee754<'T>>() : Matrix<'T> =
        Random.normals (Random.derive m.Key.Seed 7UL) 0.0 1.0 (3 * m.Batch) |> Array.map Real.ofFloat<'T> |> Matrix.ofColumnMajor 3 m.Batch

let private key =
    gen {
        let! seed = Gen.choose (0, Int32.MaxValue)
        let! step = Gen.choose (1, Int32.MaxValue)
        let! first = Gen.choose (0, 1000000)
        return { Seed = uint64 seed; Step = int64 step; First = first }
    }

type DropoutArbitraries =
    static member Masked() =
        gen {
            let! rate = Gen.choose (0, 95) |> Gen.map (fun k -> float k / 100.0)
            let! units = Gen.choose (1, 40)
            let! batch = Gen.choose (1, 12)
            let! k = key
            return { Rate = rate; Units = units; Batch = batch; Key = k }
        }
        |> Arb.fromGen
    static member Key() = Arb.fromGen key
    static member Shards() = Arb.fromGen (Gen.choose (1, 3))

/// The dropout layer's input and output, and the multipliers it kept, for the batch in a mode.
let private passThrough<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> (m: Masked) (mode: Mode) =
    let t = Forward.trace mode (m.Network<'T> ()) (m.Inputs<'T> ())
    let dropout = t.Layers.[1]
    dropout.Input.ToArray(), dropout.A.ToArray(), dropout.Scratch.Head.ToArray()

/// In training mode, every multiplier is 0 or 1/(1 − p) (rounded once to 'T), and z = a ⊙ m.
let private keptOrDropped<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> (m: Masked) =
    let input, output, mask = passThrough<'T> m (Mode.Training m.Key)
    let scale: 'T = Real.ofFloat (1.0 / (1.0 - m.Rate))
    (mask |> Array.forall (fun v -> 'T.IsZero v || 'T.op_Equality (v, scale)) |> Prop.label $"every multiplier 0 or {scale}")
    .&. (Bits.ofValues output = Bits.ofValues (Array.map2 (fun (a: 'T) (k: 'T) -> a * k) input mask) |> Prop.label "z = a ⊙ m")

[<Properties(Arbitrary = [| typeof<DropoutArbitraries> |], MaxTest = 100)>]
module Properties =

    [<Property>]
    let ``in inference dropout is the identity, bit for bit`` (m: Masked) =
        let input, output, _ = passThrough<float> m Mode.Inference
        Bits.ofValues output = Bits.ofValues input

    [<Property>]
    let ``in training each value is kept and scaled by 1/(1 − p), or set to 0`` (m: Masked) (f32: bool) =
        if f32 then keptOrDropped<float32> m else keptOrDropped<float> m

    /// Over 40,000 values the kept count K is binomial(40,000, 1 − p): |K/N − (1 − p)| exceeds
    /// 5σ, σ = √(p(1 − p)/N), with probability under 6·10⁻⁷ per case, so under 10⁻⁴ for the
    /// property's 100 cases if the draws are fair; a biased or correlated stream fails it.
    [<Property>]
    let ``the fraction kept is 1 − p`` (k: BatchKey) (rate: int) =
        let p = float (abs rate % 10) / 10.0
        let m = { Rate = p; Units = 400; Batch = 100; Key = k }
        let _, _, mask = passThrough<float> m (Mode.Training k)
        let kept = mask |> Array.filter (fun v -> v <> 0.0) |> Array.length
        let n = float mask.Length
        let sigma = Math.Sqrt(p * (1.0 - p) / n)
        abs (float kept / n - (1.0 - p)) <= 5.0 * sigma + 1e-12
        |> Prop.label $"p = {p}: kept {kept} of {n}, expected {(1.0 - p) * n} ± {5.0 * sigma * n:F0}"

    /// Dropout's masks at p = 0.5 over 256 units: another step, seed, layer position or place in
    /// the epoch draws the same mask only with probability 2⁻²⁵⁶; the same key draws it again.
    [<Property>]
    let ``the mask is a function of the key and the example's place, and of nothing else`` (k: BatchKey) =
        let m = { Rate = 0.5; Units = 256; Batch = 1; Key = k }
        let mask key = let _, _, mask = passThrough<float> m (Mode.Training key) in Bits.ofValues mask
        (mask k = mask k |> Prop.label "the same key")
        .&. (mask k <> mask { k with Step = k.Step + 1L } |> Prop.label "another step")
        .&. (mask k <> mask { k with Seed = k.Seed + 1UL } |> Prop.label "another seed")
        .&. (mask k <> mask { k with First = k.First + 1 } |> Prop.label "another place")

    [<Property>]
    let ``the masks of a batch split into 1, 2 or 3 shards are the masks of the whole batch`` (m: Masked) (shards: int) =
        let network, x = m.Network<float> (), m.Inputs<float> ()
        let whole = (Forward.trace (Mode.Training m.Key) network x).Layers.[1].Scratch.Head
        let parts =
            [ for i in 0 .. Shards.count m.Batch shards - 1 ->
                  let struct (first, size) = Shards.range m.Batch shards i
                  let mode = Mode.part first (Mode.Training m.Key)
                  (Forward.trace mode network (Matrix.sliceColumns first size x)).Layers.[1].Scratch.Head.ToArray() ]
        Bits.ofValues (Array.concat parts) = Bits.ofValues (whole.ToArray())

    [<Property>]
    let ``backprop through dropout sends ∂C/∂z ⊙ mask below and equals central differences`` (m: Masked) =
        let network = m.Network<float> ()
        let x = m.Inputs<float> ()
        let y = Matrix.init m.Units m.Batch (fun i j -> float ((i + j) % 3) - 1.0)
        let report = GradientCheck.run (Mode.Training m.Key) Loss.Quadratic network x y
        (report.MaxRelativeError < 1e-6 |> Prop.label $"max relative error {report.MaxRelativeError:E2} at {report.Worst}")
        .&. (report.Resolved = report.Checked |> Prop.label $"{report.Resolved} of {report.Checked} resolved")

[<Theory>]
[<InlineData("-0.1")>]
[<InlineData("1")>]
[<InlineData("1.5")>]
[<InlineData("NaN")>]
[<InlineData("Infinity")>]
let ``a rate outside [0, 1) is refused, naming the rate and its value`` (written: string) =
    let rate = Double.Parse(written, Globalization.CultureInfo.InvariantCulture)
    let e = refused<ArgumentOutOfRangeException> (fun () -> box (Dropout.create rate))
    Assert.Equal("rate", e.ParamName)
    Assert.Contains($"got {rate}", e.Message)

[<Fact>]
let ``a rate of 0 keeps every value`` () =
    let m = { Rate = 0.0; Units = 50; Batch = 4; Key = { Seed = 3UL; Step = 1L; First = 0 } }
    let input, output, _ = passThrough<float> m (Mode.Training m.Key)
    Assert.Equal<int64[]>(Bits.ofValues input, Bits.ofValues output)
