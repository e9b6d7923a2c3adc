/// The vectorised backward kernels give the scalar formulas' bits, for float and float32, at
/// every length (whole vectors and tails), with special values, and when the output aliases g.
module FunctionalBackprop.Properties.ElementwiseProperties

open System
open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open FunctionalBackprop.Core

/// Values the kernels must not mistreat: signed zeros, NaN, infinities, subnormals, extremes.
let private special = [| 0.0; -0.0; nan; infinity; -infinity; 5e-324; -5e-324; 1e300; -1e300; 1.0; -1.0 |]

/// Arrays of 0 to 70 entries (several vectors of any width plus a tail), mostly ordinary, some special.
let private values: Gen<float[]> =
    let entry = Gen.frequency [ 8, Gen.choose (-2000, 2000) |> Gen.map (fun k -> float k / 500.0); 1, Gen.elements special ]
    Gen.choose (0, 70) |> Gen.bind (fun n -> Gen.arrayOfLength n entry)

type Inputs = { A: float[]; G: float[]; Slope: float }

type Arbitraries =
    static member Inputs() =
        gen {
            let! a = values
            let! g = Gen.arrayOfLength a.Length (Gen.choose (-2000, 2000) |> Gen.map (fun k -> float k / 500.0))
            let! slope = Gen.elements [ 0.0; 0.01; 0.3 ]
            return { A = a; G = g; Slope = slope }
        }
        |> Arb.fromGen

/// The kernel's output and the scalar formula's, as bits, for one element type; also with the
/// output written over g (the aliasing the backward pass uses).
let private agrees<'T when 'T :> Numerics.IFloatingPointIeee754<'T>>
    (convert: float -> 'T) (bits: 'T -> int64) (inputs: Inputs)
    (kernel: 'T[] -> 'T[] -> 'T[] -> unit) (scalar: 'T -> 'T -> 'T) =
    let a, g = Array.map convert inputs.A, Array.map convert inputs.G
    let expected = Array.map2 scalar a g |> Array.map bits
    let out = Array.zeroCreate a.Length
    kernel a g out
    let aliased = Array.copy g
    kernel a aliased aliased
    (Array.map bits out = expected && Array.map bits aliased = expected)
    |> Prop.label $"{typeof<'T>.Name}: {Array.map bits out} / aliased {Array.map bits aliased}, scalar {expected}"

[<Properties(Arbitrary = [| typeof<Arbitraries> |], MaxTest = 300)>]
module Properties =

    let private double (inputs: Inputs) kernel scalar = agrees<float> id BitConverter.DoubleToInt64Bits inputs kernel scalar
    let private single (inputs: Inputs) kernel scalar = agrees<float32> float32 (fun x -> int64 (BitConverter.SingleToInt32Bits x)) inputs kernel scalar

    [<Property>]
    let ``sigmoid backward is g(a(1 − a)) bit for bit`` (inputs: Inputs) =
        double inputs (fun a g dz -> Elementwise.sigmoidBackward (ReadOnlySpan a, ReadOnlySpan g, Span dz)) (fun a g -> g * (a * (1.0 - a)))
        .&. single inputs (fun a g dz -> Elementwise.sigmoidBackward (ReadOnlySpan a, ReadOnlySpan g, Span dz)) (fun a g -> g * (a * (1.0f - a)))

    [<Property>]
    let ``tanh backward is g(1 − a²) bit for bit`` (inputs: Inputs) =
        double inputs (fun a g dz -> Elementwise.tanhBackward (ReadOnlySpan a, ReadOnlySpan g, Span dz)) (fun a g -> g * (1.0 - a * a))
        .&. single inputs (fun a g dz -> Elementwise.tanhBackward (ReadOnlySpan a, ReadOnlySpan g, Span dz)) (fun a g -> g * (1.0f - a * a))

    [<Property>]
    let ``rectifier backward is g where z > 0, else slope·g (+0 for ReLU), bit for bit`` (inputs: Inputs) =
        let s = inputs.Slope
        double inputs (fun z g dz -> Elementwise.rectifierBackward (s, ReadOnlySpan z, ReadOnlySpan g, Span dz)) (fun z g -> if z > 0.0 then g elif s <> 0.0 then s * g else 0.0)
        .&. single inputs (fun z g dz -> Elementwise.rectifierBackward (float32 s, ReadOnlySpan z, ReadOnlySpan g, Span dz)) (fun z g -> if z > 0.0f then g elif s <> 0.0 then float32 s * g else 0.0f)

