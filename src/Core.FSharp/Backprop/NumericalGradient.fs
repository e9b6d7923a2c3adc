namespace FunctionalBackprop.Core

open System
open System.Numerics
open FunctionalBackprop.Core.GenericArithmetic

/// Gradients by finite differences: one or two extra evaluations of the cost per parameter,
/// where backprop needs one backward pass for all of them (Nielsen's eq. 46 and the argument
/// after it). For checking backprop, and for users checking layers of their own.
module NumericalGradient =

    /// Applies estimate to every parameter of a private copy of the network, given the copy,
    /// the parameter's layer (0-based), the array holding it and its index; results come in the
    /// order of Parameters.indices.
    let internal estimateEach (network: Network<'T>) (estimate: Network<'T> -> int -> 'T[] -> int -> 'R) : 'R list =
        // A private copy: perturbing its entries never touches the caller's network, and it is
        // never handed out, so the functions below stay pure.
        let copy = Parameters.copy network
        Parameters.arrays copy
        |> List.ofArray
        |> List.indexed
        |> List.collect (fun (k, values) -> [ for i in 0 .. values.Length - 1 -> estimate copy copy.owners.[k] values i ])

    /// A gradient-shaped result of estimating every parameter on a private copy of the network.
    let internal gradientBy (network: Network<'T>) (estimate: Network<'T> -> 'T[] -> int -> 'T) : Gradients<'T> =
        estimateEach network (fun copy _ values i -> estimate copy values i) |> Array.ofList |> Gradients.ofArray network

    /// Evaluates the cost with entry i of the array moved by delta, then restores it.
    let internal costAt (cost: Network<'T> -> 'T) (network: Network<'T>) (values: 'T[]) (i: int) (delta: 'T) : 'T =
        let saved = values.[i]
        values.[i] <- saved + delta
        try cost network finally values.[i] <- saved

    /// Forward differences, eq. 46: ∂C/∂wⱼ ≈ (C(w + h eⱼ) − C(w))/h, in the given mode. Error O(h).
    let forwardDifference (mode: Mode) (loss: Loss) (network: Network<'T>) (x: Matrix<'T>) (y: Matrix<'T>) (h: float) : Gradients<'T> =
        let cost n = Forward.cost mode loss n x y
        let c0 = cost network
        let h': 'T = Real.ofFloat h
        gradientBy network (fun copy values i -> (costAt cost copy values i h' - c0) / h')

    /// Central differences: ∂C/∂wⱼ ≈ (C(w + h eⱼ) − C(w − h eⱼ))/(2h), in the given mode. Error O(h²).
    let centralDifference (mode: Mode) (loss: Loss) (network: Network<'T>) (x: Matrix<'T>) (y: Matrix<'T>) (h: float) : Gradients<'T> =
        let cost n = Forward.cost mode loss n x y
        let h': 'T = Real.ofFloat h
        gradientBy network (fun copy values i ->
            (costAt cost copy values i h' - costAt cost copy values i (-h')) / (h' + h'))
