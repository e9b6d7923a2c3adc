/// Generators covering the real input space of backprop: networks of 1–5 layers of widths 1–20,
/// every activation but step, every loss with an output layer it suits, batches of 1–16, and
/// targets valid for the loss (one-hot and soft distributions, exact 0s and 1s).
module FunctionalBackprop.Properties.Generators

open System
open FsCheck
open FsCheck.FSharp
open FunctionalBackprop.Core

/// Hidden-layer activations: everything but step, whose derivative is zero.
let hiddenActivation: Gen<Activation> =
    Gen.oneof
        [ Gen.elements [ Activation.Identity; Activation.Sigmoid; Activation.Tanh; Activation.ReLU; Activation.Softmax ]
          Gen.choose (1, 50) |> Gen.map (fun k -> Activation.LeakyReLU(float k / 100.0)) ]

/// An output activation on which the loss is defined.
let outputActivation (loss: Loss) : Gen<Activation> =
    match loss with
    | Loss.Quadratic -> hiddenActivation
    | Loss.CrossEntropy -> Gen.elements [ Activation.Softmax; Activation.Sigmoid ]
    | Loss.BinaryCrossEntropy -> Gen.constant Activation.Sigmoid

/// Initialisers that break symmetry (all zeros puts every ReLU exactly on its kink).
let initializer: Gen<Initializer> =
    Gen.elements
        [ Initializer.SmallUniform; Initializer.StandardNormal; Initializer.ScaledNormal
          Initializer.XavierUniform; Initializer.XavierNormal; Initializer.HeNormal ]

