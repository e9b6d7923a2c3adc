/// An independent backprop, written straight from Nielsen's chapter one example at a time with
/// plain arrays and loops. It shares no code with the library beyond reading the network's
/// parameters: σ and σ' come from their closed forms, ∂C/∂a from the lecture's formulas (never
/// the fused shortcuts), and the output delta from the full Jacobian, δᴸ = Jᵀ ∇ₐC.
module FunctionalBackprop.Properties.Reference

open System
open FunctionalBackprop.Core

type Layer = { W: float[,]; B: float[]; Activation: Activation }

let ofNetwork (network: Network<float>) : Layer list =
    Generators.denseLayers network
    |> List.map (fun l -> { W = Matrix.toArray2D l.Weights; B = Matrix.column 0 l.Biases; Activation = l.Activation })

let sigma (activation: Activation) (z: float[]) : float[] =
    match activation with
    | Activation.Identity -> Array.copy z
    | Activation.Step -> z |> Array.map (fun v -> if v > 0.0 then 1.0 else 0.0)
    | Activation.Sigmoid -> z |> Array.map (fun v -> 1.0 / (1.0 + Math.Exp(-v)))
    | Activation.Tanh -> z |> Array.map Math.Tanh
    | Activation.ReLU -> z |> Array.map (fun v -> Math.Max(0.0, v))
    | Activation.LeakyReLU s -> z |> Array.map (fun v -> if v > 0.0 then v else s * v)
    | Activation.Softmax ->
        let m = Array.max z
        let e = z |> Array.map (fun v -> Math.Exp(v - m))
        let total = Array.sum e
        e |> Array.map (fun v -> v / total)

/// J[i, j] = ∂aᵢ/∂zⱼ.
let jacobian (activation: Activation) (z: float[]) : float[,] =
    let a = sigma activation z
    let n = z.Length
    Array2D.init n n (fun i j ->
        match activation with
        | Activation.Softmax -> (if i = j then a.[i] else 0.0) - a.[i] * a.[j]
        | _ when i <> j -> 0.0
        | Activation.Identity -> 1.0
        | Activation.Step -> 0.0
        | Activation.Sigmoid -> a.[i] * (1.0 - a.[i])
        | Activation.Tanh -> 1.0 - a.[i] * a.[i]
        | Activation.ReLU -> if z.[i] > 0.0 then 1.0 else 0.0
        | Activation.LeakyReLU s -> if z.[i] > 0.0 then 1.0 else s)

/// ∂Cₓ/∂a, the lecture's formulas.
let lossGradient (loss: Loss) (a: float[]) (y: float[]) : float[] =
    Array.map2
        (fun ai yi ->
            match loss with
            | Loss.Quadratic -> ai - yi
            | Loss.CrossEntropy -> if yi = 0.0 then 0.0 else -yi / ai
            | Loss.BinaryCrossEntropy -> (ai - yi) / (ai * (1.0 - ai)))
        a y

let private times (w: float[,]) (v: float[]) =
    Array.init (Array2D.length1 w) (fun j -> Seq.sum (seq { for k in 0 .. v.Length - 1 -> w.[j, k] * v.[k] }))

let private transposeTimes (w: float[,]) (v: float[]) =
    Array.init (Array2D.length2 w) (fun k -> Seq.sum (seq { for j in 0 .. v.Length - 1 -> w.[j, k] * v.[j] }))

