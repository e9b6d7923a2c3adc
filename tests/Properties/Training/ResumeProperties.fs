/// Resuming from any step: a run cancelled between two batches, its checkpoint written to a model
/// file and read back, then resumed, ends with the uninterrupted run's bits; and periodic
/// checkpoints are the uninterrupted run's own states.
module FunctionalBackprop.Properties.ResumeProperties

open System
open System.IO
open System.Threading
open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open FunctionalBackprop.Core
open FunctionalBackprop.Properties.Generators
open FunctionalBackprop.Properties.WorkspaceProperties

/// Eleven examples: an odd count, so that most batch sizes leave a smaller last batch.
let private examples = 11

/// Networks whose resumed runs must carry every kind of training state: batch normalisation's
/// running statistics (Network.State), dropout's masks (keyed by seed, step and place) and, in
/// the second, a convolution and a pooling layer on images.
let private architectures: (Shape * LayerSpec list) list =
    let init = Some Initializer.XavierNormal
    [ Shape.Vector 4,
      [ LayerSpec.Dense(5, Activation.Identity, init)
        LayerSpec.BatchNorm(0.9, 1e-5)
        LayerSpec.Activation Activation.Tanh
        LayerSpec.Dropout 0.3
        LayerSpec.Dense(3, Activation.Softmax, init) ]
      Shape.Image(1, 5, 5),
      [ LayerSpec.Conv2D(2, Window.square 3, Window.square 1, Window.square 1, Activation.ReLU, init)
        LayerSpec.BatchNorm(0.8, 1e-5)
        LayerSpec.MaxPool2D(Window.square 2, Window.square 2, Window.none)
        LayerSpec.Flatten
        LayerSpec.Dropout 0.2
        LayerSpec.Dense(3, Activation.Softmax, init) ] ]

/// Optimizers with every kind of state: a step count (a schedule over steps), a velocity, Adam's
/// moments behind a transform, a line search's last rate.
let private optimizers<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> () : Optimizer<'T> list =
    [ Optimizer.sgd (Schedule.Cosine(0.2, 0.01, 20))
      Optimizer.momentum (Schedule.Constant 0.05) 0.9
      Optimizer.adam (Schedule.Constant 0.01) |> Optimizer.after [ Transform.clipByGlobalNorm 1.0 ]
      Optimizer.steepestDescent (LineSearch.Backtracking(1.0, 0.5, 1e-4, 20)) ]

/// A run and the point it is cut at: after `Batch` batches of epoch `Epoch` + 1 (0 is that
/// epoch's start, the end of epoch `Epoch`).
type Cut =
    { Architecture: int
      OptimizerIndex: int
      Seed: uint64
      BatchSize: int
      Epochs: int
      Shards: int
      Remote: bool
      Float32: bool
      Epoch: int
      Batch: int }

    member c.BatchesPerEpoch = Batches.perEpoch examples c.BatchSize

    /// The optimizer steps before the cut.
    member c.Step = int64 c.Epoch * int64 c.BatchesPerEpoch + int64 c.Batch

type ResumeArbitraries =
    static member Cut() =
        gen {
            let! architecture = Gen.choose (0, architectures.Length - 1)
            let! optimizer = Gen.choose (0, 3)
            let! seed = Gen.choose (0, Int32.MaxValue) |> Gen.map uint64
            // Up to past the set's size: stochastic, mini-batch and batch descent.
            let! m = Gen.choose (1, examples + 2)
            let! epochs = Gen.choose (2, 3)
            let! shards = Gen.frequency [ 2, Gen.constant 1; 3, Gen.choose (2, 4) ]
            let! remote = Gen.elements [ false; true ]
            let! f32 = Gen.elements [ false; true ]
            let! epoch = Gen.choose (0, epochs - 1)
            let! batch = Gen.choose (0, Batches.perEpoch examples m - 1)
            return
                { Architecture = architecture; OptimizerIndex = optimizer; Seed = seed; BatchSize = m; Epochs = epochs
                  Shards = shards; Remote = remote; Float32 = f32; Epoch = epoch; Batch = batch }
        }
        |> Arb.fromGen
    static member Provider() = Arbitraries.Provider()

/// The problem of a cut: its network, inputs and one-hot targets, and validation data.
let private problem<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> (c: Cut) =
    let input, specs = architectures.[c.Architecture]
    let network = Network.init<'T> c.Seed input specs
    let draw (stream: uint64) (n: int) =
        Random.normals (Random.derive c.Seed stream) 0.0 1.0 (input.Size * n) |> Array.map Real.ofFloat<'T> |> Matrix.ofColumnMajor input.Size n
    let oneHot (n: int) = Matrix.init 3 n (fun i j -> if i = (j * 7 + int (c.Seed % 3UL)) % 3 then 'T.One else 'T.Zero)
    network, draw 1UL examples, oneHot examples, (draw 2UL 5, oneHot 5)

