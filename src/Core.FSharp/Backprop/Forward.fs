namespace FunctionalBackprop.Core

open System
open System.Numerics
open FunctionalBackprop.Core.GenericArithmetic

/// What one layer computed in the forward pass, kept for the backward pass: its input aˡ⁻¹, the
/// kind's own output zˡ (for a dense layer the weighted input wˡaˡ⁻¹ + bˡ), its output
/// aˡ = σ(zˡ), and what the kind keeps for its backward step (dropout's mask), one column per
/// example.
type LayerTrace<'T when 'T :> IFloatingPointIeee754<'T>> =
    { /// aˡ⁻¹ (for layer 1, the batch x itself).
      Input: Matrix<'T>
      /// zˡ, the kind's output before σ.
      Z: Matrix<'T>
      /// aˡ = σ(zˡ), the layer's output.
      A: Matrix<'T>
      /// The kind's own buffers from the forward step (none for dense and activation layers).
      Scratch: Matrix<'T> list }

/// The tape of a forward pass: every layer's trace, input side first. Backprop reads it
/// backwards, which is why the forward pass stores the intermediate values instead of
/// recomputing them (the lecture's "store the repeated derivatives").
type Trace<'T when 'T :> IFloatingPointIeee754<'T>> =
    { /// One entry per layer, input side first.
      Layers: LayerTrace<'T> list
      /// What a pass in training mode reports for the layers' state (Network.updateState):
      /// batch normalisation's count, Σx and Σx²; empty when no layer has state, zeros in
      /// inference.
      Statistics: float[] }

    /// aᴸ, the network's output.
    member t.Output = (List.last t.Layers).A

/// The forward pass over a whole batch (one example per column).
module Forward =

    let private uninitialized (rows: int) (columns: int) : Matrix<'T> = Matrix.wrap rows columns (Matrix.uninitialized (rows * columns))

    /// Layer i (from 0) of the network into given buffers, from its input aˡ⁻¹: the kind's step
    /// gives zˡ (and in training, the layer's statistics), then aˡ = σ(zˡ).
    [<HotPath>]
    let internal layerInto
        (draws: BatchKey voption) (network: Network<'T>) (i: int) (layer: Layer<'T>) (input: Matrix<'T>) (z: Matrix<'T>) (a: Matrix<'T>) (scratch: Matrix<'T>[]) (statistics: float[]) : unit =
        Layer.forwardInto layer draws (i + 1) network.inputs.[i] input z scratch (Network.statisticsOf network statistics i)
        // aˡ = σ(zˡ)
        Activation.applyInto (Layer.activation layer) z a

    /// The forward pass into given buffers, from the batch x, with the mode's key (Mode.key):
    /// every layer's zˡ, aˡ, scratch and statistics. No checks: for the library's own buffers.
    [<HotPath>]
    let internal traceInto
        (draws: BatchKey voption) (network: Network<'T>) (x: Matrix<'T>) (z: Matrix<'T>[]) (a: Matrix<'T>[]) (scratch: Matrix<'T>[][]) (statistics: float[]) : unit =
        let mutable l = 0
        let mutable input = x
        for layer in network.layers do
            layerInto draws network l layer input z.[l] a.[l] scratch.[l] statistics
            input <- a.[l]
            l <- l + 1

    /// Buffers for every layer's zˡ (or aˡ) on a batch of `columns` examples, left uninitialised.
    let internal allocate (network: Network<'T>) (columns: int) : Matrix<'T>[] =
        network.shapes.Tail |> List.map (fun s -> uninitialized s.Size columns) |> Array.ofList

    /// Every layer's scratch buffers on a batch of `columns` examples, left uninitialised.
    let internal allocateScratch (network: Network<'T>) (columns: int) : Matrix<'T>[][] =
        List.zip network.layers (List.take network.Depth network.shapes)
        |> List.map (fun (l, shape) -> LayerSpec.scratchRows (Layer.spec l) shape |> List.map (fun rows -> uninitialized rows columns) |> Array.ofList)
        |> Array.ofList

    /// Layer i (from 0) of the network on its input, in new buffers.
    let internal layer (mode: Mode) (network: Network<'T>) (i: int) (input: Matrix<'T>) : LayerTrace<'T> =
        let layer, shape = network.layers.[i], network.shapes.[i + 1]
        let scratch = LayerSpec.scratchRows (Layer.spec layer) network.shapes.[i] |> List.map (fun rows -> uninitialized rows input.cols)
        let t = { Input = input; Z = uninitialized shape.Size input.cols; A = uninitialized shape.Size input.cols; Scratch = scratch }
        layerInto (Mode.key mode) network i layer input t.Z t.A (Array.ofList scratch) (Array.zeroCreate network.StatisticsLength)
        t

    /// The forward pass in the given mode keeping every layer's zˡ, aˡ and scratch: the tape
    /// backprop reads.
    let trace (mode: Mode) (network: Network<'T>) (x: Matrix<'T>) : Trace<'T> =
        Network.checkInputs network x
        let z, a, scratch = allocate network x.cols, allocate network x.cols, allocateScratch network x.cols
        let statistics = Array.zeroCreate network.StatisticsLength
        traceInto (Mode.key mode) network x z a scratch statistics
        { Layers = List.init z.Length (fun l -> { Input = (if l = 0 then x else a.[l - 1]); Z = z.[l]; A = a.[l]; Scratch = List.ofArray scratch.[l] })
          Statistics = statistics }

    /// The network's output aᴸ for a batch in inference mode, f(x) = ψ_L(… ψ₁(x)), keeping
    /// nothing else.
    let run (network: Network<'T>) (x: Matrix<'T>) : Matrix<'T> =
        Network.checkInputs network x
        List.init network.Depth id |> List.fold (fun a i -> (layer Mode.Inference network i a).A) x

    /// The mean cost C = (1/n) Σₓ Cₓ of the network on a batch in the given mode, computed stably
    /// from zᴸ.
    let cost (mode: Mode) (loss: Loss) (network: Network<'T>) (x: Matrix<'T>) (y: Matrix<'T>) : 'T =
        let t = trace mode network x
        Network.checkTargets network loss x y
        let output = List.last t.Layers
        Loss.value loss network.OutputActivation output.Z output.A y