/// The layers of a network of dense layers alone (what the generators make), as dense layers.
let denseLayers (network: Network<'T>) : Dense<'T> list =
    network.Layers |> List.map (function
        | Layer.Dense d -> d
        | other -> invalidArg "network" $"The tests' dense-network helpers take dense layers only, not {other}.")

/// How targets are drawn for cross-entropy.
type TargetKind =
    | OneHot
    | Distribution

/// A generated backprop problem. It holds only small, printable choices; the network and the
/// batch are drawn from Seed, so a failing case can be rebuilt from what FsCheck prints.
type Case =
    { Seed: uint64
      InputWidth: int
      Layers: (int * Activation) list
      Initializer: Initializer
      Loss: Loss
      Targets: TargetKind
      BatchSize: int }

    /// The network, drawn from the seed.
    member c.Network<'T when 'T :> Numerics.IFloatingPointIeee754<'T>>() : Network<'T> =
        Network.init c.Seed (Shape.Vector c.InputWidth)
            [ for units, activation in c.Layers -> LayerSpec.Dense(units, activation, Some(c.Initializer)) ]

    /// The inputs: one column of N(0, 1) entries per example.
    member c.Inputs<'T when 'T :> Numerics.IFloatingPointIeee754<'T>>() : Matrix<'T> =
        Random.normals (Random.derive c.Seed 1000UL) 0.0 1.0 (c.InputWidth * c.BatchSize)
        |> Array.map Real.ofFloat<'T>
        |> Matrix.ofColumnMajor c.InputWidth c.BatchSize

    /// Targets valid for the loss: real values for quadratic; one-hot or soft distributions for
    /// cross-entropy; values in [0, 1] with exact 0s and 1s for binary cross-entropy.
    member c.TargetMatrix<'T when 'T :> Numerics.IFloatingPointIeee754<'T>>() : Matrix<'T> =
        let rows = fst (List.last c.Layers)
        let seed = Random.derive c.Seed 2000UL
        let n = rows * c.BatchSize
        let values =
            match c.Loss, snd (List.last c.Layers), c.Targets with
            | Loss.Quadratic, _, _ -> Random.normals seed 0.0 1.0 n
            | Loss.CrossEntropy, _, OneHot ->
                let classes = Random.uniforms seed 0.0 (float rows) c.BatchSize |> Array.map int
                Array.init n (fun k -> if k % rows = classes.[k / rows] then 1.0 else 0.0)
            | Loss.CrossEntropy, _, Distribution ->
                let raw = Random.uniforms seed 0.0 1.0 n
                Array.init n (fun k ->
                    let j = k / rows
                    raw.[k] / Array.sum raw.[j * rows .. j * rows + rows - 1])
            | _ ->
                Random.uniforms seed 0.0 1.0 n
                |> Array.mapi (fun k u -> match k % 3 with 0 -> 0.0 | 1 -> 1.0 | _ -> u)
        values |> Array.map Real.ofFloat<'T> |> Matrix.ofColumnMajor rows c.BatchSize

    override c.ToString() =
        let layers = c.Layers |> List.map (fun (u, a) -> $"{u} {Activation.name a}") |> String.concat ", "
        $"seed {c.Seed}, input {c.InputWidth}, layers [{layers}], {Initializer.name c.Initializer}, {Loss.name c.Loss} ({c.Targets}), batch {c.BatchSize}"

let private width = Gen.choose (1, 20)

/// A case with the given number of layers.
let caseOfDepth (depth: int) : Gen<Case> =
    gen {
        let! seed = Gen.choose (0, Int32.MaxValue) |> Gen.map uint64
        let! inputWidth = width
        let! loss = Gen.elements [ Loss.Quadratic; Loss.CrossEntropy; Loss.BinaryCrossEntropy ]
        let! hidden = Gen.listOfLength (depth - 1) (Gen.zip width hiddenActivation)
        let! output = outputActivation loss
        // Cross-entropy with a softmax output needs two classes at least to be interesting.
        let! outputWidth = if output = Activation.Softmax then Gen.choose (2, 20) else width
        let! init = initializer
        let! targets = Gen.elements [ OneHot; Distribution ]
        let! batch = Gen.choose (1, 16)
        return
            { Seed = seed
              InputWidth = inputWidth
              Layers = hidden @ [ outputWidth, output ]
              Initializer = init
              Loss = loss
              Targets = targets
              BatchSize = batch }
    }

/// A case of 1–5 layers.
let case: Gen<Case> = Gen.choose (1, 5) |> Gen.bind caseOfDepth

/// A case of 2–5 layers (for splitting a network in two).
let deepCase: Gen<Case> = Gen.choose (2, 5) |> Gen.bind caseOfDepth

/// How a layered case writes one of its case's dense layers: fused, Dense(n, σ), or split, Dense(n)
/// then Activation(σ); and, for a hidden layer, whether a dropout layer of that rate follows it.
type Form = { Split: bool; Dropout: float option }

/// A generated network with layers of every kind: the case's dense layers, each written fused or
/// split and the hidden ones followed by dropout or not, and the training key its passes use. Its
/// parameters are the case network's, bit for bit (layers without parameters draw nothing), so in
/// inference it computes what the case's network computes.
type LayeredCase =
    { Case: Case
      Forms: Form list
      Step: int64
      First: int }

    /// The layers: each of the case's dense layers in its form.
    member c.Specs: LayerSpec list =
        List.zip c.Case.Layers c.Forms
        |> List.collect (fun ((units, activation), form) ->
            let dense =
                if form.Split then [ LayerSpec.Dense(units, Activation.Identity, Some c.Case.Initializer); LayerSpec.Activation activation ]
                else [ LayerSpec.Dense(units, activation, Some c.Case.Initializer) ]
            dense @ (form.Dropout |> Option.map LayerSpec.Dropout |> Option.toList))

    /// The network, drawn from the case's seed.
    member c.Network<'T when 'T :> Numerics.IFloatingPointIeee754<'T>>() : Network<'T> =
        Network.init c.Case.Seed (Shape.Vector c.Case.InputWidth) c.Specs

    /// Training mode, keyed by the case's seed, the step and the batch's first place in the epoch.
    member c.Mode = Mode.Training { Seed = c.Case.Seed; Step = c.Step; First = c.First }

    override c.ToString() =
        let specs = c.Specs |> List.map (fun s -> LayerSpec.tag s) |> String.concat ", "
        $"{c.Case}; layers [{specs}]; step {c.Step}, first {c.First}"

/// A layered case of a case from the generator: each layer fused or split, each hidden layer
/// followed by dropout (rate 0 to 0.5) about half the time. Rates stop at 0.5, the range used in
/// practice (Srivastava et al. advise 0.5 for hidden units): a kept unit is scaled by 1/(1 − p),
/// and at p = 0.8 three dropout layers multiply the cost's curvature by up to 5⁶, where Ridders'
/// extrapolation can no longer resolve every parameter near a ReLU kink (1 case in about 200 at
/// rates up to 0.9: an uncertainty of 98 relative at one of 893 parameters, no disagreement
/// beyond it). Higher rates are checked by DropoutProperties on a layer alone.
let layeredOf (cases: Gen<Case>) : Gen<LayeredCase> =
    gen {
        let! c = cases
        let rate = Gen.choose (0, 5) |> Gen.map (fun k -> float k / 10.0)
        let! forms =
            c.Layers
            |> List.mapi (fun i _ ->
                Gen.map2
                    (fun split dropout -> { Split = split; Dropout = (if i < c.Layers.Length - 1 then dropout else None) })
                    (Gen.elements [ false; true ])
                    (Gen.oneof [ Gen.constant None; Gen.map Some rate ]))
            |> Gen.sequenceToList
        let! step = Gen.choose (1, Int32.MaxValue) |> Gen.map int64
        let! first = Gen.choose (0, 100000)
        return { Case = c; Forms = forms; Step = step; First = first }
    }

/// A finite real of moderate size, for activation and loss properties.
let moderate: Gen<float> = Gen.choose (-4000, 4000) |> Gen.map (fun k -> float k / 400.0)

/// A column of 1–20 moderate reals.
let column: Gen<float[]> = Gen.choose (1, 20) |> Gen.bind (fun n -> Gen.arrayOfLength n moderate)

/// The GEMM providers the properties run on: the managed kernel always, and a native BLAS where
/// one is installed (.ci/run installs OpenBLAS and also runs the suite once without it).
type Provider =
    | Managed
    | Native

    /// The provider itself.
    member p.Instance: IGemmProvider =
        match p with
        | Managed -> ManagedGemm.Instance
        | Native ->
            match Gemm.native () with
            | Some native -> native
            | None -> invalidOp $"""No native BLAS loaded ({String.Join("; ", NativeBlas.loadFailures ())})."""

    /// Runs f with every product on this thread going through this provider.
    member p.Run(f: unit -> 'R) : 'R = Gemm.withProvider p.Instance f

    /// The providers this machine has: Managed, and Native where a native BLAS loads.
    static member Available: Provider list = if (Gemm.native ()).IsSome then [ Managed; Native ] else [ Managed ]

/// A network split in two: the case and the layer after which it is cut.
type Split = { Case: Case; Cut: int }

/// The generators FsCheck looks up by type.
type Arbitraries =
    static member Case() : Arbitrary<Case> = Arb.fromGen case
    static member LayeredCase() : Arbitrary<LayeredCase> = Arb.fromGen (layeredOf case)
    static member Provider() : Arbitrary<Provider> = Arb.fromGen (Gen.elements Provider.Available)
    static member Split() : Arbitrary<Split> =
        gen {
            let! c = deepCase
            let! cut = Gen.choose (1, c.Layers.Length - 1)
            return { Case = c; Cut = cut }
        }
        |> Arb.fromGen
