namespace FunctionalBackprop.Core

open System
open System.Numerics

/// Inverted dropout (Srivastava et al., 2014, with the scaling moved to training time): in
/// training each unit of each example is kept with probability 1 − p and scaled by 1/(1 − p), or
/// set to 0; in inference the layer is the identity, so nothing needs rescaling after training.
/// No parameters; the output has the input's shape. Immutable.
type Dropout =
    internal { rate: float }

    /// p, the probability that a unit is dropped, in [0, 1).
    member d.Rate = d.rate

    /// "dropout(p = 0.5)", in the invariant culture.
    override d.ToString() = $"dropout(p = {d.rate.ToString(Globalization.CultureInfo.InvariantCulture)})"

/// The dropout kind: its masks, and its forward and backward steps.
///
/// The masks are drawn from a counter-based stream: the keep decision of unit u of the example at
/// position i of the epoch's order, in the layer at position l of the network, at optimizer step
/// t of the run seeded s, is a hash of (s, l, t, i, u) (SplitMix64's mixing, chained), not the
/// next number of a generator. So it does not depend on which thread, shard or machine computes
/// the example, nor on the order they run in: K shards and K workers draw the masks one shard
/// draws, and a run resumed from a checkpoint draws the masks the uninterrupted run drew.
module Dropout =

    /// The layer that drops with probability `rate`, 0 ≤ rate < 1 (0 keeps every unit). Throws
    /// ArgumentOutOfRangeException naming the rate otherwise.
    let create (rate: float) : Dropout =
        if not (rate >= 0.0 && rate < 1.0) then
            raise (ArgumentOutOfRangeException("rate", rate, $"A dropout rate is a probability in [0, 1): the chance that a unit is dropped, got {rate.ToString(Globalization.CultureInfo.InvariantCulture)}."))
        { rate = rate }

    /// Shape rule: the input's shape.
    let outputShape (input: Shape) : Shape = input

    /// Separates dropout's streams from every other use of the run's seed ("dropout" in ASCII).
    let private domain = 0x64726F706F7574UL

    /// The stream of the example at `position` in the layer at `layer` (from 1) at the key's step.
    let private streamOf (key: BatchKey) (layer: int) (position: int) : uint64 =
        let run = Random.derive (Random.derive key.Seed domain) (uint64 layer)
        Random.derive (Random.derive run (uint64 key.Step)) (uint64 position)

    /// Whether unit u survives in the stream: its uniform draw on [0, 1) (53 bits) is at least p.
    let inline private kept (rate: float) (stream: uint64) (u: int) : bool =
        float (Random.derive stream (uint64 u) >>> 11) * (1.0 / 9007199254740992.0) >= rate

    /// The factor unit u of example `example` of the batch is multiplied by: 1/(1 − p) or 0 in
    /// training, 1 in inference. The forward and backward steps and the scalar rule all use it.
    let multiplier<'T when 'T :> IFloatingPointIeee754<'T>> (d: Dropout) (mode: Mode) (layer: int) (example: int) (u: int) : 'T =
        match mode with
        | Mode.Inference -> 'T.One
        | Mode.Training key ->
            if kept d.rate (streamOf key layer (key.First + example)) u then Real.ofFloat (1.0 / (1.0 - d.rate)) else 'T.Zero

    /// z = a_in ⊙ m into z, with the multipliers m written into mask (the layer's one scratch
    /// buffer, shaped like z) for the backward step; `draws` is the mode's key (none in
    /// inference), `layer` the layer's position (from 1).
    [<HotPath>]
    let internal forwardInto (d: Dropout) (draws: BatchKey voption) (layer: int) (input: Matrix<'T>) (z: Matrix<'T>) (mask: Matrix<'T>) : unit =
        match draws with
        | ValueNone -> Array.Fill(mask.values, 'T.One)
        | ValueSome key ->
            let scale: 'T = Real.ofFloat (1.0 / (1.0 - d.rate))
            let rows = input.rows
            for j in 0 .. input.cols - 1 do
                let stream = streamOf key layer (key.First + j)
                for u in 0 .. rows - 1 do
                    mask.values.[j * rows + u] <- if kept d.rate stream u then scale else 'T.Zero
        // z = a_in ⊙ m
        let m, a = mask.values, input.values
        for k in 0 .. a.Length - 1 do
            z.values.[k] <- a.[k] * m.[k]

    /// ∂C/∂a_in = ∂C/∂z ⊙ m, with the multipliers the forward step kept.
    [<HotPath>]
    let internal backwardInto (delta: Matrix<'T>) (mask: Matrix<'T>) (inputGradient: Matrix<'T> voption) : unit =
        match inputGradient with
        | ValueSome below ->
            let m, g = mask.values, delta.values
            for k in 0 .. g.Length - 1 do
                below.values.[k] <- g.[k] * m.[k]
        | ValueNone -> ()

    /// zᵤ = aᵤ·mᵤ for example `example` of the batch, one scalar at a time.
    let scalarForward (s: ScalarArithmetic<'S>) (d: Dropout) (mode: Mode) (layer: int) (example: int) (input: 'S[]) : 'S[] =
        input |> Array.mapi (fun u a -> s.Multiply(a, s.Lift(multiplier<float> d mode layer example u)))
