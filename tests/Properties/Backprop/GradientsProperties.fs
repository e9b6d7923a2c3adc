/// Gradients form a vector space: the laws its operations keep.
module FunctionalBackprop.Properties.GradientsProperties

open System
open Xunit
open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open FunctionalBackprop.Core
open FunctionalBackprop.Properties.Generators

let private flat (g: Gradients<float>) = g.Layers |> List.collect (fun l -> [ l.Tensors.[0].ToArray(); l.Tensors.[1].ToArray() ]) |> Array.concat

/// Two gradient-shaped vectors on the same network: its gradient and its parameters.
let private pair (c: Case) =
    let network, x, y = c.Network<float> (), c.Inputs<float> (), c.TargetMatrix<float> ()
    network, Backprop.gradient Mode.Inference c.Loss network x y, Gradients.ofArray network (Parameters.toArray network)

[<Properties(Arbitrary = [| typeof<Arbitraries> |], MaxTest = 100)>]
module Properties =

    [<Property>]
    let ``addition is commutative and zero is its identity`` (c: Case) =
        let network, g, h = pair c
        (flat (Gradients.add g h) = flat (Gradients.add h g)) |> Prop.label "g + h = h + g"
        .&. ((flat (Gradients.add g (Gradients.zero network)) = flat g) |> Prop.label "g + 0 = g")
        .&. ((flat (Gradients.subtract g g) |> Array.forall ((=) 0.0)) |> Prop.label "g − g = 0")

    [<Property>]
    let ``scaling distributes over addition`` (c: Case) (k: int) =
        let _, g, h = pair c
        let alpha = float (k % 9) / 4.0
        // Each side rounds twice; where g and h cancel, the error is relative to |αg| + |αh|.
        Approx.allClose "α(g + h) = αg + αh" 1e-15 (4e-16 * abs alpha * (Approx.scale (flat g) + Approx.scale (flat h)))
            (flat (Gradients.add (Gradients.scale alpha g) (Gradients.scale alpha h)))
            (flat (Gradients.scale alpha (Gradients.add g h)))

    [<Property>]
    let ``the norm is the square root of the dot product with itself`` (c: Case) =
        let _, g, h = pair c
        let n = Gradients.norm g
        (Approx.close 1e-12 1e-300 (Math.Sqrt(Gradients.dot g g)) n |> Prop.label $"‖g‖ = {n:R}")
        .&. ((Gradients.dot g h = Gradients.dot h g) |> Prop.label "⟨g, h⟩ = ⟨h, g⟩")
        .&. ((Gradients.norm (Gradients.add g h) <= Gradients.norm g + Gradients.norm h + 1e-12) |> Prop.label "triangle inequality")

    [<Property>]
    let ``map and map2 act entry by entry`` (c: Case) =
        let network, g, h = pair c
        (flat (Gradients.map (fun v -> 2.0 * v) g) = (flat g |> Array.map (fun v -> 2.0 * v))) |> Prop.label "map"
        .&. ((flat (Gradients.map2 (fun a b -> a * b) g h) = Array.map2 (*) (flat g) (flat h)) |> Prop.label "map2")
        .&. ((Gradients.count g = Array.length (flat g)) |> Prop.label "count")
        .&. ((Parameters.indices network |> List.map (fun p -> Gradients.item p g) |> Array.ofList = flat g) |> Prop.label "indices in storage order")

[<Fact>]
let ``the norm neither overflows nor underflows`` () =
    let network = Network.init<float> 1UL (Shape.Vector 2) [ LayerSpec.Dense(2, Activation.Identity, Some(Initializer.XavierNormal)) ]
    let big = Gradients.zero network |> Gradients.map (fun _ -> 1e200)
    let tiny = Gradients.zero network |> Gradients.map (fun _ -> 1e-200)
    // Six entries: ‖g‖ = √6·x, though x² overflows (or underflows) by itself.
    Assert.Equal(Math.Sqrt 6.0 * 1e200, Gradients.norm big, 1e186)
    Assert.Equal(Math.Sqrt 6.0 * 1e-200, Gradients.norm tiny, 1e-214)