/// The options of a cut's runs; `observe` sees every report (batch ones too).
let private options<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> (c: Cut) (x: Matrix<'T>) (y: Matrix<'T>) validation (observe: TrainingReport -> unit) (token: CancellationToken) =
    let execution = if c.Remote then ShardExecution.Remote(fun x y _ -> new ShareByShare<'T>(Loss.CrossEntropy, x, y)) else ShardExecution.Local
    { TrainingOptions.create Loss.CrossEntropy ((optimizers<'T> ()).[c.OptimizerIndex]) c.Epochs c.BatchSize with
        Seed = c.Seed
        Shards = c.Shards
        Execution = execution
        Validation = Some validation
        Reports = ReportFrequency.EveryBatch
        OnReport = observe
        Cancellation = token }

/// A checkpoint's model file: the network, its state, the optimizer's state, the counts.
let private fileOf (optimizer: Optimizer<'T>) (c: Checkpoint<'T>) : byte[] =
    use stream = new MemoryStream()
    ModelFile.write stream (ModelContents.ofCheckpoint optimizer.Name None c)
    stream.ToArray()

/// A report's numbers as bits (the elapsed time left out).
let private reportBits (r: TrainingReport) =
    let f (v: float) = BitConverter.DoubleToInt64Bits v
    let o (v: float option) = v |> Option.map f
    r.Kind, r.Epoch, r.Batch, r.Step, f r.BatchLoss, f r.RunningLoss, o r.ValidationLoss, o r.ValidationAccuracy, o r.LearningRate

/// Cancel at the cut, write the checkpoint to a model file, read it back, resume: the same
/// final file (parameters, batch-normalisation statistics, optimizer state, counts) and the same
/// reports after the cut, every batch's running loss included, as the uninterrupted run.
let private resumedEqualsStraight<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> (c: Cut) =
    let network, x, y, validation = problem<'T> c
    let optimizer = (optimizers<'T> ()).[c.OptimizerIndex]
    let straightReports = Collections.Generic.List<TrainingReport>()
    let straight = Training.train (options c x y validation straightReports.Add CancellationToken.None) network x y
    // The first run: cancelled once the cut's step is taken (before any, for a cut at step 0).
    use cancel = new CancellationTokenSource()
    if c.Step = 0L then cancel.Cancel()
    let cutAt (r: TrainingReport) = if r.Kind = ReportKind.Batch && r.Step = c.Step then cancel.Cancel()
    let first = Training.train (options c x y validation cutAt cancel.Token) network x y
    let saved = fileOf optimizer first.Checkpoint
    let loaded = (ModelContents.checkpoint (ModelFile.read<'T> (new MemoryStream(saved)))).Value
    let resumedReports = Collections.Generic.List<TrainingReport>()
    let resumed = Training.resume (options c x y validation resumedReports.Add CancellationToken.None) loaded x y
    let after = straightReports |> Seq.filter (fun r -> r.Step > c.Step) |> Seq.map reportBits |> List.ofSeq
    // A checkpoint inside an epoch is written in format 4 (it keeps the running loss), one at an
    // epoch's end in the format it always had.
    let version = int (BitConverter.ToUInt16(saved, 4))
    (((first.Stopped, first.Epochs, first.Steps) = (StopReason.Cancelled, c.Epoch, c.Step)) |> Prop.label $"the first run stopped at {first.Stopped}, epoch {first.Epochs}, step {first.Steps}")
    .&. (((c.Batch > 0) = (version = 4)) |> Prop.label $"a checkpoint after batch {c.Batch} of its epoch was written in format {version}")
    .&. ((fileOf optimizer resumed.Checkpoint = fileOf optimizer straight.Checkpoint) |> Prop.label "the resumed run's checkpoint differs from the uninterrupted run's")
    .&. (((resumedReports |> Seq.map reportBits |> List.ofSeq) = after) |> Prop.label "the resumed run's reports differ from the uninterrupted run's after the cut")

[<Properties(Arbitrary = [| typeof<ResumeArbitraries> |], MaxTest = 100)>]
module Resume =

    [<Property>]
    let ``cancel, save, load and resume at any step equals the uninterrupted run bit for bit`` (c: Cut) (p: Provider) =
        p.Run(fun () -> if c.Float32 then resumedEqualsStraight<float32> c else resumedEqualsStraight<float> c)

    /// Every checkpoint a run hands out every k steps is where the uninterrupted run stood: a run
    /// resumed from each ends with the uninterrupted run's bits, and they come exactly at the steps
    /// that are multiples of k.
    [<Property(MaxTest = 30)>]
    let ``every periodic checkpoint resumes to the uninterrupted run's bits`` (c: Cut) (every: PositiveInt) =
        let k = 1 + every.Get % 7
        let network, x, y, validation = problem<float> c
        let optimizer = (optimizers<float> ()).[c.OptimizerIndex]
        let handed = Collections.Generic.List<byte[]>()
        let schedule = { Every = CheckpointInterval.Steps k; Save = fun checkpoint -> handed.Add(fileOf optimizer checkpoint) }
        let straight = Training.train { options c x y validation ignore CancellationToken.None with Checkpoints = Some schedule } network x y
        let final = fileOf optimizer straight.Checkpoint
        let resumedFrom (file: byte[]) =
            let loaded = (ModelContents.checkpoint (ModelFile.read<float> (new MemoryStream(file)))).Value
            loaded.Step, fileOf optimizer (Training.resume (options c x y validation ignore CancellationToken.None) loaded x y).Checkpoint
        let results = handed |> Seq.map resumedFrom |> List.ofSeq
        let steps = results |> List.map fst
        ((steps = [ for s in 1L .. straight.Steps do if s % int64 k = 0L then s ]) |> Prop.label $"checkpoints at steps %A{steps}, every {k} of {straight.Steps}")
        .&. ((results |> List.forall (fun (_, file) -> file = final)) |> Prop.label "a run resumed from a periodic checkpoint differs from the uninterrupted run")
