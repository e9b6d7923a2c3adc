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
      Step: int64 }

/// The model file format, version 1. All numbers are little-endian.
///
///   magic        4 bytes  "FBNN"
///   version      u16      1
///   real type    u8       8 = float64, 4 = float32
///   flags        u8       bit 0: a training state follows the network
///   layers L     u32      1 … 65,536
///   input width  u32      1 … 2³⁰
///   per layer    u32 units (1 … 2³⁰), u8 activation (0 identity, 1 step, 2 sigmoid, 3 tanh,
///                4 ReLU, 5 leaky ReLU, 6 softmax), f64 its parameter (the leaky slope, else 0)
///   per layer    weights, units × fan-in reals in column-major order, then biases, units reals
///   if flag 0    i32 epoch, i64 step, u32 + UTF-8 optimizer name (≤ 4,096 bytes), then the
///                optimizer state: a tag u8 (0 stateless, 1 step count i64, 2 velocity,
///                3 squared gradients, 4 moments i64 + two gradients, 5 last rate i64 + f64,
///                6 chain u32 count + states); a gradient is one layer after another, dW then db,
///                shaped like the network's parameters
///   checksum     u32      CRC-32 of every byte before it
///
/// Reading checks every count against the bytes that remain before allocating anything, so a
/// header that claims more than the file holds fails at once; then the checksum; any fault is an
/// InvalidDataException that says what is wrong, and no partial network is ever returned.
module ModelFile =

    /// The version this library writes and the newest it reads.
    [<Literal>]
    let Version = 1

    let private magic = "FBNN"B

    let private activationCode (a: Activation) =
        match a with
        | Activation.Identity -> 0uy, 0.0
        | Activation.Step -> 1uy, 0.0
        | Activation.Sigmoid -> 2uy, 0.0
        | Activation.Tanh -> 3uy, 0.0
        | Activation.ReLU -> 4uy, 0.0
        | Activation.LeakyReLU slope -> 5uy, slope
        | Activation.Softmax -> 6uy, 0.0

    let private realSize<'T when 'T :> IFloatingPointIeee754<'T>> () =
        if Type.op_Equality (typeof<'T>, typeof<float32>) then 4 else 8

    let private writeReals (w: BinaryWriter) (values: 'T[]) =
        if Type.op_Equality (typeof<'T>, typeof<float32>) then
            for v in (box values :?> float32[]) do w.Write v
        else
            for v in (box values :?> float[]) do w.Write v

    /// Writes the network, and the training state if given, to the stream. Throws
    /// ArgumentException if a parameter is not finite (no NaN is ever saved).
    let write (stream: Stream) (network: Network<'T>) (training: TrainingState<'T> option) : unit =
        if isNull stream then nullArg "stream"
        if isNull (box network) then nullArg "network"
        network.Layers |> List.iteri (fun i l ->
            Dense.checkFinite $"layer {i + 1} weights" l.Weights
            Dense.checkFinite $"layer {i + 1} biases" l.Biases)
        training |> Option.iter (fun t ->
            if not (OptimizerState.isFinite t.OptimizerState) then invalidArg "training" "The optimizer state holds a value that is not finite; it cannot be saved."
            if Encoding.UTF8.GetByteCount t.OptimizerName > 4096 then invalidArg "training" "The optimizer's name is longer than 4,096 bytes.")
        use buffer = new MemoryStream()
        (
            use w = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen = true)
            w.Write magic
            w.Write(uint16 Version)
            w.Write(byte (realSize<'T> ()))
            w.Write(if training.IsSome then 1uy else 0uy)
            w.Write(uint32 network.Depth)
            w.Write(uint32 network.InputWidth)
            for l in network.Layers do
                let code, parameter = activationCode l.Activation
                w.Write(uint32 l.OutputWidth)
                w.Write code
                w.Write parameter
            for l in network.Layers do
                writeReals w l.Weights.values
                writeReals w l.Biases.values
            match training with
            | None -> ()
            | Some t ->
                w.Write t.Epoch
                w.Write t.Step
                let name = Encoding.UTF8.GetBytes t.OptimizerName
                w.Write(uint32 name.Length)
                w.Write name
                let writeGradients (g: Gradients<'T>) =
                    for l in g.Layers do
                        writeReals w l.dW.values
                        writeReals w l.db.values
                let rec writeState (s: OptimizerState<'T>) =
                    match s with
                    | Stateless -> w.Write 0uy
                    | StepCount n -> w.Write 1uy; w.Write n
                    | Velocity v -> w.Write 2uy; writeGradients v
                    | SquaredGradients v -> w.Write 3uy; writeGradients v
                    | Moments(t, m, v) -> w.Write 4uy; w.Write t; writeGradients m; writeGradients v
                    | LastRate(t, rate) -> w.Write 5uy; w.Write t; w.Write rate
                    | Chain states -> w.Write 6uy; w.Write(uint32 states.Length); List.iter writeState states
                writeState t.OptimizerState
            w.Flush()
        )
        let body = buffer.GetBuffer().AsSpan(0, int buffer.Length)
        let crc = Crc32.compute (Span<byte>.op_Implicit body)
        stream.Write(Span<byte>.op_Implicit body)
        let tail = BitConverter.GetBytes crc
        if not BitConverter.IsLittleEndian then Array.Reverse tail
        stream.Write(tail, 0, 4)

    /// A bounds-checked little-endian reader over the file's bytes.
    type private Reader(bytes: byte[], length: int) =
        let mutable position = 0
        member _.Position = position
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

    /// Reads a network, and the training state if the file has one, from the stream. Throws
    /// InvalidDataException for a truncated, corrupt or future-version file, or one that holds the
    /// other real type (float32 vs float64).
    let read<'T when 'T :> IFloatingPointIeee754<'T>> (stream: Stream) : Network<'T> * TrainingState<'T> option =
        if isNull stream then nullArg "stream"
        let bytes =
            use copy = new MemoryStream()
            stream.CopyTo copy
            copy.ToArray()
        if bytes.Length < 4 + 2 + 1 + 1 + 4 + 4 + 4 then
            corrupt $"The file is too short to be a model ({bytes.Length} bytes; a model file has at least 20)."
        let r = Reader(bytes, bytes.Length - 4)
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
        if flags > 1uy then corrupt $"The file's flags {flags} are not valid (only bit 0 is used)."
        let depth = r.U32 "the layer count"
        if depth = 0u || depth > 65536u then corrupt $"The file's layer count {depth} is not valid (1 … 65,536)."
        let inputWidth = r.U32 "the input width"
        if inputWidth = 0u || inputWidth > (1u <<< 30) then corrupt $"The file's input width {inputWidth} is not valid."
        r.Need(int64 depth * 13L, "the layer table")
        let specs =
            [ for i in 1 .. int depth ->
                  let units = r.U32 $"layer {i}'s width"
                  if units = 0u || units > (1u <<< 30) then corrupt $"Layer {i}'s width {units} is not valid."
                  let code = r.U8 $"layer {i}'s activation"
                  let parameter = r.F64 $"layer {i}'s activation parameter"
                  let activation =
                      match code with
                      | 0uy -> Activation.Identity
                      | 1uy -> Activation.Step
                      | 2uy -> Activation.Sigmoid
                      | 3uy -> Activation.Tanh
                      | 4uy -> Activation.ReLU
                      | 5uy when parameter > 0.0 && parameter < 1.0 -> Activation.LeakyReLU parameter
                      | 5uy -> corrupt $"Layer {i}'s leaky-ReLU slope {parameter} is not in (0, 1)."
                      | 6uy -> Activation.Softmax
                      | other -> corrupt $"Layer {i}'s activation code {other} is not known."
                  int units, activation ]
        // Check the parameter count against the bytes left before allocating any of it. The sum
        // stops growing once it passes what the file can hold: each layer adds under 2⁶¹, so it
        // never overflows (65,536 layers of 2³⁰ × 2³⁰ would wrap round to a small count).
        let fanIns = int inputWidth :: (specs |> List.map fst |> List.take (specs.Length - 1))
        let room = int64 r.Remaining / int64 size
        let parameterCount =
            List.fold2 (fun total fanIn (units, _) -> if total > room then total else total + int64 units * int64 fanIn + int64 units) 0L fanIns specs
        if parameterCount > room then
            corrupt $"The file is truncated or corrupt: its layers claim at least {parameterCount} parameters, but only {r.Remaining} bytes remain (room for {room})."
        let layers =
            List.mapi2
                (fun i fanIn (units, activation) ->
                    let weights = readReals<'T> r (units * fanIn) $"layer {i + 1}'s weights"
                    let biases = readReals<'T> r units $"layer {i + 1}'s biases"
                    Dense.create (Matrix.wrap units fanIn weights) (Matrix.wrap units 1 biases) activation)
                fanIns specs
        let network = Network.ofLayers layers
        let training =
            if flags = 0uy then None
            else
                let epoch = r.I32 "the epoch"
                if epoch < 0 then corrupt $"The file's epoch {epoch} is negative."
                let step = r.I64 "the step count"
                if step < 0L then corrupt $"The file's step count {step} is negative."
                let nameLength = r.U32 "the optimizer's name length"
                if nameLength > 4096u then corrupt $"The optimizer's name length {nameLength} is over 4,096 bytes."
                let name = Encoding.UTF8.GetString(r.Bytes(int nameLength, "the optimizer's name"))
                let readGradients what : Gradients<'T> =
                    { Layers =
                        network.Layers |> List.mapi (fun i l ->
                            { dW = Matrix.wrap l.OutputWidth l.InputWidth (readReals<'T> r (l.OutputWidth * l.InputWidth) $"{what}, layer {i + 1}")
                              db = Matrix.wrap l.OutputWidth 1 (readReals<'T> r l.OutputWidth $"{what}, layer {i + 1}") }) }
                let rec readState (nesting: int) : OptimizerState<'T> =
                    if nesting > 64 then corrupt "The optimizer state nests chains more than 64 deep."
                    match r.U8 "an optimizer state tag" with
                    | 0uy -> Stateless
                    | 1uy -> StepCount(r.I64 "a step count")
                    | 2uy -> Velocity(readGradients "a velocity")
                    | 3uy -> SquaredGradients(readGradients "squared gradients")
                    | 4uy ->
                        let t = r.I64 "Adam's step count"
                        let m = readGradients "Adam's first moments"
                        Moments(t, m, readGradients "Adam's second moments")
                    | 5uy ->
                        let t = r.I64 "a line search's step count"
                        let rate = r.F64 "a line search's rate"
                        if not (Double.IsFinite rate) then corrupt $"The file is corrupt: a line search's rate is not finite ({rate})."
                        LastRate(t, rate)
                    | 6uy ->
                        let count = r.U32 "a chain's length"
                        if int64 count > int64 r.Remaining then corrupt $"A chain claims {count} states but only {r.Remaining} bytes remain."
                        Chain [ for _ in 1 .. int count -> readState (nesting + 1) ]
                    | other -> corrupt $"The optimizer state tag {other} is not known."
                let state = readState 0
                Some { OptimizerName = name; OptimizerState = state; Epoch = epoch; Step = step }
        if r.Remaining <> 0 then corrupt $"The file has {r.Remaining} unexpected bytes after its content."
        let stored = Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(ReadOnlySpan<byte>(bytes, bytes.Length - 4, 4))
        let actual = Crc32.compute (ReadOnlySpan<byte>(bytes, 0, bytes.Length - 4))
        if stored <> actual then corrupt $"The file is corrupt: its checksum is {stored:X8} but its content gives {actual:X8}."
        network, training
