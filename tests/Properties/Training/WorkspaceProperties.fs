/// The training fold, which runs the pure functions' kernels on buffers it owns (Workspace), with
/// its shards on threads of their own, against the composition of the pure functions themselves
/// (Shards.lossAndGradient, one shard after another), on every GEMM provider.
module FunctionalBackprop.Properties.WorkspaceProperties

open System
open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open FunctionalBackprop.Core
open FunctionalBackprop.Properties.Generators

/// An optimizer for the fold's equality: every kind of stage, including the ones that run on
/// fresh arrays (a line search) and the fused learning-rate step.
let private optimizers<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> () : Optimizer<'T> list =
    let r = Schedule.Constant 0.05
    [ Optimizer.sgd r
      Optimizer.sgd (Schedule.Cosine(0.1, 0.01, 7))
      Optimizer.sgdL2 r 0.5 10
      Optimizer.momentum r 0.5
      Optimizer.nesterov r 0.9
      Optimizer.adaGrad r
      Optimizer.rmsProp r 0.9
      Optimizer.adam r
      Optimizer.adamW r 0.01
      Optimizer.adam r |> Optimizer.after [ Transform.clipByGlobalNorm 0.5 ]
      Optimizer.steepestDescent (LineSearch.Backtracking(1.0, 0.5, 1e-4, 20)) ]

/// A case for the fold's equality: the problem, an optimizer (by index), a batch size, two epochs.
type FoldCase = { Case: Case; OptimizerIndex: int; BatchSize: int; Shards: int; Remote: bool; Float32: bool }

/// An executor that computes each share with Shards.share, on the calling thread: what another
/// machine would compute for the fold.
type ShareByShare<'T when 'T :> Numerics.IFloatingPointIeee754<'T>>(loss: Loss, x: Matrix<'T>, y: Matrix<'T>) =
    interface IShardExecutor<'T> with
        member _.Compute(network, key, examples, totals, shares, statistics) =
            let n = examples.Length
            for k in 0 .. totals.Length - 1 do
                let struct (first, size) = Shards.range n totals.Length k
                let indices = examples.Slice(first, size).ToArray()
                let share = Shards.share (Mode.Training { key with First = key.First + first }) loss network (Matrix.selectColumns indices x) (Matrix.selectColumns indices y) n
                totals.[k] <- share.Total
                Array.iter2 (fun (source: 'T[]) (target: 'T[]) -> Array.blit source 0 target 0 source.Length) (Gradients.arrays share.Gradient) (Gradients.arrays shares.[k])
                Array.blit share.Statistics 0 statistics.[k] 0 share.Statistics.Length
        member _.Dispose() = ()

type FoldArbitraries =
    static member FoldCase() =
        gen {
            let! c = Gen.choose (1, 3) |> Gen.bind caseOfDepth
            let! o = Gen.choose (0, 10)
            // Batch sizes from 1 to past the set's size, so partial last batches occur.
            let! m = Gen.choose (1, c.BatchSize + 2)
            // One shard (the plain fold), and more, up to past the batch size.
            let! shards = Gen.frequency [ 2, Gen.constant 1; 3, Gen.choose (2, 5) ]
            // Shards on this process's threads, or computed "elsewhere" by an executor.
            let! remote = Gen.elements [ false; true ]
            let! f32 = Gen.elements [ false; true ]
            return { Case = c; OptimizerIndex = o; BatchSize = m; Shards = shards; Remote = remote; Float32 = f32 }
        }
        |> Arb.fromGen
    static member Provider() = Arbitraries.Provider()

