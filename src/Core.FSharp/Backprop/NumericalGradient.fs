namespace FunctionalBackprop.Core

open System
open System.Numerics
open FunctionalBackprop.Core.GenericArithmetic

/// Gradients by finite differences: one or two extra evaluations of the cost per parameter,
/// where backprop needs one backward pass for all of them (Nielsen's eq. 46 and the argument
/// after it). For checking backprop, and for users checking layers of their own.
module NumericalGradient =

    /// A private, mutable copy of the network's parameter arrays and the network built on them.
    /// Perturbing an entry of the copy and evaluating the network on it never touches the
    /// caller's network; the copy is never handed out, so the functions below stay pure.
    type internal Scratch<'T when 'T :> IFloatingPointIeee754<'T>>(network: Network<'T>) =
        let layers =
            network.Layers
            |> List.map (fun l ->
                Dense.withParameters
                    (Matrix.wrap l.Weights.rows l.Weights.cols (Array.copy l.Weights.values))
                    (Matrix.wrap l.Biases.rows 1 (Array.copy l.Biases.values))
                    l)
        let copy = Network.ofLayers layers
        /// Each layer's weight array then bias array, in the order of Gradients.indices.
        let arrays = layers |> List.map (fun l -> l.weights.values, l.biases.values)
        member _.Network = copy
        member _.Arrays = arrays

    /// Applies estimate to every parameter of a private copy of the network, given the copy,
    /// the parameter's layer (0-based), the array holding it and its index; results come layer
    /// by layer, weights (column-major) before biases, the order of Gradients.indices.
    let internal estimateEach (network: Network<'T>) (estimate: Network<'T> -> int -> 'T[] -> int -> 'R) : 'R list =
        let scratch = Scratch network
        scratch.Arrays
        |> List.indexed
        |> List.collect (fun (l, (w, b)) ->
            [ for i in 0 .. w.Length - 1 -> estimate scratch.Network l w i ] @ [ for i in 0 .. b.Length - 1 -> estimate scratch.Network l b i ])

    /// A gradient-shaped result of estimating every parameter on a private copy of the network.
    let internal gradientBy (network: Network<'T>) (estimate: Network<'T> -> 'T[] -> int -> 'T) : Gradients<'T> =
        estimateEach network (fun copy _ values i -> estimate copy values i) |> Array.ofList |> Gradients.ofArray network

    /// Evaluates the cost with entry i of the array moved by delta, then restores it.
    let internal costAt (cost: Network<'T> -> 'T) (network: Network<'T>) (values: 'T[]) (i: int) (delta: 'T) : 'T =
        let saved = values.[i]
        values.[i] <- saved + delta
        try cost network finally values.[i] <- saved

    /// Forward differences, eq. 46: ∂C/∂wⱼ ≈ (C(w + h eⱼ) − C(w))/h. Error O(h).
    let forwardDifference (loss: Loss) (network: Network<'T>) (x: Matrix<'T>) (y: Matrix<'T>) (h: float) : Gradients<'T> =
        let cost n = Forward.cost loss n x y
        let c0 = cost network
        let h': 'T = Real.ofFloat h
        gradientBy network (fun copy values i -> (costAt cost copy values i h' - c0) / h')

    /// Central differences: ∂C/∂wⱼ ≈ (C(w + h eⱼ) − C(w − h eⱼ))/(2h). Error O(h²).
    let centralDifference (loss: Loss) (network: Network<'T>) (x: Matrix<'T>) (y: Matrix<'T>) (h: float) : Gradients<'T> =
        let cost n = Forward.cost loss n x y
        let h': 'T = Real.ofFloat h
        gradientBy network (fun copy values i ->
            (costAt cost copy values i h' - costAt cost copy values i (-h')) / (h' + h'))
