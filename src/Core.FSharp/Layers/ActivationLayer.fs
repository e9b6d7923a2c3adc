namespace FunctionalBackprop.Core

open System
open System.Numerics

/// The activation layer kind: σ applied on its own, as PyTorch and ONNX write a network (a Linear,
/// then a ReLU). Its own step is the identity, z = a_in, and the backward pass applies σ's
/// derivative around it as for any layer, so a dense layer of identity σ followed by this one
/// computes what a dense layer with σ computes, bit for bit, and the loss's fused paths (softmax
/// with cross-entropy, sigmoid with either cross-entropy) work whichever form ends the network.
/// No parameters; the output has the input's shape.
module ActivationLayer =

    /// Shape rule: the input's shape.
    let outputShape (input: Shape) : Shape = input

    /// z = a_in.
    [<HotPath>]
    let internal forwardInto (input: Matrix<'T>) (z: Matrix<'T>) : unit =
        Array.Copy(input.values, z.values, input.values.Length)

    /// ∂C/∂a_in = ∂C/∂z.
    [<HotPath>]
    let internal backwardInto (delta: Matrix<'T>) (inputGradient: Matrix<'T> voption) : unit =
        match inputGradient with
        | ValueSome below -> Array.Copy(delta.values, below.values, delta.values.Length)
        | ValueNone -> ()