let private bits (n: Network<'T>) = Bits.ofNetwork n

/// An optimizer state's counters and the bits of its slots.
let private stateBits (state: OptimizerState<'T>) =
    let rec counters (s: OptimizerState<'T>) =
        match s with
        | StepCount t -> [ float t ]
        | Moments(t, _, _) -> [ float t ]
        | LastRate(t, rate) -> [ float t; rate ]
        | Chain states -> List.collect counters states
        | Stateless | Velocity _ | SquaredGradients _ -> []
    counters state,
    OptimizerState.slots state |> List.map Bits.ofGradients

/// Training through Training.train (reused buffers, in-place steps) against the composition of
/// the pure functions, with the same shuffles: the same bits, and the network passed in unchanged.
/// Some generated cases diverge (SGD at η = 0.1 on unbounded leaky-ReLU layers under the quadratic
/// loss, for one): then the fold must stop with TrainingDivergedException exactly when the pure
/// functions meet a non-finite batch cost, and leave the network passed in unchanged.
let private sameBits<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> (f: FoldCase) =
    let c = f.Case
    let network, x, y = c.Network<'T> (), c.Inputs<'T> (), c.TargetMatrix<'T> ()
    let before = bits network
    let optimizer = (optimizers<'T> ()).[f.OptimizerIndex]
    let epochs, n, m = 2, x.Cols, Math.Min(f.BatchSize, x.Cols)
    let execution = if f.Remote then ShardExecution.Remote(fun x y _ -> new ShareByShare<'T>(c.Loss, x, y)) else ShardExecution.Local
    let options = { TrainingOptions.create c.Loss optimizer epochs f.BatchSize with Seed = c.Seed; Shards = f.Shards; Execution = execution }
    let trained =
        try Ok(Training.train options network x y)
        with :? TrainingDivergedException<'T> as e -> Error e
    // The pure fold, and whether some batch cost on the way was not finite.
    let byPureFunctions, pureDiverged =
        [ 1 .. epochs ]
        |> List.fold
            (fun ((net: Network<'T>, state), diverged) epoch ->
                let order = if m >= n then Array.init n id else Random.permutation (Random.derive c.Seed (uint64 epoch)) n
                let batches = order |> Array.chunkBySize m
                batches
                |> Array.indexed
                |> Array.fold
                    (fun ((net, state), diverged) (b, indices) ->
                        let xb, yb = Matrix.selectColumns indices x, Matrix.selectColumns indices y
                        // The fold's key: the run's seed, the step (from 1), the batch's place in the epoch.
                        let mode = Mode.Training { Seed = c.Seed; Step = int64 ((epoch - 1) * batches.Length + b + 1); First = b * m }
                        let cost, g = Shards.lossAndGradient f.Shards mode c.Loss net xb yb
                        Optimizer.updateWith (fun w -> Forward.cost mode c.Loss w xb yb) optimizer state g net, diverged || not ('T.IsFinite cost))
                    ((net, state), diverged))
            ((network, Optimizer.init optimizer network), false)
    match trained with
    | Ok trained ->
        (bits trained.Network = bits (fst byPureFunctions)) |> Prop.label $"{optimizer.Name}: the fold's network differs from the pure functions'"
        .&. ((stateBits trained.OptimizerState = stateBits (snd byPureFunctions)) |> Prop.label $"{optimizer.Name}: the fold's optimizer state differs")
        .&. ((bits network = before) |> Prop.label "the network passed in changed")
    | Error e ->
        (pureDiverged |> Prop.label $"{optimizer.Name}: the fold diverged ({e.Message}) but every batch cost of the pure functions was finite")
        .&. ((bits network = before) |> Prop.label "the network passed in changed")

[<Properties(Arbitrary = [| typeof<FoldArbitraries> |], MaxTest = 100)>]
module Fold =

    [<Property>]
    let ``training with reused buffers equals the pure functions bit for bit`` (f: FoldCase) (p: Provider) =
        p.Run(fun () -> if f.Float32 then sameBits<float32> f else sameBits<float> f)


/// The automatic shard count, Shards = 0 (the default): one per processor with the managed
/// kernel, 1 with a native BLAS (which spreads each large product over the cores itself).
module AutomaticShards =

    open global.Xunit
    open FunctionalBackprop.Properties.GemmProperties

    /// A 4-3-2 sigmoid network and 8 examples.
    let private problem () =
        let layer units = LayerSpec.Dense(units, Activation.Sigmoid, Some(Initializer.XavierNormal))
        let network = Network.init<float> 5UL (Shape.Vector 4) [ layer 3; layer 2 ]
        let x = Matrix.init 4 8 (fun i j -> sin (float (3 * i + 7 * j)))
        let y = Matrix.init 2 8 (fun i j -> if (i + j) % 2 = 0 then 1.0 else 0.0)
        Loss.Quadratic, network, x, y

    let private trainWith (shards: int) =
        let loss, network, x, y = problem ()
        let options = { TrainingOptions.create loss (Optimizer.momentum (Schedule.Constant 0.05) 0.9) 2 4 with Seed = 3UL; Shards = shards }
        Parameters.toArray (Training.train options network x y).Network

    [<Fact>]
    let ``with the managed kernel the automatic count is one shard per processor`` () =
        Gemm.withProvider ManagedGemm.Instance (fun () ->
            Assert.Equal(Environment.ProcessorCount, Shards.automatic ())
            Assert.Equal<float[]>(trainWith Environment.ProcessorCount, trainWith 0))

    [<NativeBlasFact>]
    let ``with a native BLAS the automatic count is one shard`` () =
        Gemm.withProvider (Gemm.native ()).Value (fun () ->
            Assert.Equal(1, Shards.automatic ())
            Assert.Equal<float[]>(trainWith 1, trainWith 0))

    [<Fact>]
    let ``a negative shard count is refused, naming Shards`` () =
        let e = Assert.Throws<ArgumentOutOfRangeException>(fun () -> trainWith -1 |> ignore)
        Assert.Equal("Shards", e.ParamName)

    [<Fact>]
    let ``a run computed elsewhere needs an explicit shard count`` () =
        let loss, network, x, y = problem ()
        let remote = ShardExecution.Remote(fun x y _ -> new ShareByShare<float>(loss, x, y))
        let options = { TrainingOptions.create loss (Optimizer.sgd (Schedule.Constant 0.1)) 1 4 with Shards = 0; Execution = remote }
        let e = Assert.Throws<ArgumentOutOfRangeException>(fun () -> Training.train options network x y |> ignore)
        Assert.Equal("Shards", e.ParamName)
