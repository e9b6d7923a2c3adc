/// Activations as layers of their own: Dense(n) then Activation(σ), as PyTorch and ONNX write a
/// network, is Dense(n, σ), bit for bit, the fused loss paths included.
module FunctionalBackprop.Properties.ActivationLayerProperties

open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open FunctionalBackprop.Core
open FunctionalBackprop.Properties.Generators

/// The case's network with every layer split: Dense(n) then Activation(σ).
let private split (c: Case) : LayeredCase =
    { Case = c; Forms = c.Layers |> List.map (fun _ -> { Split = true; Dropout = None }); Step = 1L; First = 0 }

[<Properties(Arbitrary = [| typeof<Arbitraries> |], MaxTest = 100)>]
module Properties =

    [<Property>]
    let ``Dense(n) then Activation(σ) draws the weights, outputs, cost and gradient of Dense(n, σ)`` (c: Case) (p: Provider) =
        p.Run(fun () ->
            let fused, layered = c.Network<float> (), (split c).Network<float> ()
            let x, y = c.Inputs<float> (), c.TargetMatrix<float> ()
            let cost, g = Backprop.lossAndGradient Mode.Inference c.Loss fused x y
            let cost', g' = Backprop.lossAndGradient Mode.Inference c.Loss layered x y
            (Bits.ofNetwork layered = Bits.ofNetwork fused |> Prop.label "weights")
            .&. (Bits.ofValues ((Forward.run layered x).ToArray()) = Bits.ofValues ((Forward.run fused x).ToArray()) |> Prop.label "outputs")
            .&. (Bits.ofValues [| cost' |] = Bits.ofValues [| cost |] |> Prop.label $"cost {cost'} against {cost}")
            .&. (Bits.ofGradients g' = Bits.ofGradients g |> Prop.label "gradient")
            .&. (layered.Depth = 2 * fused.Depth |> Prop.label "a dense and an activation layer for each")
            .&. (layered.OutputActivation = fused.OutputActivation |> Prop.label "the output's σ, for the loss's fused paths"))

    [<Property(MaxTest = 30)>]
    let ``training either form gives the same network bit for bit`` (c: Case) =
        let options = { TrainingOptions.create c.Loss (Optimizer.adam (Schedule.Constant 0.01)) 2 3 with Seed = c.Seed; Shards = 1 }
        let x, y = c.Inputs<float> (), c.TargetMatrix<float> ()
        let train (n: Network<float>) =
            try Ok(Bits.ofNetwork (Training.train options n x y).Network)
            with :? TrainingDivergedException<float> as e -> Error(e.Epoch, e.Step)
        train ((split c).Network<float> ()) = train (c.Network<float> ())
