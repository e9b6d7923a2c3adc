namespace FunctionalBackprop.Core

open System
open System.Numerics
open System.Numerics.Tensors
open FunctionalBackprop.Core.GenericArithmetic

/// The gradient of the cost with respect to one layer's parameter tensors, each shaped like its
/// tensor and in the layer's order (a dense layer's ∂C/∂wˡ then ∂C/∂bˡ; none for a layer without
/// parameters).
type LayerGradient<'T when 'T :> IFloatingPointIeee754<'T>> =
    { /// ∂C/∂ each parameter tensor, in order.
      Tensors: Matrix<'T> list }

/// The gradient of the cost with respect to every parameter of a network, one record per layer,
/// input side first. Gradients form a vector space: see the Gradients module.
type Gradients<'T when 'T :> IFloatingPointIeee754<'T>> =
    internal
        { layers: LayerGradient<'T> list
          /// Every tensor's values, layer by layer: what every walk goes over.
          arrays: 'T[][] }

    /// One gradient per layer, input side first.
    member g.Layers = g.layers

/// The vector-space operations on gradients (zero, add, scale, dot, norm, map), entry by entry.
module Gradients =

    /// The gradient of these layer records.
    let ofLayers (layers: seq<LayerGradient<'T>>) : Gradients<'T> =
        if isNull layers then nullArg "layers"
        let layers = List.ofSeq layers
        { layers = layers; arrays = layers |> List.collect (fun l -> l.Tensors |> List.map (fun m -> m.values)) |> Array.ofList }

    /// The gradient whose tensors, in order, are the given ones, grouped as the network groups
    /// its parameters into layers (no checks: for the library's own buffers).
    let internal ofTensors (network: Network<'T>) (tensors: Matrix<'T>[]) : Gradients<'T> =
        let layers = Array.init network.Depth (fun _ -> Collections.Generic.List<Matrix<'T>>())
        tensors |> Array.iteri (fun k m -> layers.[network.owners.[k]].Add m)
        ofLayers [ for l in layers -> { Tensors = List.ofSeq l } ]

    let private checkCompatible (g: Gradients<'T>) (h: Gradients<'T>) =
        if g.layers.Length <> h.layers.Length then
            invalidArg "h" $"The gradients have {g.layers.Length} and {h.layers.Length} layers."
        List.iteri2
            (fun i (a: LayerGradient<'T>) (b: LayerGradient<'T>) ->
                if a.Tensors.Length <> b.Tensors.Length then
                    invalidArg "h" $"Layer {i + 1} of the gradients has {a.Tensors.Length} and {b.Tensors.Length} tensors."
                List.iter2 (Matrix.checkSameShape $"layer {i + 1}") a.Tensors b.Tensors)
            g.layers h.layers

    /// The zero vector shaped like the network's parameters.
    let zero (network: Network<'T>) : Gradients<'T> =
        ofTensors network (network.tensors |> Array.map (fun m -> Matrix.zeros m.rows m.cols))

    /// Applies f to each tensor.
    let mapTensors (f: Matrix<'T> -> Matrix<'T>) (g: Gradients<'T>) : Gradients<'T> =
        ofLayers (g.layers |> List.map (fun l -> { Tensors = List.map f l.Tensors }))

    /// Applies f to the tensors of g and h at the same position.
    let private mapTensors2 (f: Matrix<'T> -> Matrix<'T> -> Matrix<'T>) (g: Gradients<'T>) (h: Gradients<'T>) : Gradients<'T> =
        checkCompatible g h
        ofLayers (List.map2 (fun (a: LayerGradient<'T>) (b: LayerGradient<'T>) -> { Tensors = List.map2 f a.Tensors b.Tensors }) g.layers h.layers)

    /// Applies f to every entry.
    let map (f: 'T -> 'T) (g: Gradients<'T>) : Gradients<'T> = mapTensors (Matrix.map f) g

    /// Applies f to the entries of g and h at the same position.
    let map2 (f: 'T -> 'T -> 'T) (g: Gradients<'T>) (h: Gradients<'T>) : Gradients<'T> = mapTensors2 (Matrix.map2 f) g h

    /// g + h.
    let add (g: Gradients<'T>) (h: Gradients<'T>) : Gradients<'T> = mapTensors2 Matrix.add g h

    /// g − h.
    let subtract (g: Gradients<'T>) (h: Gradients<'T>) : Gradients<'T> = mapTensors2 Matrix.subtract g h

    /// α·g.
    let scale (alpha: 'T) (g: Gradients<'T>) : Gradients<'T> = mapTensors (Matrix.scale alpha) g

    /// A copy of every tensor.
    let copy (g: Gradients<'T>) : Gradients<'T> = mapTensors Matrix.copy g

    /// ⟨g, h⟩ = Σ of products of matching entries.
    let dot (g: Gradients<'T>) (h: Gradients<'T>) : 'T =
        checkCompatible g h
        List.fold2
            (fun (acc: 'T) (a: LayerGradient<'T>) (b: LayerGradient<'T>) -> List.fold2 (fun (acc: 'T) x y -> acc + Matrix.dot x y) acc a.Tensors b.Tensors)
            'T.Zero g.layers h.layers

    /// Every tensor's values, in the order of indices (the gradient's own arrays).
    let internal arrays (g: Gradients<'T>) : 'T[][] = g.arrays

    /// The Euclidean norm ‖g‖ = √⟨g, g⟩, computed with scaling so that it neither overflows nor
    /// underflows for any finite g (see Parameters.normOf).
    [<HotPath>]
    let norm (g: Gradients<'T>) : 'T = Parameters.normOf g.arrays

    /// True when every entry is finite.
    let internal isFinite (g: Gradients<'T>) : bool = Parameters.allFinite g.arrays

    /// Every entry in the order of indices, in one new array.
    let internal toArray (g: Gradients<'T>) : 'T[] = Array.concat g.arrays

    /// The gradient shaped like the network's parameters whose entries, in the order of indices,
    /// are the given array's (copied).
    let internal ofArray (network: Network<'T>) (values: 'T[]) : Gradients<'T> =
        let mutable offset = 0
        network.tensors
        |> Array.map (fun m ->
            let part = Matrix.wrap m.rows m.cols (Array.sub values offset m.values.Length)
            offset <- offset + m.values.Length
            part)
        |> ofTensors network

    /// The number of entries (the network's parameter count).
    let count (g: Gradients<'T>) : int = g.arrays |> Array.sumBy (fun a -> a.Length)

    /// The entry at a parameter's position.
    let item (index: ParameterIndex) (g: Gradients<'T>) : 'T =
        if index.Layer < 1 || index.Layer > g.layers.Length then
            raise (ArgumentOutOfRangeException("index", $"Layer {index.Layer} does not exist; the layers are 1…{g.layers.Length}."))
        let tensors = g.layers.[index.Layer - 1].Tensors
        if index.Tensor < 0 || index.Tensor >= tensors.Length then
            raise (ArgumentOutOfRangeException("index", $"Layer {index.Layer} has {tensors.Length} parameter tensors; {index} names tensor {index.Tensor}."))
        tensors.[index.Tensor].[index.Row, index.Column]
