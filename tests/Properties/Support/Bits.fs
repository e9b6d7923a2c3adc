/// IEEE bits, for the properties that demand the same results bit for bit.
module FunctionalBackprop.Properties.Bits

open System
open FunctionalBackprop.Core

/// Each value's IEEE bits (float32 values widened to float64 first, which is exact).
let ofValues (values: 'T[]) : int64[] = values |> Array.map (fun v -> BitConverter.DoubleToInt64Bits(Real.toFloat v))

/// The bits of a network's parameters, in the order of Parameters.indices.
let ofNetwork (network: Network<'T>) : int64[] = ofValues (Parameters.toArray network)

/// The bits of a gradient (or an optimizer's gradient-shaped slot), in the same order.
let ofGradients (g: Gradients<'T>) : int64[] = ofValues (Gradients.toArray g)
