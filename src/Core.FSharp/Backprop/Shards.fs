namespace FunctionalBackprop.Core

open System
open System.Numerics

/// The buffers of one shard of a batch, reused step after step: its pass (whose batch Pass.X
/// holds the shard's inputs) and its targets.
type internal ShardBuffers<'T when 'T :> IFloatingPointIeee754<'T>> = { Pass: Pass<'T>; Y: Matrix<'T> }

/// What one shard of a batch contributes: its costs, its share of the gradient, and what its
/// pass reported for the layers' state.
type Share<'T when 'T :> IFloatingPointIeee754<'T>> =
    { /// Σₓ Cₓ over the shard's examples, in float64.
      Total: float
      /// (1/n) Σₓ ∇Cₓ over the shard's examples, n the whole batch's size.
      Gradient: Gradients<'T>
      /// The pass's statistics for the layers' state (batch normalisation's count, Σx and Σx²
      /// over the shard's examples; empty for networks without state): the batch's are the
      /// shards' added in shard order.
      Statistics: float[] }

/// Data-parallel mini-batches. A batch's mean cost and gradient are sums over its examples,
///   C = (1/n) Σₓ Cₓ,   ∇C = (1/n) Σₓ ∇Cₓ = Σₖ (1/n) Σ_{x ∈ shard k} ∇Cₓ,
/// so a batch split into shards has for gradient the sum of its shards' shares, each computed by
/// the one backward pass (Backprop) on the shard's examples alone, anywhere: on another core,
/// or another machine. The shares are added in shard order, never in the order they finish, so a
/// run is bit-identical from one run to the next for a given shard count; different counts agree
/// within the rounding of the sum. Every shard of a sharded batch runs its products on one thread
/// (the shards themselves keep the cores busy), which makes a shard's share the same bits wherever
/// it is computed.
module Shards =

    /// The shard count used for a batch of n examples when k are asked for: min(k, n).
    let count (n: int) (k: int) : int = Math.Max(1, Math.Min(k, n))

    /// The examples of shard i of a batch of n split `count n k` ways, as (first, count): sizes
    /// ⌈n/k⌉ for the first n mod k shards and ⌊n/k⌋ after, in batch order.
    let range (n: int) (k: int) (i: int) : struct (int * int) =
        let k = count n k
        let small, larger = n / k, n % k
        struct (i * small + Math.Min(i, larger), small + (if i < larger then 1 else 0))

    /// The shard count when none is asked for (0): one per processor when products run on the
    /// managed kernel, and 1 when a native BLAS runs them: it already spreads each large product
    /// over every core, and at small sizes it spends much of a product packing the weights, which
    /// every shard repeats (measured on 2 cores: with OpenBLAS, two shards were no faster on W3
    /// and slower on W1 and W4; with the managed kernel they made W1 1.4× and W3 1.7× faster; see
    /// docs/performance.md).
    let automatic () : int =
        match Gemm.provider () with
        | :? NativeGemm -> 1
        | _ -> Environment.ProcessorCount

    /// The shard count when none is asked for, for this network: one per processor for networks
    /// with convolution or pooling layers, whose windows are laid out, pooled and added back on
    /// the shard's own thread between small products that a native BLAS cannot spread over the
    /// cores; otherwise as automatic. (With batch normalisation each shard normalises by its own
    /// examples, so the count, and with it the processor count, changes the result beyond
    /// rounding: give Shards explicitly for runs that must agree across machines.)
    let automaticFor (network: Network<'T>) : int =
        let windowed = network.Layers |> List.exists (fun l -> match l with Layer.Conv2D _ | Layer.MaxPool2D _ | Layer.AvgPool2D _ -> true | _ -> false)
        if windowed then Environment.ProcessorCount else automatic ()

    /// Why a shard count cannot be asked for, if it cannot: it must be 0 (automatic) or more.
    let problem (asked: int) : string option =
        if asked < 0 then Some $"The shard count must be 0 (automatic) or more, got {asked}." else None

    /// The count asked for, or `automatic ()` for 0; ArgumentOutOfRangeException naming "Shards" for a negative one.
    let private resolveWith (automatic: unit -> int) (asked: int) : int =
        match problem asked with
        | Some why -> raise (ArgumentOutOfRangeException("Shards", asked, why))
        | None -> if asked = 0 then automatic () else asked

    /// The shard count asked for, or the automatic one for 0. Throws ArgumentOutOfRangeException
    /// (naming "Shards") for a negative count.
    let resolve (asked: int) : int = resolveWith automatic asked

    /// The shard count asked for, or the network's automatic one for 0 (automaticFor). Throws
    /// ArgumentOutOfRangeException (naming "Shards") for a negative count.
    let resolveFor (network: Network<'T>) (asked: int) : int = resolveWith (fun () -> automaticFor network) asked

    /// Runs f with this thread's products kept on one thread when the batch is sharded.
    let internal onOneThread (sharded: bool) (f: unit -> 'R) : 'R =
        if not sharded then f ()
        else
            let saved = GemmScope.SingleThreaded
            GemmScope.SingleThreaded <- true
            try f () finally GemmScope.SingleThreaded <- saved

    /// ∇C = share₀ + share₁ + …, entry by entry in shard order, into gradient (arrays shaped as
    /// the shares'): the ordered sum, written once for the training fold and for lossAndGradient.
    [<HotPath>]
    let internal sumInto (gradient: 'T[][]) (shares: 'T[][][]) : unit =
        if shares.Length = 1 then Parameters.copyInto shares.[0] gradient
        else
            Parameters.iter
                (fun a g ->
                    Elementwise.add (ReadOnlySpan shares.[0].[a], ReadOnlySpan shares.[1].[a], Span g)
                    for k in 2 .. shares.Length - 1 do
                        Elementwise.add (ReadOnlySpan g, ReadOnlySpan shares.[k].[a], Span g))
                gradient

    /// Σₓ Cₓ over the batch: the shards' sums added in shard order.
    let internal total (totals: float[]) : float =
        let mutable sum = 0.0
        for t in totals do
            sum <- sum + t
        sum

    /// A shard's share of a batch of `examples` examples, from the shard's own inputs x and
    /// targets y in the shard's mode (whose key places its examples in the epoch's order): the sum
    /// of its costs Σₓ Cₓ (float64), (1/examples) Σₓ ∇Cₓ over its examples and its pass's
    /// statistics. Batch normalisation in training normalises each shard by the shard's own
    /// statistics (as PyTorch's data-parallel training does without SyncBatchNorm), so with it a
    /// share is that of the shard as a batch of its own. Pure: computed in
    /// new buffers, with every product on this thread when the batch is sharded (x holds fewer
    /// than `examples`), as the training fold's shards run, so that a share has the same bits
    /// wherever it is computed.
    let share (mode: Mode) (loss: Loss) (network: Network<'T>) (x: Matrix<'T>) (y: Matrix<'T>) (examples: int) : Share<'T> =
        Network.checkInputs network x
        Network.checkTargets network loss x y
        if examples < x.Cols then
            raise (ArgumentOutOfRangeException("examples", examples, $"The batch's {examples} examples cannot be fewer than the shard's {x.Cols}."))
        let pass = Backprop.allocate network x
        let total = onOneThread (x.Cols < examples) (fun () -> Backprop.lossAndGradientInto (Mode.key mode) loss network pass y examples)
        { Total = total; Gradient = pass.Gradients; Statistics = pass.Statistics }

    /// Buffers for a shard of `size` examples of the network's batches.
    let internal buffers (network: Network<'T>) (size: int) : ShardBuffers<'T> =
        { Pass = Backprop.allocate network (Matrix.zeros network.InputWidth size); Y = Matrix.zeros network.OutputWidth size }

    /// share, in a shard's own buffers and without allocating: gathers the examples
    /// indices[0 … size − 1] of inputs and targets into b and runs the shard's forward and backward
    /// passes with the shard's key (none in inference); returns Σₓ Cₓ and leaves the share in b.Pass.Gradients. The
    /// products run on this thread as share's do when the caller has put it on one thread
    /// (onOneThread, ShardWorkers).
    [<HotPath>]
    let internal shareInto (draws: BatchKey voption) (loss: Loss) (network: Network<'T>) (b: ShardBuffers<'T>) (indices: ReadOnlySpan<int>) (inputs: Matrix<'T>) (targets: Matrix<'T>) (examples: int) : float =
        let x = b.Pass.X
        for e in 0 .. x.cols - 1 do
            let j = indices.[e]
            Array.Copy(inputs.values, j * inputs.rows, x.values, e * inputs.rows, inputs.rows)
            Array.Copy(targets.values, j * targets.rows, b.Y.values, e * targets.rows, targets.rows)
        Backprop.lossAndGradientInto draws loss network b.Pass b.Y examples

    /// The mean cost and gradient of a batch in the given mode computed as `k` shards, one after
    /// another: the bits of the training fold's parallel shards (and of any other place that
    /// computes the shares and adds them in shard order). With k = 1 (or a batch of one
    /// example), Backprop.lossAndGradient.
    let lossAndGradient (k: int) (mode: Mode) (loss: Loss) (network: Network<'T>) (x: Matrix<'T>) (y: Matrix<'T>) : 'T * Gradients<'T> =
        if k < 1 then raise (ArgumentOutOfRangeException("k", k, $"A batch needs at least one shard, got {k}."))
        let n = x.Cols
        if count n k = 1 then Backprop.lossAndGradient mode loss network x y
        else
            let shares =
                Array.init (count n k) (fun i ->
                    let struct (first, size) = range n k i
                    share (Mode.part first mode) loss network (Matrix.sliceColumns first size x) (Matrix.sliceColumns first size y) n)
            let gradient = Gradients.zero network
            sumInto (Gradients.arrays gradient) (shares |> Array.map (fun s -> Gradients.arrays s.Gradient))
            Real.ofFloat (total (shares |> Array.map (fun s -> s.Total)) / float n), gradient
