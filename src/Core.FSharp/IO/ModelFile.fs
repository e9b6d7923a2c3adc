namespace FunctionalBackprop.Core

open System
open System.IO
open System.Numerics
open System.Text

/// What a model file holds besides the network: where training stood, to resume it exactly.
type TrainingState<'T when 'T :> IFloatingPointIeee754<'T>> =
    { /// The optimizer's name (Optimizer.Name), checked when training resumes.
      OptimizerName: string
      /// The optimizer's state.
      OptimizerState: OptimizerState<'T>
      /// Epochs completed.
      Epoch: int
      /// Optimizer steps taken.
      Step: int64
      /// The running loss over the batches taken of the epoch the state stands inside, if it
      /// stands inside one (Checkpoint.RunningLoss).
      RunningLoss: float option }

/// Everything a model file holds.
type ModelContents<'T when 'T :> IFloatingPointIeee754<'T>> =
    { /// The network.
      Network: Network<'T>
      /// The scaler that turns raw inputs into the network's inputs, if one was fitted.
      Scaler: Scaler option
      /// The scaler fitted on the training targets, if any: the network learns its scaled targets,
      /// and its inverse turns the network's outputs back into the targets' units.
      TargetScaler: Scaler option
      /// Where training stood, for a checkpoint.
      Training: TrainingState<'T> option }

/// Making the contents of a model file.
module ModelContents =

    /// A network alone: no scalers, no training state.
    let ofNetwork (network: Network<'T>) : ModelContents<'T> = { Network = network; Scaler = None; TargetScaler = None; Training = None }

    /// A checkpoint of a run whose optimizer is named `optimizerName` (Optimizer.Name), with
    /// the scaler of the network's inputs, if any (and no target scaler: the core trains on the
    /// targets as given).
    let ofCheckpoint (optimizerName: string) (scaler: Scaler option) (c: Checkpoint<'T>) : ModelContents<'T> =
        { Network = c.Network
          Scaler = scaler
          TargetScaler = None
          Training = Some { OptimizerName = optimizerName; OptimizerState = c.OptimizerState; Epoch = c.Epoch; Step = c.Step; RunningLoss = c.RunningLoss } }

    /// The checkpoint a file's contents hold, if they hold a training state.
    let checkpoint (contents: ModelContents<'T>) : Checkpoint<'T> option =
        contents.Training
        |> Option.map (fun t -> { Network = contents.Network; OptimizerState = t.OptimizerState; Epoch = t.Epoch; Step = t.Step; RunningLoss = t.RunningLoss })

/// The model file format, versions 1 to 4 (docs/model-format.md). All numbers are
/// little-endian.
///
///   magic        4 bytes  "FBNN"
///   version      u16      4 when the training state stands inside an epoch; else 3 when a
///                         layer is not dense or the input is an image; else 2 when a scaler (of
///                         the inputs or of the targets) is present, else 1 (a dense network's
///                         file without a scaler is byte for byte what version 1 wrote, so older
///                         readers still load it)
///   real type    u8       8 = float64, 4 = float32
///   flags        u8       bit 0: a training state follows (always in version 4); bit 1 (version 2
///                         on): a scaler follows the parameters; bit 2 (version 2 on): a target
///                         scaler follows (a reader that does not know the bit refuses the file)
///   layers L     u32      1 … 65,536
///   input        version 1, 2: u32 width (1 … 2³⁰); version 3, 4: u8 rank (1 or 3), then that
///                many u32 dimensions (width, or channels, height, width)
///   per layer    version 1, 2: u32 units (1 … 2³⁰), then the activation (a tag u8 and an f64);
///                version 3, 4: the layer's kind (a tag u8 and its fields: layers below)
///   per layer    its parameter tensors in order (a dense layer's weights, units × fan-in reals
///                in column-major order, then its biases, units reals), then (version 3, 4) its
///                state tensors (batch normalisation's running mean and variance)
///   if flag 1    the scaler: a tag u8 (scalers below), input-width f64 offsets, input-width f64 scales
///   if flag 2    the target scaler: the same, with output-width offsets and scales
///   if flag 0    i32 epoch, i64 step, u32 + UTF-8 optimizer name (≤ 4,096 bytes), then the
///                optimizer state: a tag u8 and its fields (states below); then (version 4) an
///                f64, the running loss over the batches taken of the epoch begun
///   checksum     u32      CRC-32 of every byte before it
///
/// Each tagged union of the format (layer kinds, activations, scalers, optimizer states) has one
/// table below that both the writer and the reader use. Reading checks every count against the
/// bytes that remain before allocating anything, then the checksum; any fault is an
/// InvalidDataException that says what is wrong, and no partial network is ever returned.
module ModelFile =

    /// The newest version this library writes and reads.
    [<Literal>]
    let Version = 4

    let private magic = "FBNN"B

    [<Literal>]
    let private TrainingFlag = 1uy

    [<Literal>]
    let private ScalerFlag = 2uy

    [<Literal>]
    let private TargetScalerFlag = 4uy

    let private realSize<'T when 'T :> IFloatingPointIeee754<'T>> () =
        if Type.op_Equality (typeof<'T>, typeof<float32>) then 4 else 8

    let private writeReals (w: BinaryWriter) (values: 'T[]) =
        if Type.op_Equality (typeof<'T>, typeof<float32>) then
            for v in (box values :?> float32[]) do w.Write v
        else
            for v in (box values :?> float[]) do w.Write v

    /// A bounds-checked little-endian reader over the file's bytes.
    type private Reader(bytes: byte[], length: int) =
        let mutable position = 0
        member _.Remaining = length - position
        member r.Need(count: int64, what: string) =
            if count < 0L || count > int64 r.Remaining then
                raise (InvalidDataException($"The file is truncated or corrupt: {what} needs {count} more bytes at offset {position}, but only {r.Remaining} remain."))
        member r.Bytes(count: int, what: string) : ReadOnlySpan<byte> =
            r.Need(int64 count, what)
            let span = ReadOnlySpan<byte>(bytes, position, count)
            position <- position + count
            span
        member r.U8(what) = (r.Bytes(1, what)).[0]
        member r.U16(what) = Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(r.Bytes(2, what))
        member r.U32(what) = Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(r.Bytes(4, what))
        member r.I32(what) = Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(r.Bytes(4, what))
        member r.I64(what) = Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(r.Bytes(8, what))
        member r.F64(what) = Buffers.Binary.BinaryPrimitives.ReadDoubleLittleEndian(r.Bytes(8, what))
        member r.F32(what) = Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(r.Bytes(4, what))

    let private corrupt (message: string) : 'a = raise (InvalidDataException message)

    let private readReals<'T when 'T :> IFloatingPointIeee754<'T>> (r: Reader) (count: int) (what: string) : 'T[] =
        let size = realSize<'T> ()
        r.Need(int64 count * int64 size, what)
        let values: 'T[] = Array.zeroCreate count
        for i in 0 .. count - 1 do
            let v: 'T = if size = 4 then 'T.CreateTruncating(r.F32 what) else 'T.CreateTruncating(r.F64 what)
            if not ('T.IsFinite(v)) then corrupt $"The file is corrupt: {what} holds a value that is not finite ({v}) at index {i}."
            values.[i] <- v
        values

    // ---- The tag tables ------------------------------------------------------------------------

    /// One case of a tagged union as the file stores it: its tag; the writer of its fields, when a
    /// value is this case; the reader of its fields, given what is being read (for messages).
    type private Case<'V> =
        { Tag: byte
          Write: 'V -> (BinaryWriter -> unit) option
          Read: Reader -> string -> 'V }

    let private writeCase (cases: Case<'V> list) (w: BinaryWriter) (value: 'V) : unit =
        match cases |> List.tryPick (fun c -> c.Write value |> Option.map (fun fields -> c.Tag, fields)) with
        | Some(tag, fields) ->
            w.Write tag
            fields w
        | None -> invalidOp $"The model format has no tag for {value}."

    let private readCase (cases: Case<'V> list) (r: Reader) (what: string) : 'V =
        let tag = r.U8 $"{what}'s code"
        match cases |> List.tryFind (fun c -> c.Tag = tag) with
        | Some case -> case.Read r what
        | None -> corrupt $"The file is corrupt: {what} code {tag} is not known."

    /// Activations: the tag, then an f64 that is the leaky ReLU's slope and 0 for the others.
    let private activations: Case<Activation> list =
        let plain tag (activation: Activation) =
            { Tag = tag
              Write = fun a -> if a = activation then Some(fun w -> w.Write 0.0) else None
              Read = fun r what -> r.F64 $"{what}'s parameter" |> ignore; activation }
        [ plain 0uy Activation.Identity
          plain 1uy Activation.Step
          plain 2uy Activation.Sigmoid
          plain 3uy Activation.Tanh
          plain 4uy Activation.ReLU
          { Tag = 5uy
            Write = (function Activation.LeakyReLU slope -> Some(fun w -> w.Write slope) | _ -> None)
            Read =
              fun r what ->
                  let slope = r.F64 $"{what}'s slope"
                  if slope > 0.0 && slope < 1.0 then Activation.LeakyReLU slope
                  else corrupt $"The file is corrupt: {what}'s leaky-ReLU slope {slope} is not in (0, 1)." }
          plain 6uy Activation.Softmax ]

    /// Windows (a kernel, a stride, a padding): each a u32 height, then a u32 width.
    let private writeWindows (w: BinaryWriter) (windows: Window list) : unit =
        for window in windows do
            w.Write(uint32 window.Height)
            w.Write(uint32 window.Width)

    /// A kernel, a stride and a padding, each at most 2³⁰ (their ranges are LayerSpec.problem's).
    let private readWindows (r: Reader) (what: string) : Window * Window * Window =
        let next (name: string) =
            let read (side: string) =
                let n = r.U32 $"{what}'s {name} {side}"
                if n > (1u <<< 30) then corrupt $"The file is corrupt: {what}'s {name} {side} {n} is not valid."
                int n
            let height = read "height"
            { Height = height; Width = read "width" }
        let kernel = next "kernel"
        let stride = next "stride"
        kernel, stride, next "padding"

    /// The spec read, unless its settings are out of range.
    let private validSpec (what: string) (spec: LayerSpec) : LayerSpec =
        match LayerSpec.problem spec with
        | Some why -> corrupt $"The file is corrupt: {what} is not valid ({why})"
        | None -> spec

    /// Layer kinds (versions 3 and 4): the tag, then the kind's settings.
    let private layers: Case<LayerSpec> list =
        [ { Tag = 0uy
            Write = (function LayerSpec.Dense(units, activation, _) -> Some(fun w -> w.Write(uint32 units); writeCase activations w activation) | _ -> None)
            Read =
              fun r what ->
                  let units = r.U32 $"{what}'s width"
                  if units = 0u || units > (1u <<< 30) then corrupt $"The file is corrupt: {what}'s width {units} is not valid."
                  LayerSpec.Dense(int units, readCase activations r $"{what}'s activation", None) }
          { Tag = 1uy
            Write = (function LayerSpec.Activation activation -> Some(fun w -> writeCase activations w activation) | _ -> None)
            Read = fun r what -> LayerSpec.Activation(readCase activations r $"{what}'s activation") }
          { Tag = 2uy
            Write = (function LayerSpec.Dropout rate -> Some(fun w -> w.Write rate) | _ -> None)
            Read =
              fun r what ->
                  let rate = r.F64 $"{what}'s rate"
                  if rate >= 0.0 && rate < 1.0 then LayerSpec.Dropout rate
                  else corrupt $"The file is corrupt: {what}'s dropout rate {rate} is not in [0, 1)." }
          { Tag = 3uy
            Write =
              (function
               | LayerSpec.Conv2D(filters, kernel, stride, padding, activation, _) ->
                   Some(fun w -> w.Write(uint32 filters); writeWindows w [ kernel; stride; padding ]; writeCase activations w activation)
               | _ -> None)
            Read =
              fun r what ->
                  let filters = r.U32 $"{what}'s filter count"
                  if filters = 0u || filters > (1u <<< 30) then corrupt $"The file is corrupt: {what}'s filter count {filters} is not valid."
                  let kernel, stride, padding = readWindows r what
                  validSpec what (LayerSpec.Conv2D(int filters, kernel, stride, padding, readCase activations r $"{what}'s activation", None)) }
          { Tag = 4uy
            Write = (function LayerSpec.MaxPool2D(kernel, stride, padding) -> Some(fun w -> writeWindows w [ kernel; stride; padding ]) | _ -> None)
            Read = fun r what -> validSpec what (LayerSpec.MaxPool2D(readWindows r what)) }
          { Tag = 5uy
            Write = (function LayerSpec.AvgPool2D(kernel, stride, padding) -> Some(fun w -> writeWindows w [ kernel; stride; padding ]) | _ -> None)
            Read = fun r what -> validSpec what (LayerSpec.AvgPool2D(readWindows r what)) }
          { Tag = 6uy
            Write = (function LayerSpec.Flatten -> Some ignore | _ -> None)
            Read = fun _ _ -> LayerSpec.Flatten }
          { Tag = 7uy
            Write = (function LayerSpec.BatchNorm(momentum, epsilon) -> Some(fun w -> w.Write momentum; w.Write epsilon) | _ -> None)
            Read = fun r what -> validSpec what (LayerSpec.BatchNorm(r.F64 $"{what}'s momentum", r.F64 $"{what}'s ε")) } ]

    /// Scalers of `width` features: the tag, then the offsets, then the scales, one f64 per feature.
    let private scalers (width: int) : Case<Scaler> list =
        let case tag kind =
            { Tag = tag
              Write =
                fun (s: Scaler) ->
                    if s.Kind <> kind then None
                    else Some(fun w -> Array.iter (fun (v: float) -> w.Write v) (Array.append s.offsets s.scales))
              Read =
                fun r what ->
                    r.Need(int64 width * 16L, what)
                    let offsets = Array.init width (fun _ -> r.F64 $"{what}'s offsets")
                    let scales = Array.init width (fun _ -> r.F64 $"{what}'s scales")
                    try Scaler.create kind offsets scales
                    with :? ArgumentException as e -> corrupt $"The file is corrupt: {what} is not valid ({e.Message})." }
        [ case 1uy ScalerKind.MinMax; case 2uy ScalerKind.Standard ]

    let private writeGradients (w: BinaryWriter) (g: Gradients<'T>) =
        Parameters.iter (fun _ a -> writeReals w a) (Gradients.arrays g)

    /// A gradient shaped like the network's parameters: each tensor's values in order.
    let private readGradients<'T when 'T :> IFloatingPointIeee754<'T>> (network: Network<'T>) (r: Reader) (what: string) : Gradients<'T> =
        network.tensors
        |> Array.mapi (fun k m -> Matrix.wrap m.rows m.cols (readReals<'T> r m.values.Length $"{what}, layer {network.owners.[k] + 1}"))
        |> Gradients.ofTensors network

    /// Optimizer states, for a network of the given shapes, read at the given depth of chains
    /// (nested at most 64 deep).
    let rec private states<'T when 'T :> IFloatingPointIeee754<'T>> (network: Network<'T>) (depth: int) : Case<OptimizerState<'T>> list =
        let case tag write read = { Tag = tag; Write = write; Read = read }
        let nested (r: Reader) =
            if depth + 1 > 64 then corrupt "The optimizer state nests chains more than 64 deep."
            readCase (states network (depth + 1)) r "the optimizer state"
        [ case 0uy (function Stateless -> Some ignore | _ -> None) (fun _ _ -> Stateless)
          case 1uy (function StepCount n -> Some(fun w -> w.Write n) | _ -> None) (fun r _ -> StepCount(r.I64 "a step count"))
          case 2uy (function Velocity v -> Some(fun w -> writeGradients w v) | _ -> None) (fun r _ -> Velocity(readGradients network r "a velocity"))
          case 3uy
              (function SquaredGradients v -> Some(fun w -> writeGradients w v) | _ -> None)
              (fun r _ -> SquaredGradients(readGradients network r "squared gradients"))
          case 4uy
              (function Moments(t, m, v) -> Some(fun w -> w.Write t; writeGradients w m; writeGradients w v) | _ -> None)
              (fun r _ ->
                  let t = r.I64 "Adam's step count"
                  let m = readGradients network r "Adam's first moments"
                  Moments(t, m, readGradients network r "Adam's second moments"))
          case 5uy
              (function LastRate(t, rate) -> Some(fun w -> w.Write t; w.Write rate) | _ -> None)
              (fun r _ ->
                  let t = r.I64 "a line search's step count"
                  let rate = r.F64 "a line search's rate"
                  if not (Double.IsFinite rate) then corrupt $"The file is corrupt: a line search's rate is not finite ({rate})."
                  LastRate(t, rate))
          case 6uy
              (function Chain chain -> Some(fun w -> w.Write(uint32 chain.Length); List.iter (writeCase (states network (depth + 1)) w) chain) | _ -> None)
              (fun r _ ->
                  let count = r.U32 "a chain's length"
                  if int64 count > int64 r.Remaining then corrupt $"A chain claims {count} states but only {r.Remaining} bytes remain."
                  Chain [ for _ in 1 .. int count -> nested r ]) ]

    // ---- Writing -------------------------------------------------------------------------------

    let private checkWritable (contents: ModelContents<'T>) =
        if isNull (box contents) then nullArg "contents"
        let network = contents.Network
        if isNull (box network) then nullArg "network"
        Array.iteri (fun k m -> Dense.checkFinite $"layer {network.owners.[k] + 1} {network.specs.[k].Name}" m) network.tensors
        network.Layers |> List.iteri (fun i l ->
            List.iter2 (fun (p: ParameterSpec) m -> Dense.checkFinite $"layer {i + 1} {p.Name}" m) (LayerSpec.stateSpecs (Layer.spec l) network.Shapes.[i]) (Layer.state l))
        contents.Scaler |> Option.iter (fun s ->
            if s.Width <> network.InputWidth then
                invalidArg "contents" $"""The scaler maps {Wording.count s.Width "feature"}, but the network takes {Wording.count network.InputWidth "input"}.""")
        contents.TargetScaler |> Option.iter (fun s ->
            if s.Width <> network.OutputWidth then
                invalidArg "contents" $"""The target scaler maps {Wording.count s.Width "target"}, but the network gives {Wording.count network.OutputWidth "output"}.""")
        contents.Training |> Option.iter (fun t ->
            if not (OptimizerState.isFinite t.OptimizerState) then invalidArg "training" "The optimizer state holds a value that is not finite; it cannot be saved."
            if t.RunningLoss |> Option.exists (Double.IsFinite >> not) then invalidArg "training" $"The running loss {t.RunningLoss.Value} is not finite; it cannot be saved."
            if Encoding.UTF8.GetByteCount t.OptimizerName > 4096 then invalidArg "training" "The optimizer's name is longer than 4,096 bytes.")

    /// Whether versions 1 and 2 hold the network: dense layers on vector inputs.
    let private isDense (network: Network<'T>) : bool =
        (match network.InputShape with Shape.Vector _ -> true | Shape.Image _ -> false)
        && network.Layers |> List.forall (fun l -> match Layer.spec l with LayerSpec.Dense _ -> true | _ -> false)

    /// Whether the training state stands inside an epoch, with the running loss of its batches.
    let private standsInsideAnEpoch (contents: ModelContents<'T>) : bool =
        contents.Training |> Option.exists (fun t -> t.RunningLoss.IsSome)

    /// The oldest version that holds the contents.
    let private versionFor (contents: ModelContents<'T>) : int =
        if standsInsideAnEpoch contents then 4
        elif not (isDense contents.Network) then 3
        elif contents.Scaler.IsSome || contents.TargetScaler.IsSome then 2
        else 1

    let private writeBody (w: BinaryWriter) (contents: ModelContents<'T>) =
        let network = contents.Network
        let version = versionFor contents
        w.Write magic
        w.Write(uint16 version)
        w.Write(byte (realSize<'T> ()))
        let flag (present: bool) (bit: byte) = if present then bit else 0uy
        w.Write(flag contents.Training.IsSome TrainingFlag ||| flag contents.Scaler.IsSome ScalerFlag ||| flag contents.TargetScaler.IsSome TargetScalerFlag)
        w.Write(uint32 network.Depth)
        if version < 3 then
            w.Write(uint32 network.InputWidth)
            for l in network.Layers do
                w.Write(uint32 (LayerSpec.outputShape (Layer.spec l) network.InputShape).Size)
                writeCase activations w (Layer.activation l)
        else
            match network.InputShape with
            | Shape.Vector n -> w.Write 1uy; w.Write(uint32 n)
            | Shape.Image(c, h, wd) -> w.Write 3uy; w.Write(uint32 c); w.Write(uint32 h); w.Write(uint32 wd)
            for l in network.Layers do
                writeCase layers w (Layer.spec l)
        for l in network.Layers do
            for m in Layer.parameters l @ Layer.state l do
                writeReals w m.values
        contents.Scaler |> Option.iter (writeCase (scalers network.InputWidth) w)
        contents.TargetScaler |> Option.iter (writeCase (scalers network.OutputWidth) w)
        contents.Training |> Option.iter (fun t ->
            w.Write t.Epoch
            w.Write t.Step
            let name = Encoding.UTF8.GetBytes t.OptimizerName
            w.Write(uint32 name.Length)
            w.Write name
            writeCase (states network 0) w t.OptimizerState
            t.RunningLoss |> Option.iter (fun (loss: float) -> w.Write loss))

    /// Writes the contents to the stream in the oldest version that holds them: 1 for dense
    /// layers on vectors without a scaler, 2 with one, 3 for other layers or image inputs, 4 for
    /// a training state that stands inside an epoch. Throws
    /// ArgumentException if a parameter or optimizer state is not finite (no NaN is ever saved) or
    /// a scaler does not fit the network's inputs (or outputs, for the target scaler); nothing is
    /// written then.
    let write (stream: Stream) (contents: ModelContents<'T>) : unit =
        if isNull stream then nullArg "stream"
        checkWritable contents
        use buffer = new MemoryStream()
        (
            use w = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen = true)
            writeBody w contents
            w.Flush()
        )
        let body = buffer.GetBuffer().AsSpan(0, int buffer.Length)
        let crc = Crc32.compute (Span<byte>.op_Implicit body)
        stream.Write(Span<byte>.op_Implicit body)
        let tail = BitConverter.GetBytes crc
        if not BitConverter.IsLittleEndian then Array.Reverse tail
        stream.Write(tail, 0, 4)

    /// Writes the contents to the file at `path` as `write` does, atomically (AtomicFile.write): a
    /// failure, or a process killed at any byte, leaves the file that was there whole.
    let save (path: string) (contents: ModelContents<'T>) : unit =
        checkWritable contents
        AtomicFile.write path (fun stream -> write stream contents)

    // ---- Reading -------------------------------------------------------------------------------

    type private Header = { Version: int; Flags: byte; Depth: int; Input: Shape }

    let private readDimension (r: Reader) (what: string) : int =
        let n = r.U32 what
        if n = 0u || n > (1u <<< 30) then corrupt $"The file's {what} {n} is not valid."
        int n

    let private readInput (r: Reader) (version: int) : Shape =
        if version < 3 then Shape.Vector(readDimension r "input width")
        else
            let shape =
                match r.U8 "the input's rank" with
                | 1uy -> Shape.Vector(readDimension r "input width")
                | 3uy -> Shape.Image(readDimension r "input channel count", readDimension r "input height", readDimension r "input width")
                | rank -> corrupt $"The file's input rank {rank} is neither 1 (a vector) nor 3 (an image)."
            match Shape.problem shape with
            | Some why -> corrupt $"The file's input shape is not valid: {why}"
            | None -> shape

    let private readHeader<'T when 'T :> IFloatingPointIeee754<'T>> (r: Reader) : Header =
        if not ((r.Bytes(4, "the magic number")).SequenceEqual(ReadOnlySpan magic)) then
            corrupt "This is not a FunctionalBackprop model file (its first four bytes are not \"FBNN\")."
        let version = int (r.U16 "the version")
        if version > Version then
            corrupt $"The file was written by a newer version of FunctionalBackprop (format {version}); this one reads format {Version} and older."
        if version < 1 then corrupt $"The file's format version {version} is not valid."
        let size = int (r.U8 "the real type")
        if size <> 4 && size <> 8 then corrupt $"The file's real type {size} is neither float32 (4) nor float64 (8)."
        if size <> realSize<'T> () then
            let stored = if size = 4 then "float32" else "float64"
            corrupt $"The file holds a {stored} network; load it as {stored} (the caller asked for {Real.typeName<'T> ()})."
        let flags = r.U8 "the flags"
        let known = if version >= 2 then TrainingFlag ||| ScalerFlag ||| TargetScalerFlag else TrainingFlag
        if flags &&& ~~~known <> 0uy then corrupt $"The file's flags {flags} are not valid for format {version} (the known bits are {known})."
        if version = 4 && flags &&& TrainingFlag = 0uy then
            corrupt "The file is corrupt: format 4 holds a checkpoint inside an epoch, but its flags say it holds no training state."
        let depth = r.U32 "the layer count"
        if depth = 0u || depth > 65536u then corrupt $"The file's layer count {depth} is not valid (1 … 65,536)."
        { Version = version; Flags = flags; Depth = int depth; Input = readInput r version }

    /// The layer table: each layer's description (versions 1 and 2 hold dense layers only).
    let private readLayerTable (r: Reader) (header: Header) : LayerSpec list =
        // The smallest entry is 13 bytes in versions 1 and 2, 1 in versions 3 and 4 (a flatten's tag).
        r.Need(int64 header.Depth * (if header.Version < 3 then 13L else 1L), "the layer table")
        [ for i in 1 .. header.Depth ->
              if header.Version < 3 then
                  let units = r.U32 $"layer {i}'s width"
                  if units = 0u || units > (1u <<< 30) then corrupt $"Layer {i}'s width {units} is not valid."
                  LayerSpec.Dense(int units, readCase activations r $"layer {i}'s activation", None)
              else readCase layers r $"layer {i}" ]

    let private readParameters<'T when 'T :> IFloatingPointIeee754<'T>> (r: Reader) (header: Header) (specs: LayerSpec list) : Network<'T> =
        let inputs = specs |> List.scan (fun shape spec -> LayerSpec.outputShape spec shape) header.Input
        let shapes = List.take specs.Length inputs
        specs |> List.iteri (fun i spec ->
            match LayerSpec.inputProblem spec shapes.[i] with
            | Some why -> corrupt $"The file is corrupt: layer {i + 1} ({LayerSpec.kind spec}) cannot take its input of shape {shapes.[i]} ({why})"
            | None -> ())
        let tensors = List.map2 (fun spec shape -> LayerSpec.parameterSpecs spec shape @ LayerSpec.stateSpecs spec shape) specs shapes
        // Check the parameter count against the bytes left before allocating any of it. The sum
        // stops growing once it passes what the file can hold: each tensor adds under 2⁶¹, so it
        // never overflows (65,536 layers of 2³⁰ × 2³⁰ would wrap round to a small count).
        let room = int64 r.Remaining / int64 (realSize<'T> ())
        let parameterCount =
            tensors |> List.concat |> List.fold (fun total p -> if total > room then total else total + int64 p.Rows * int64 p.Columns) 0L
        if parameterCount > room then
            corrupt $"The file is truncated or corrupt: its layers claim at least {parameterCount} parameters, but only {r.Remaining} bytes remain (room for {room})."
        List.mapi2
            (fun i (spec, shape) (ps: ParameterSpec list) ->
                let values = ps |> List.map (fun p -> Matrix.wrap p.Rows p.Columns (readReals<'T> r p.Count $"layer {i + 1}'s {p.Name}"))
                let parameters, state = List.splitAt (LayerSpec.parameterSpecs spec shape).Length values
                try Layer.ofTensors spec shape parameters state
                with :? ArgumentException as e -> corrupt $"The file is corrupt: layer {i + 1} is not valid ({e.Message}).")
            (List.zip specs shapes)
            tensors
        |> fun built ->
            try Network.create header.Input built
            with :? ArgumentException as e -> corrupt $"The file is corrupt: its layers do not fit together ({e.Message})."

    let private readTraining<'T when 'T :> IFloatingPointIeee754<'T>> (r: Reader) (version: int) (network: Network<'T>) : TrainingState<'T> =
        let epoch = r.I32 "the epoch"
        if epoch < 0 then corrupt $"The file's epoch {epoch} is negative."
        let step = r.I64 "the step count"
        if step < 0L then corrupt $"The file's step count {step} is negative."
        let nameLength = r.U32 "the optimizer's name length"
        if nameLength > 4096u then corrupt $"The optimizer's name length {nameLength} is over 4,096 bytes."
        let name = Encoding.UTF8.GetString(r.Bytes(int nameLength, "the optimizer's name"))
        let state = readCase (states network 0) r "the optimizer state"
        let running =
            if version < 4 then None
            else
                let loss = r.F64 "the running loss"
                if not (Double.IsFinite loss) then corrupt $"The file is corrupt: its running loss is not finite ({loss})."
                Some loss
        { OptimizerName = name; OptimizerState = state; Epoch = epoch; Step = step; RunningLoss = running }

    let private checkChecksum (bytes: byte[]) =
        let stored = Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(ReadOnlySpan<byte>(bytes, bytes.Length - 4, 4))
        let actual = Crc32.compute (ReadOnlySpan<byte>(bytes, 0, bytes.Length - 4))
        if stored <> actual then corrupt $"The file is corrupt: its checksum is {stored:X8} but its content gives {actual:X8}."

    /// Reads a model file (version 1 to 4) from the stream. Throws InvalidDataException for a
    /// truncated, corrupt or future-version file, or one that holds the other real type (float32
    /// vs float64).
    let read<'T when 'T :> IFloatingPointIeee754<'T>> (stream: Stream) : ModelContents<'T> =
        if isNull stream then nullArg "stream"
        let bytes =
            use copy = new MemoryStream()
            stream.CopyTo copy
            copy.ToArray()
        if bytes.Length < 4 + 2 + 1 + 1 + 4 + 4 + 4 then
            corrupt $"The file is too short to be a model ({bytes.Length} bytes; a model file has at least 20)."
        let r = Reader(bytes, bytes.Length - 4)
        let header = readHeader<'T> r
        let network = readParameters<'T> r header (readLayerTable r header)
        let scaler = if header.Flags &&& ScalerFlag <> 0uy then Some(readCase (scalers network.InputWidth) r "the scaler") else None
        let targetScaler = if header.Flags &&& TargetScalerFlag <> 0uy then Some(readCase (scalers network.OutputWidth) r "the target scaler") else None
        let training = if header.Flags &&& TrainingFlag <> 0uy then Some(readTraining r header.Version network) else None
        if r.Remaining <> 0 then corrupt $"The file has {r.Remaining} unexpected bytes after its content."
        checkChecksum bytes
        { Network = network; Scaler = scaler; TargetScaler = targetScaler; Training = training }
