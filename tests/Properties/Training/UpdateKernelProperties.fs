/// The optimizers' update kernels against their scalar formulas, bit for bit, for float and
/// float32, at every length (whole vectors and tails).
module FunctionalBackprop.Properties.UpdateKernelProperties

open System
open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open FunctionalBackprop.Core

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

    /// A kernel as a function of its inputs (u then its slots) writing its outputs (out then the
    /// new slots), with the number of inputs.
    type internal Kernel =
        | Slot of SlotKernel
        | Moments of MomentsKernel

        member k.Inputs = match k with Slot _ -> 2 | Moments _ -> 3

        member k.Run<'T when 'T :> Numerics.IFloatingPointIeee754<'T>>(inputs: 'T[][], outputs: 'T[][]) =
            match k with
            | Slot s -> Elementwise.withSlot s inputs.[0] inputs.[1] outputs.[0] outputs.[1]
            | Moments m -> Elementwise.withMoments m inputs.[0] inputs.[1] inputs.[2] outputs.[0] outputs.[1] outputs.[2]

    /// Runs the kernel into separate outputs and in place (the output over u, each new slot over
    /// its slot, as the training fold runs them), and compares with the scalar formula applied
    /// element by element.
    let private check<'T when 'T :> Numerics.IFloatingPointIeee754<'T>>
        (convert: float -> 'T) (bits: 'T -> int64) (case: Case) (kernel: Kernel) (scalar: 'T[] -> 'T[]) =
        let ins = kernel.Inputs
        let inputs = case.Inputs.[.. ins - 1] |> Array.map (Array.map convert)
        let expected = Array.init ins (fun k -> Array.init case.Length (fun i -> bits (scalar (Array.map (fun (a: 'T[]) -> a.[i]) inputs)).[k]))
        let separate = Array.init ins (fun _ -> Array.zeroCreate<'T> case.Length)
        kernel.Run(Array.map Array.copy inputs, separate)
        let inPlace = Array.map Array.copy inputs
        kernel.Run(inPlace, inPlace)
        let asBits (arrays: 'T[][]) = arrays |> Array.map (Array.map bits)
        (asBits separate = expected && asBits inPlace = expected)
        |> Prop.label $"{typeof<'T>.Name}, length {case.Length}"

    let private both (case: Case) kernel (scalar64: float[] -> float[]) (scalar32: float32[] -> float32[]) =
        check<float> id BitConverter.DoubleToInt64Bits case kernel scalar64
        .&. check<float32> float32 (fun x -> int64 (BitConverter.SingleToInt32Bits x)) case kernel scalar32

    [<Properties(Arbitrary = [| typeof<Arbitraries> |], MaxTest = 200)>]
    module Properties =

        [<Property>]
        let ``the lecture's momentum`` (case: Case) =
            let mu = 0.3
            both case (Slot(UpdateKernels.MovingAverage mu))
                (fun x -> let p = (1.0 - mu) * x.[1] + mu * x.[0] in [| p; p |])
                (fun x -> let m = float32 mu in let p = (1.0f - m) * x.[1] + m * x.[0] in [| p; p |])

        [<Property>]
        let ``heavy ball and Nesterov`` (case: Case) =
            let beta = 0.9
            let b = float32 beta
            both case (Slot(UpdateKernels.Momentum(beta, false))) (fun x -> let v = beta * x.[1] + x.[0] in [| v; v |]) (fun x -> let v = b * x.[1] + x.[0] in [| v; v |])
            .&. both case (Slot(UpdateKernels.Momentum(beta, true)))
                    (fun x -> let v = beta * x.[1] + x.[0] in [| x.[0] + beta * v; v |])
                    (fun x -> let v = b * x.[1] + x.[0] in [| x.[0] + b * v; v |])

        [<Property>]
        let ``AdaGrad and RMSProp`` (case: Case) =
            let alpha, e = 0.9, 1e-7
            let a, rest, e32 = float32 alpha, 1.0f - float32 alpha, float32 e
            // Γ is input 1 here; its non-negative values are input 2's, so use that as Γ.
            let case = { case with Inputs = [| case.Inputs.[0]; case.Inputs.[2] |] }
            both case (Slot(UpdateKernels.ScaleByRoot(1.0, e, true)))
                (fun x -> let s = x.[1] + x.[0] * x.[0] in [| x.[0] / (sqrt s + e); s |])
                (fun x -> let s = x.[1] + x.[0] * x.[0] in [| x.[0] / (sqrt s + e32); s |])
            .&. both case (Slot(UpdateKernels.ScaleByRoot(alpha, e, false)))
                    (fun x -> let s = alpha * x.[1] + (1.0 - alpha) * (x.[0] * x.[0]) in [| x.[0] / (sqrt s + e); s |])
                    (fun x -> let s = a * x.[1] + rest * (x.[0] * x.[0]) in [| x.[0] / (sqrt s + e32); s |])

        [<Property>]
        let ``Adam at step t`` (case: Case) (t: PositiveInt) =
            let t = int64 (min t.Get 5000)
            let b1, b2, e = 0.9, 0.999, 1e-8
            let c1, c2 = 1.0 - Math.Pow(b1, float t), 1.0 - Math.Pow(b2, float t)
            let f1, f2, fe, g1, g2 = float32 b1, float32 b2, float32 e, float32 c1, float32 c2
            both case (Moments(UpdateKernels.Adam(b1, b2, e, Step = t)))
                (fun x ->
                    let m = b1 * x.[1] + (1.0 - b1) * x.[0]
                    let v = b2 * x.[2] + (1.0 - b2) * (x.[0] * x.[0])
                    [| (m / c1) / (sqrt (v / c2) + e); m; v |])
                (fun x ->
                    let m = f1 * x.[1] + (1.0f - f1) * x.[0]
                    let v = f2 * x.[2] + (1.0f - f2) * (x.[0] * x.[0])
                    [| (m / g1) / (sqrt (v / g2) + fe); m; v |])
