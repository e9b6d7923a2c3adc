/// Each activation's vectorised rules give the scalar formulas' bits, for float and float32, at
/// every length (whole vectors and tails), with special values, and with the output written over
/// an input (as the backward pass writes δ over ∂C/∂a).
module FunctionalBackprop.Properties.ActivationKernelProperties

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

/// x (a or z) with special values, g ordinary, and a slope for the rectifiers.
type Inputs = { X: float[]; G: float[]; Slope: float }

type Arbitraries =
    static member Inputs() =
        gen {
            let! x = values
            let! g = Gen.arrayOfLength x.Length (Gen.choose (-2000, 2000) |> Gen.map (fun k -> float k / 500.0))
            let! slope = Gen.elements [ 0.01; 0.3 ]
            return { X = x; G = g; Slope = slope }
        }
        |> Arb.fromGen

let private bits64 (x: float) = BitConverter.DoubleToInt64Bits x
let private bits32 (x: float32) = int64 (BitConverter.SingleToInt32Bits x)

/// A binary rule (x, g) → out against its scalar formula, as bits; also with out written over g.
let private binaryAgrees<'T when 'T :> Numerics.IFloatingPointIeee754<'T>>
    (convert: float -> 'T) (bits: 'T -> int64) (inputs: Inputs) (kernel: BinaryKernel) (scalar: 'T -> 'T -> 'T) =
    let x, g = Array.map convert inputs.X, Array.map convert inputs.G
    let expected = Array.map2 scalar x g |> Array.map bits
    let out = Array.zeroCreate x.Length
    Elementwise.binary kernel x g out
    let aliased = Array.copy g
    Elementwise.binary kernel x aliased aliased
    (Array.map bits out = expected && Array.map bits aliased = expected)
    |> Prop.label $"{typeof<'T>.Name}: {Array.map bits out} / aliased {Array.map bits aliased}, scalar {expected}"

/// A unary rule z → a against its scalar formula, as bits; also written over z.
let private unaryAgrees<'T when 'T :> Numerics.IFloatingPointIeee754<'T>>
    (convert: float -> 'T) (bits: 'T -> int64) (inputs: Inputs) (kernel: UnaryKernel) (scalar: 'T -> 'T) =
    let z = Array.map convert inputs.X
    let expected = Array.map scalar z |> Array.map bits
    let out = Array.zeroCreate z.Length
    Elementwise.unary kernel z out
    let aliased = Array.copy z
    Elementwise.unary kernel aliased aliased
    (Array.map bits out = expected && Array.map bits aliased = expected)
    |> Prop.label $"{typeof<'T>.Name}: {Array.map bits out} / aliased {Array.map bits aliased}, scalar {expected}"

[<Properties(Arbitrary = [| typeof<Arbitraries> |], MaxTest = 300)>]
module Properties =

    [<Property>]
    let ``sigmoid backward is g(a(1 − a)) bit for bit`` (inputs: Inputs) =
        binaryAgrees float bits64 inputs ActivationRules.Sigmoid.backward (fun a g -> g * (a * (1.0 - a)))
        .&. binaryAgrees float32 bits32 inputs ActivationRules.Sigmoid.backward (fun a g -> g * (a * (1.0f - a)))

    [<Property>]
    let ``tanh backward is g(1 − a²) bit for bit`` (inputs: Inputs) =
        binaryAgrees float bits64 inputs ActivationRules.Tanh.backward (fun a g -> g * (1.0 - a * a))
        .&. binaryAgrees float32 bits32 inputs ActivationRules.Tanh.backward (fun a g -> g * (1.0f - a * a))

    [<Property>]
    let ``ReLU is z where z > 0 or NaN, else +0, bit for bit`` (inputs: Inputs) =
        let kernel = ActivationRules.Rectifier.forwardReLU
        unaryAgrees float bits64 inputs kernel (fun z -> if z <= 0.0 then 0.0 else z)
        .&. unaryAgrees float32 bits32 inputs kernel (fun z -> if z <= 0.0f then 0.0f else z)

    [<Property>]
    let ``ReLU backward is g where z > 0, else +0, bit for bit`` (inputs: Inputs) =
        let kernel = ActivationRules.Rectifier.backwardReLU
        binaryAgrees float bits64 inputs kernel (fun z g -> if z > 0.0 then g else 0.0)
        .&. binaryAgrees float32 bits32 inputs kernel (fun z g -> if z > 0.0f then g else 0.0f)

    [<Property>]
    let ``leaky ReLU backward is g where z > 0, else slope·g, bit for bit`` (inputs: Inputs) =
        let s = inputs.Slope
        let kernel = snd (ActivationRules.Rectifier.kernels s)
        binaryAgrees float bits64 inputs kernel (fun z g -> if z > 0.0 then g else s * g)
        .&. binaryAgrees float32 bits32 inputs kernel (fun z g -> if z > 0.0f then g else float32 s * g)

    [<Property>]
    let ``leaky ReLU is z where z > 0, else slope·z, bit for bit`` (inputs: Inputs) =
        let s = inputs.Slope
        let kernel = fst (ActivationRules.Rectifier.kernels s)
        unaryAgrees float bits64 inputs kernel (fun z -> if z > 0.0 then z else s * z)
        .&. unaryAgrees float32 bits32 inputs kernel (fun z -> if z > 0.0f then z else float32 s * z)

    [<Property>]
    let ``step is 1 where z > 0, else 0, bit for bit`` (inputs: Inputs) =
        unaryAgrees float bits64 inputs ActivationRules.Step.forward (fun z -> if z > 0.0 then 1.0 else 0.0)
        .&. unaryAgrees float32 bits32 inputs ActivationRules.Step.forward (fun z -> if z > 0.0f then 1.0f else 0.0f)

/// The distance between two values of one sign in units in the last place of their type.
let private ulpsOff<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> (bits: 'T -> int64) (v: 'T) (e: 'T) = abs (bits ('T.Abs v) - bits ('T.Abs e))

/// Magnitudes log-uniform over 10⁻³⁰ … 10², either sign, with ±0, ±∞ and NaN among them.
type Arguments = { Values: float[] }

type TanhArbitraries =
    static member Arguments() =
        let magnitude = Gen.choose (-30000, 2000) |> Gen.map (fun k -> Math.Pow(10.0, float k / 1000.0))
        let signed = Gen.zip magnitude (Gen.elements [ 1.0; -1.0 ]) |> Gen.map (fun (m, s) -> m * s)
        let entry = Gen.frequency [ 12, signed; 1, Gen.elements [ 0.0; -0.0; infinity; -infinity; nan ] ]
        Gen.choose (0, 70) |> Gen.bind (fun n -> Gen.arrayOfLength n entry) |> Gen.map (fun v -> { Values = v }) |> Arb.fromGen

/// tanh within `limit` ulps of the correctly rounded value (Math.Tanh for float64, the float64
/// value rounded once for float32), with tanh ±0 = ±0 and NaN kept.
let private tanhAccurate<'T when 'T :> Numerics.IFloatingPointIeee754<'T>>
    (convert: float -> 'T) (back: 'T -> float) (bits: 'T -> int64) (limit: int64) (args: Arguments) =
    let z = Array.map convert args.Values
    let a = Array.zeroCreate z.Length
    Elementwise.unary ActivationRules.Tanh.forward z a
    Array.forall2 (fun (zi: 'T) (ai: 'T) ->
        let exact = convert (Math.Tanh(back zi))
        if 'T.IsNaN zi then 'T.IsNaN ai
        else bits ai = bits exact || ('T.IsNegative ai = 'T.IsNegative exact && not ('T.IsZero exact) && ulpsOff bits ai exact <= limit)) z a
    |> Prop.label $"{typeof<'T>.Name}: {Array.zip (Array.map back z) (Array.map back a)}"

[<Properties(Arbitrary = [| typeof<TanhArbitraries> |], MaxTest = 300)>]
module Tanh =

    [<Property>]
    let ``tanh is within 3 ulps of the correctly rounded value at every magnitude`` (args: Arguments) =
        // A float64 result within 3 ulps of Math.Tanh (itself within 1 of the exact value); a
        // float32 result within 2 ulps of the exact value rounded to float32.
        tanhAccurate float float bits64 3L args .&. tanhAccurate float32 float bits32 2L args
