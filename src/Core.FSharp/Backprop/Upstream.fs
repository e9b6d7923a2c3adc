namespace FunctionalBackprop.Core

open System.Numerics

/// What the backward pass hands to a layer from above.
type Upstream<'T when 'T :> IFloatingPointIeee754<'T>> =
    /// ∂C/∂aˡ, the gradient with respect to the layer's outputs; the layer multiplies by σ'
    /// itself (BP1 at the output layer, the second half of BP2 below it).
    | OutputGradient of Matrix<'T>
    /// δˡ = ∂C/∂zˡ, already through the activation: the fused, numerically stable paths
    /// (softmax with cross-entropy, sigmoid with either cross-entropy), where δ = a − y.
    | Delta of Matrix<'T>

/// Where the backward pass starts.
module Upstream =

    /// What the loss sends to the output layer, from its weighted input z, its output a = σ(z)
    /// and the targets y: ∂C/∂aᴸ for BP1 to finish, or δᴸ itself on the fused paths.
    let ofLoss (loss: Loss) (output: Activation) (z: Matrix<'T>) (a: Matrix<'T>) (y: Matrix<'T>) : Upstream<'T> =
        let out = Matrix.wrap a.rows a.cols (Matrix.uninitialized a.values.Length)
        if Loss.upstreamInto loss output z a y a.Cols out.values then Delta out else OutputGradient out

    /// The matrix it carries.
    let matrix (upstream: Upstream<'T>) : Matrix<'T> =
        match upstream with
        | OutputGradient m
        | Delta m -> m