/// One example's forward and backward pass: for each layer, its input aˡ⁻¹ and its δˡ; and the
/// gradient with respect to the input, (w¹)ᵀδ¹.
let backprop (layers: Layer list) (loss: Loss) (x: float[]) (y: float[]) =
    // Forward: zˡ = wˡaˡ⁻¹ + bˡ, aˡ = σ(zˡ), keeping every (aˡ⁻¹, zˡ).
    let forward =
        layers
        |> List.scan (fun (_, _, a) l -> let z = Array.map2 (+) (times l.W a) l.B in a, z, sigma l.Activation z) ([||], [||], x)
        |> List.tail
    let _, zL, aL = List.last forward
    let last = List.last layers
    // BP1 through the full Jacobian: δᴸ = Jᵀ ∇ₐC.
    let deltaL = transposeTimes (jacobian last.Activation zL) (lossGradient loss aL y)
    // BP2 downwards: δˡ = Jˡᵀ ((wˡ⁺¹)ᵀ δˡ⁺¹).
    let pairs = List.zip layers forward |> List.rev
    let deltas =
        pairs
        |> List.pairwise
        |> List.scan (fun delta ((above, _), (below, (_, zBelow, _))) ->
            transposeTimes (jacobian below.Activation zBelow) (transposeTimes above.W delta)) deltaL
    let deltas = List.rev deltas
    let inputs = forward |> List.map (fun (aIn, _, _) -> aIn)
    let dx = transposeTimes (List.head layers).W (List.head deltas)
    List.zip inputs deltas, dx

/// The batch's mean-cost gradient: for each layer (Σₓ δ aᵀ / n, Σₓ δ / n); and dx per example
/// (divided by n as well, matching C = (1/n) Σ Cₓ).
let gradient (network: Network<float>) (loss: Loss) (x: Matrix<float>) (y: Matrix<float>) =
    let layers = ofNetwork network
    let n = float x.Cols
    let perExample = [ for j in 0 .. x.Cols - 1 -> backprop layers loss (Matrix.column j x) (Matrix.column j y) ]
    let layerGradients =
        layers
        |> List.mapi (fun l layer ->
            let dW = Array2D.zeroCreate (Array2D.length1 layer.W) (Array2D.length2 layer.W)
            let db = Array.zeroCreate layer.B.Length
            for (pairs, _) in perExample do
                let aIn, delta = pairs.[l]
                for j in 0 .. delta.Length - 1 do
                    db.[j] <- db.[j] + delta.[j] / n
                    for k in 0 .. aIn.Length - 1 do
                        dW.[j, k] <- dW.[j, k] + delta.[j] * aIn.[k] / n
            dW, db)
    let dx = perExample |> List.map (fun (_, dx) -> dx |> Array.map (fun v -> v / n))
    layerGradients, dx

/// The mean cost from the definition, evaluated from the output layer's weighted input z:
/// ½‖σ(z) − y‖², −Σ y ln softmax(z), and for sigmoids ln σ(z) = ln(1/(1 + e⁻ᶻ)) and
/// ln(1 − σ(z)) = ln(1/(1 + eᶻ)) (each from its own exponential, so neither loses its digits
/// to 1 − σ(z)). Terms with a zero coefficient are zero (0·ln 0 = 0).
let lossValue (loss: Loss) (activation: Activation) (z: Matrix<float>) (y: Matrix<float>) : float =
    let term c (lnValue: unit -> float) = if c = 0.0 then 0.0 else c * lnValue ()
    let perExample (z: float[]) (y: float[]) =
        match loss, activation with
        | Loss.Quadratic, _ -> Array.map2 (fun a t -> 0.5 * (a - t) * (a - t)) (sigma activation z) y |> Array.sum
        | Loss.CrossEntropy, Activation.Softmax ->
            let s = sigma Activation.Softmax z
            -(Array.map2 (fun si yi -> term yi (fun () -> Math.Log si)) s y |> Array.sum)
        | Loss.CrossEntropy, _ ->
            -(Array.map2 (fun zi yi -> term yi (fun () -> Math.Log(1.0 / (1.0 + Math.Exp(-zi))))) z y |> Array.sum)
        | Loss.BinaryCrossEntropy, _ ->
            -(Array.map2
                (fun zi yi -> term yi (fun () -> Math.Log(1.0 / (1.0 + Math.Exp(-zi)))) + term (1.0 - yi) (fun () -> Math.Log(1.0 / (1.0 + Math.Exp zi))))
                z y
              |> Array.sum)
    [ for j in 0 .. z.Cols - 1 -> perExample (Matrix.column j z) (Matrix.column j y) ] |> List.average
