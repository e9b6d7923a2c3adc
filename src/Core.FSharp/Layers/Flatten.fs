namespace FunctionalBackprop.Core

open System
open System.Numerics

/// The flatten kind: an image of C × H × W values becomes a vector of C·H·W values, in the same
/// order (channel by channel, each row by row, as PyTorch's and ONNX's Flatten at axis 1). An
/// example's values are stored in that order already, so the layer copies them; its gradient is
/// the same copy backwards. No parameters.
module Flatten =

    /// Shape rule: any input of n values gives a vector of n.
    let outputShape (input: Shape) : Shape = Shape.Vector input.Size

    /// z = a_in (the activation layer's identity step).
    [<HotPath>]
    let internal forwardInto (input: Matrix<'T>) (z: Matrix<'T>) : unit = ActivationLayer.forwardInto input z

    /// ∂C/∂a_in = ∂C/∂z.
    [<HotPath>]
    let internal backwardInto (delta: Matrix<'T>) (inputGradient: Matrix<'T> voption) : unit = ActivationLayer.backwardInto delta inputGradient
