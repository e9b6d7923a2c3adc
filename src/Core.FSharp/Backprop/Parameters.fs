namespace FunctionalBackprop.Core

open System
open System.Numerics
open System.Numerics.Tensors

/// A network's weights and biases taken together, as one vector: the one place where the
/// parameter arrays are walked (copied, flattened, moved, checked), in the order of
/// Gradients.indices: layer by layer, the weights column by column, then the biases.
module Parameters =

    /// Each layer's weight array then its bias array.
    let internal arrays (network: Network<'T>) : 'T[] list =
        network.layers |> List.collect (fun l -> [ l.weights.values; l.biases.values ])

    /// Every parameter, in one new array.
    let toArray (network: Network<'T>) : 'T[] = Array.concat (arrays network)

    /// The same network over copies of its parameter arrays: a private working copy that can be
    /// written without touching the original.
    let internal copy (network: Network<'T>) : Network<'T> =
        network |> Network.mapLayers (fun _ l -> Dense.withParameters (Matrix.copy l.weights) (Matrix.copy l.biases) l)

    /// target ← w + α·Δ, entry by entry, where w is the network's parameters and target a network
    /// of the same shapes (the network itself, or a private copy): the one parameter update of
    /// every optimizer, line search and Levenberg–Marquardt step. A product, then a sum, each
    /// rounded (Elementwise.scaleAdd, never a fused multiply-add), so α = 1 gives the bits
    /// of w + Δ.
    [<HotPath>]
    let internal addScaledInto (alpha: 'T) (delta: Gradients<'T>) (network: Network<'T>) (target: Network<'T>) : unit =
        let mutable changes, targets = delta.Layers, target.layers
        for w in network.layers do
            let d, t = changes.Head, targets.Head
            // w ← w + α·Δ
            Elementwise.scaleAdd (ReadOnlySpan d.dW.values, alpha, ReadOnlySpan w.weights.values, Span t.weights.values)
            Elementwise.scaleAdd (ReadOnlySpan d.db.values, alpha, ReadOnlySpan w.biases.values, Span t.biases.values)
            changes <- changes.Tail
            targets <- targets.Tail

    /// The network moved to w + α·Δ, in new arrays. Pure.
    let internal addScaled (alpha: 'T) (delta: Gradients<'T>) (network: Network<'T>) : Network<'T> =
        let target =
            network |> Network.mapLayers (fun _ l ->
                let fresh (m: Matrix<'T>) = Matrix.wrap m.rows m.cols (Matrix.uninitialized m.values.Length)
                Dense.withParameters (fresh l.weights) (fresh l.biases) l)
        addScaledInto alpha delta network target
        target

    /// True when every weight and bias is finite.
    let internal isFinite (network: Network<'T>) : bool =
        network.layers |> List.forall (fun l -> (Matrix.tryFindNonFinite l.weights).IsNone && (Matrix.tryFindNonFinite l.biases).IsNone)

    /// ‖w − v‖, the Euclidean distance between two networks' parameters (of the same shapes).
    let internal distance (w: Network<'T>) (v: Network<'T>) : 'T =
        List.map2 (fun (a: 'T[]) (b: 'T[]) -> let d = Array.zeroCreate a.Length in TensorPrimitives.Subtract(ReadOnlySpan a, ReadOnlySpan b, Span d); d) (arrays w) (arrays v)
        |> Gradients.normOf