/// The optimizers' update kernels against their scalar formulas, bit for bit, for float and
/// float32: into separate outputs, and in place (outputs over the inputs, as the training fold
/// runs them).
module Updates =

    type Case = { Length: int; Inputs: float[][] }

    /// Three input arrays (u, then two slots; the slots of second moments kept non-negative).
    type Arbitraries =
        static member Case() =
            gen {
                let! n = Gen.choose (0, 70)
                let entry = Gen.choose (-3000, 3000) |> Gen.map (fun k -> float k / 1000.0)
                let! u = Gen.arrayOfLength n entry
                let! s1 = Gen.arrayOfLength n entry
                let! s2 = Gen.arrayOfLength n (Gen.map abs entry)
                return { Length = n; Inputs = [| u; s1; s2 |] }
            }
            |> Arb.fromGen

    /// Runs the kernel on `ins` inputs then `outs` outputs, separately and in place (output k over
    /// input k), and compares with the scalar formula applied element by element.
    let private check<'T when 'T :> Numerics.IFloatingPointIeee754<'T>>
        (convert: float -> 'T) (bits: 'T -> int64) (case: Case) (kernel: VectorKernel) (ins: int) (scalar: 'T[] -> 'T[]) =
        let inputs = case.Inputs.[.. ins - 1] |> Array.map (Array.map convert)
        let outs = (scalar (Array.zeroCreate ins)).Length
        let expected = Array.init outs (fun k -> Array.init case.Length (fun i -> bits (scalar (Array.map (fun (a: 'T[]) -> a.[i]) inputs)).[k]))
        let separate = Array.init outs (fun _ -> Array.zeroCreate<'T> case.Length)
        Elementwise.run kernel [ ins .. ins + outs - 1 ] (Array.append (Array.map Array.copy inputs) separate)
        // In place: output k written over input k for every k < ins (the rest into new arrays).
        let copies = Array.map Array.copy inputs
        let inPlace = Array.init outs (fun k -> if k < ins then copies.[k] else Array.zeroCreate case.Length)
        Elementwise.run kernel [ ins .. ins + outs - 1 ] (Array.append copies inPlace)
        let asBits (arrays: 'T[][]) = arrays |> Array.map (Array.map bits)
        (asBits separate = expected && asBits inPlace = expected)
        |> Prop.label $"{typeof<'T>.Name}, length {case.Length}"

    let private both (case: Case) kernel ins (scalar64: float[] -> float[]) (scalar32: float32[] -> float32[]) =
        check<float> id BitConverter.DoubleToInt64Bits case kernel ins scalar64
        .&. check<float32> float32 (fun x -> int64 (BitConverter.SingleToInt32Bits x)) case kernel ins scalar32

    [<Properties(Arbitrary = [| typeof<Arbitraries> |], MaxTest = 200)>]
    module Properties =

        [<Property>]
        let ``the lecture's momentum`` (case: Case) =
            let mu = 0.3
            both case (UpdateKernels.movingAverage mu) 2
                (fun x -> let p = (1.0 - mu) * x.[1] + mu * x.[0] in [| p; p |])
                (fun x -> let m = float32 mu in let p = (1.0f - m) * x.[1] + m * x.[0] in [| p; p |])

        [<Property>]
        let ``heavy ball and Nesterov`` (case: Case) =
            let beta = 0.9
            let b = float32 beta
            both case (UpdateKernels.heavyBall beta) 2 (fun x -> let v = beta * x.[1] + x.[0] in [| v; v |]) (fun x -> let v = b * x.[1] + x.[0] in [| v; v |])
            .&. both case (UpdateKernels.nesterov beta) 2
                    (fun x -> let v = beta * x.[1] + x.[0] in [| x.[0] + beta * v; v |])
                    (fun x -> let v = b * x.[1] + x.[0] in [| x.[0] + b * v; v |])

        [<Property>]
        let ``AdaGrad and RMSProp`` (case: Case) =
            let alpha, e = 0.9, 1e-7
            let a, rest, e32 = float32 alpha, 1.0f - float32 alpha, float32 e
            // Γ is input 1 here; its non-negative values are input 2's, so use that as Γ.
            let case = { case with Inputs = [| case.Inputs.[0]; case.Inputs.[2] |] }
            both case (UpdateKernels.scaleByRoot 1.0 e true) 2
                (fun x -> let s = x.[1] + x.[0] * x.[0] in [| x.[0] / (sqrt s + e); s |])
                (fun x -> let s = x.[1] + x.[0] * x.[0] in [| x.[0] / (sqrt s + e32); s |])
            .&. both case (UpdateKernels.scaleByRoot alpha e false) 2
                    (fun x -> let s = alpha * x.[1] + (1.0 - alpha) * (x.[0] * x.[0]) in [| x.[0] / (sqrt s + e); s |])
                    (fun x -> let s = a * x.[1] + rest * (x.[0] * x.[0]) in [| x.[0] / (sqrt s + e32); s |])

        [<Property>]
        let ``Adam at step t`` (case: Case) (t: PositiveInt) =
            let t = int64 (min t.Get 5000)
            let b1, b2, e = 0.9, 0.999, 1e-8
            let c1, c2 = 1.0 - Math.Pow(b1, float t), 1.0 - Math.Pow(b2, float t)
            let f1, f2, fe, g1, g2 = float32 b1, float32 b2, float32 e, float32 c1, float32 c2
            both case (UpdateKernels.adam b1 b2 e t) 3
                (fun x ->
                    let m = b1 * x.[1] + (1.0 - b1) * x.[0]
                    let v = b2 * x.[2] + (1.0 - b2) * (x.[0] * x.[0])
                    [| (m / c1) / (sqrt (v / c2) + e); m; v |])
                (fun x ->
                    let m = f1 * x.[1] + (1.0f - f1) * x.[0]
                    let v = f2 * x.[2] + (1.0f - f2) * (x.[0] * x.[0])
                    [| (m / g1) / (sqrt (v / g2) + fe); m; v |])
