namespace FunctionalBackprop.Core

open System
open System.Numerics

/// An activation function σ, applied to a layer's weighted input z to give its output a = σ(z).
[<RequireQualifiedAccess>]
type Activation =
    /// σ(z) = z; σ'(z) = 1. For regression outputs.
    | Identity
    /// σ(z) = 1 if z > 0, else 0 (the perceptron's threshold); σ'(z) = 0 wherever it exists, so
    /// no gradient passes through it: usable for inference, not for training.
    | Step
    /// σ(z) = 1/(1 + e⁻ᶻ); σ'(z) = σ(z)(1 − σ(z)).
    | Sigmoid
    /// σ(z) = tanh z; σ'(z) = 1 − tanh² z.
    | Tanh
    /// σ(z) = max(0, z); σ'(z) = 1 if z > 0, else 0 (the lecture's choice at z = 0).
    | ReLU
    /// σ(z) = z if z > 0, else slope·z, with 0 &lt; slope &lt; 1; σ'(z) = 1 or slope.
    | LeakyReLU of slope: float
    /// σ(z)ⱼ = e^zⱼ / Σₖ e^zₖ over one example's column; its Jacobian is diag(s) − s sᵀ.
    | Softmax

/// Each activation's forward rule a = σ(z) and, beside it, its backward step dz = J_σ(z)ᵀ g,
/// over whole batches (one example per column) in buffers the caller gives.
module internal ActivationRules =

    /// a = z; dz = g.
    module Identity =
        let forward (z: 'T[]) (a: 'T[]) = Array.Copy(z, a, z.Length)
        // σ'(z) = 1: dz = g
        let backward (g: 'T[]) (dz: 'T[]) = Array.Copy(g, dz, g.Length)

    /// a = 1 where z > 0, else 0; no gradient passes.
    module Step =
        type Forward() =
            inherit UnaryKernel()
            [<HotPath>]
            override _.Run<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType and 'U :> IFloatingPointIeee754<'U>>(z, a) =
                // a = 1 if z > 0, else 0
                Elementwise.map1 (z, a, fun z -> Vector.ConditionalSelect(Vector.GreaterThan(z, Vector<'U>.Zero), Vector<'U>.One, Vector<'U>.Zero))
        let forward = Forward() :> UnaryKernel
        // σ'(z) = 0 wherever it exists: dz = 0
        let backward (dz: 'T[]) = Array.Clear dz

    /// The logistic sigmoid.
    module Sigmoid =
        type Forward() =
            inherit UnaryKernel()
            [<HotPath>]
            override _.Run<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType and 'U :> IFloatingPointIeee754<'U>>(z, a) =
                // a = σ(z) = 1/(1 + e⁻ᶻ)
                Elementwise.map1 (z, a, fun z -> Vector<'U>.One / (Vector<'U>.One + Elementwise.exp -z))
        let forward = Forward() :> UnaryKernel
        type Backward() =
            inherit BinaryKernel()
            [<HotPath>]
            override _.Run<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType and 'U :> IFloatingPointIeee754<'U>>(a, g, dz) =
                // σ'(z) = a(1 − a): dz = g ⊙ (a ⊙ (1 − a))
                Elementwise.map2 (a, g, dz, fun a g -> g * (a * (Vector<'U>.One - a)))
        let backward = Backward() :> BinaryKernel

    /// The hyperbolic tangent.
    module Tanh =
        /// tanh's Taylor coefficients c₀ … c₁₉ (tanh x = Σ cₙ x²ⁿ⁺¹, from the Bernoulli numbers):
        /// at |x| < ½ ln 3 the first 20 reach float64's precision, the first 10 float32's.
        let private series =
            [| 1.0; -0.3333333333333333; 0.13333333333333333; -0.05396825396825397; 0.021869488536155203
               -0.008863235529902197; 0.003592128036572481; -0.0014558343870513183; 0.000590027440945586
               -0.00023912911424355248; 9.691537956929451e-05; -3.927832388331683e-05; 1.5918905069328964e-05
               -6.451689215655431e-06; 2.6147711512907546e-06; -1.0597268320104654e-06; 4.294911078273806e-07
               -1.7406618963571648e-07; 7.054636946400968e-08; -2.859136662305254e-08 |]
        /// The coefficients as vectors of 'U, as many as 'U's precision needs; made once per type.
        type private Series<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType and 'U :> IFloatingPointIeee754<'U>>() =
            static member val Terms =
                let count = if Type.op_Equality (typeof<'U>, typeof<float>) then 20 else 10
                Array.init count (fun n -> Vector<'U>('U.CreateTruncating series.[n]))
        /// Below this |x| the series is used: 1 − 2/(e²ˣ + 1) there would cancel (e²ˣ < 3).
        let private small = 0.5493061443340549
        // a = tanh z, to within a few ulps everywhere (TensorPrimitives.Tanh, as of
        // System.Numerics.Tensors 10.0, returns −2⁻²⁴ for tanh 0 in float32 and loses every digit
        // below |z| ≈ 10⁻⁴, computing (e²ᶻ − 1)/(e²ᶻ + 1) at small z).
        type Forward() =
            inherit UnaryKernel()
            [<HotPath>]
            override _.Run<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType and 'U :> IFloatingPointIeee754<'U>>(z, a) =
                let c = Series<'U>.Terms
                let terms = c.Length
                let two, threshold = Vector<'U>('U.CreateTruncating 2.0), Vector<'U>('U.CreateTruncating small)
                Elementwise.map1 (z, a, fun x ->
                    let m = Vector.Abs x
                    // |z| < ½ ln 3: z + z·(z²·(c₁ + z²(c₂ + …))), Horner's rule in z²; z itself at ±0
                    let x2 = x * x
                    let mutable p = c.[terms - 1]
                    for n in terms - 2 .. -1 .. 1 do
                        p <- p * x2 + c.[n]
                    let near = Vector.ConditionalSelect(Vector.Equals(x, Vector<'U>.Zero), x, x + x * (x2 * p))
                    // otherwise: sign(z)·(1 − 2/(e²|ᶻ| + 1))
                    let r = Vector<'U>.One - two / (Elementwise.exp (m + m) + Vector<'U>.One)
                    let far = Vector.ConditionalSelect(Vector.LessThan(x, Vector<'U>.Zero), -r, r)
                    Vector.ConditionalSelect(Vector.LessThan(m, threshold), near, far))
        let forward = Forward() :> UnaryKernel
        type Backward() =
            inherit BinaryKernel()
            [<HotPath>]
            override _.Run<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType and 'U :> IFloatingPointIeee754<'U>>(a, g, dz) =
                // tanh'(z) = 1 − a²: dz = g ⊙ (1 − a ⊙ a)
                Elementwise.map2 (a, g, dz, fun a g -> g * (Vector<'U>.One - a * a))
        let backward = Backward() :> BinaryKernel

    /// ReLU (slope 0) and leaky ReLU (0 < slope < 1).
    module Rectifier =
        type ReLUForward() =
            inherit UnaryKernel()
            [<HotPath>]
            override _.Run<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType and 'U :> IFloatingPointIeee754<'U>>(z, a) =
                // ReLU: a = max(z, 0), NaN kept and +0 for −0 as Math.Max: 0 where z ≤ 0, z itself otherwise
                Elementwise.map1 (z, a, fun z -> Vector.ConditionalSelect(Vector.LessThanOrEqual(z, Vector<'U>.Zero), Vector<'U>.Zero, z))
        let forwardReLU = ReLUForward() :> UnaryKernel
        type LeakyForward(slope: float) =
            inherit UnaryKernel()
            [<HotPath>]
            override _.Run<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType and 'U :> IFloatingPointIeee754<'U>>(z, a) =
                let s = Vector<'U>('U.CreateTruncating slope)
                // leaky: a = z if z > 0, else slope·z
                Elementwise.map1 (z, a, fun z -> Vector.ConditionalSelect(Vector.GreaterThan(z, Vector<'U>.Zero), z, s * z))
        let forwardLeaky (slope: float) = LeakyForward(slope) :> UnaryKernel
        type Backward(slope: float) =
            inherit BinaryKernel()
            [<HotPath>]
            override _.Run<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType and 'U :> IFloatingPointIeee754<'U>>(z, g, dz) =
                let s = Vector<'U>('U.CreateTruncating slope)
                let leaky = slope <> 0.0
                // σ'(z) = 1 if z > 0, else the slope (0 for ReLU, whose 0 is +0 whatever g's sign)
                Elementwise.map2 (z, g, dz, fun z g -> Vector.ConditionalSelect(Vector.GreaterThan(z, Vector<'U>.Zero), g, (if leaky then s * g else Vector<'U>.Zero)))
        let backward (slope: float) = Backward(slope) :> BinaryKernel
        let backwardReLU = backward 0.0
        let private cache = Collections.Concurrent.ConcurrentDictionary<float, UnaryKernel * BinaryKernel>()
        let private make = Func<float, UnaryKernel * BinaryKernel>(fun s -> forwardLeaky s, backward s)
        /// The forward and backward kernels for one leaky slope, made at its first use.
        let kernels (slope: float) = cache.GetOrAdd(slope, make)

    /// Softmax over each example's column, one entry at a time in index order (columns are as
    /// short as a layer's outputs, and the same code runs from the first call at full speed).
    module Softmax =
        open FunctionalBackprop.Core.GenericArithmetic

        /// max z and Σₖ e^(zₖ − max z) over one column z[first .. first + rows − 1], the
        /// exponentials written into e when it is given (not null): what softmax and the
        /// log-sum-exp of cross-entropy both need, computed once here for both.
        [<HotPath>]
        let exponentials<'T when 'T :> IFloatingPointIeee754<'T>> (z: 'T[]) (first: int) (rows: int) (e: 'T[]) : struct ('T * 'T) =
            let mutable top = z.[first]
            for i in first + 1 .. first + rows - 1 do
                top <- 'T.Max(top, z.[i])
            let mutable sum = 'T.Zero
            for i in first .. first + rows - 1 do
                let ei = 'T.Exp(z.[i] - top)
                if not (isNull e) then e.[i] <- ei
                sum <- sum + ei
            struct (top, sum)

        [<HotPath>]
        let forward<'T when 'T :> IFloatingPointIeee754<'T>> (rows: int) (z: 'T[]) (a: 'T[]) =
            for j in 0 .. (if rows = 0 then 0 else z.Length / rows) - 1 do
                let first = j * rows
                // aⱼ = e^(zⱼ − max z) / Σₖ e^(zₖ − max z): the largest entry first subtracted, so no eᶻ overflows
                let struct (_, sum) = exponentials z first rows a
                for i in first .. first + rows - 1 do
                    a.[i] <- a.[i] / sum
        [<HotPath>]
        let backward<'T when 'T :> IFloatingPointIeee754<'T>> (rows: int) (s: 'T[]) (g: 'T[]) (dz: 'T[]) =
            for j in 0 .. (if rows = 0 then 0 else dz.Length / rows) - 1 do
                let first = j * rows
                // Jᵀg = s ⊙ (g − (s·g)), never forming the Jacobian diag(s) − s sᵀ
                let mutable dot = 'T.Zero
                for i in first .. first + rows - 1 do
                    dot <- dot + s.[i] * g.[i]
                for i in first .. first + rows - 1 do
                    dz.[i] <- (g.[i] - dot) * s.[i]

/// Values and backward steps of activations over whole batches (one example per column).
module Activation =

    open FunctionalBackprop.Core.GenericArithmetic

    /// A short lower-case name: "sigmoid", "leaky-relu(0.01)", …
    let name (f: Activation) : string =
        match f with
        | Activation.Identity -> "identity"
        | Activation.Step -> "step"
        | Activation.Sigmoid -> "sigmoid"
        | Activation.Tanh -> "tanh"
        | Activation.ReLU -> "relu"
        | Activation.LeakyReLU slope -> $"leaky-relu({slope.ToString(Globalization.CultureInfo.InvariantCulture)})"
        | Activation.Softmax -> "softmax"

    /// Why the activation's parameter is out of range, if it is.
    let problem (f: Activation) : string option =
        match f with
        | Activation.LeakyReLU slope when not (slope > 0.0 && slope < 1.0) ->
            Some $"A leaky ReLU's slope must lie strictly between 0 and 1, got {slope}."
        | _ -> None

    /// Throws ArgumentException when the activation's parameter is out of range.
    let validate (f: Activation) : unit =
        match problem f with
        | Some why -> invalidArg "f" why
        | None -> ()

    /// Why σ cannot be the activation of a layer of that many units, if it cannot: softmax over
    /// one unit is e^z/e^z = 1 for every z, a constant output that no training changes.
    let widthProblem (f: Activation) (units: int) : string option =
        match f with
        | Activation.Softmax when units = 1 ->
            Some "softmax over 1 unit is e^z/e^z = 1 for every input: its output is the constant 1, which training cannot change. For two classes use one sigmoid unit or softmax over two units; for a number (regression), no activation."
        | _ -> None

    /// True when σ acts on each entry alone (everything but softmax).
    let isElementwise (f: Activation) : bool = f <> Activation.Softmax

    /// True when σ has a kink or jump (ReLU, leaky ReLU, step), where finite differences that
    /// straddle the kink do not approximate the derivative.
    let isPiecewise (f: Activation) : bool =
        match f with
        | Activation.ReLU | Activation.LeakyReLU _ | Activation.Step -> true
        | _ -> false

    /// True when σ takes every real value (identity, leaky ReLU): an output layer that can reach
    /// any target, that of a regression network, whose targets scaled to mean 0 and deviation 1
    /// stay within its reach. Bounded outputs (sigmoid, tanh, ReLU, …) would miss scaled targets
    /// outside their range.
    let hasRealRange (f: Activation) : bool =
        match f with
        | Activation.Identity | Activation.LeakyReLU _ -> true
        | _ -> false

    /// a = σ(z), written into a (which may be z itself).
    [<HotPath>]
    let internal applyInto<'T when 'T :> IFloatingPointIeee754<'T>> (f: Activation) (z: Matrix<'T>) (a: Matrix<'T>) : unit =
        match f with
        | Activation.Identity -> ActivationRules.Identity.forward z.values a.values
        | Activation.Step -> Elementwise.unary ActivationRules.Step.forward z.values a.values
        | Activation.Sigmoid -> Elementwise.unary ActivationRules.Sigmoid.forward z.values a.values
        | Activation.Tanh -> Elementwise.unary ActivationRules.Tanh.forward z.values a.values
        | Activation.ReLU -> Elementwise.unary ActivationRules.Rectifier.forwardReLU z.values a.values
        | Activation.LeakyReLU slope -> Elementwise.unary (fst (ActivationRules.Rectifier.kernels slope)) z.values a.values
        | Activation.Softmax -> ActivationRules.Softmax.forward z.rows z.values a.values

    /// The vector–Jacobian product dz = J_σ(z)ᵀ g, written into dz (which may alias g): how a
    /// gradient g with respect to the outputs a = σ(z) becomes the gradient with respect to z.
    /// For element-wise σ this is g ⊙ σ'(z); for softmax, s ⊙ (g − (s·g)) column by column.
    [<HotPath>]
    let internal backwardInto<'T when 'T :> IFloatingPointIeee754<'T>>
        (f: Activation) (z: Matrix<'T>) (a: Matrix<'T>) (g: Matrix<'T>) (dz: Matrix<'T>) : unit =
        match f with
        | Activation.Identity -> ActivationRules.Identity.backward g.values dz.values
        | Activation.Step -> ActivationRules.Step.backward dz.values
        | Activation.Sigmoid -> Elementwise.binary ActivationRules.Sigmoid.backward a.values g.values dz.values
        | Activation.Tanh -> Elementwise.binary ActivationRules.Tanh.backward a.values g.values dz.values
        | Activation.ReLU -> Elementwise.binary ActivationRules.Rectifier.backwardReLU z.values g.values dz.values
        | Activation.LeakyReLU slope -> Elementwise.binary (snd (ActivationRules.Rectifier.kernels slope)) z.values g.values dz.values
        | Activation.Softmax -> ActivationRules.Softmax.backward z.rows a.values g.values dz.values

    /// σ for one example's column z, one scalar at a time: the rules above written for any scalar
    /// arithmetic (plain, dual numbers, tape variables), for automatic differentiation's check of
    /// backprop. Softmax subtracts its largest entry as a constant, as the batched rule does.
    let scalar (s: ScalarArithmetic<'S>) (f: Activation) (z: 'S[]) : 'S[] =
        match f with
        | Activation.Identity -> z
        // A constant: the step's derivative is zero wherever it exists.
        | Activation.Step -> z |> Array.map (fun zi -> s.Lift(if s.Value zi > 0.0 then 1.0 else 0.0))
        | Activation.Sigmoid -> Array.map s.Sigmoid z
        | Activation.Tanh -> Array.map s.Tanh z
        | Activation.ReLU -> Array.map s.ReLU z
        | Activation.LeakyReLU slope -> z |> Array.map (fun zi -> if s.Value zi > 0.0 then zi else s.Multiply(s.Lift slope, zi))
        | Activation.Softmax ->
            let m = s.Lift(z |> Array.map s.Value |> Array.max)
            let e = z |> Array.map (fun zi -> s.Exp(s.Subtract(zi, m)))
            let total = s.Sum e
            e |> Array.map (fun ei -> s.Divide(ei, total))

    /// a = σ(z) for a whole batch.
    let apply (f: Activation) (z: Matrix<'T>) : Matrix<'T> =
        let a = Matrix.wrap z.rows z.cols (Matrix.uninitialized z.values.Length)
        applyInto f z a
        a

    /// dz = J_σ(z)ᵀ g for a batch, given z, a = σ(z) and the gradient g with respect to a.
    let backward (f: Activation) (z: Matrix<'T>) (a: Matrix<'T>) (g: Matrix<'T>) : Matrix<'T> =
        Matrix.checkSameShape "backward (z and a)" z a
        Matrix.checkSameShape "backward (z and g)" z g
        let dz = Matrix.wrap z.rows z.cols (Matrix.uninitialized z.values.Length)
        backwardInto f z a g dz
        dz

    /// σ'(z) entry by entry, for element-wise activations. Softmax has no such derivative (its
    /// Jacobian is not diagonal): use backward or jacobian.
    let derivative (f: Activation) (z: Matrix<'T>) : Matrix<'T> =
        if not (isElementwise f) then
            invalidArg "f" "Softmax has no element-wise derivative: its Jacobian diag(s) − s sᵀ is full. Use Activation.backward or Activation.jacobian."
        let a = apply f z
        let ones = Matrix.wrap z.rows z.cols (Array.create z.values.Length 'T.One)
        backward f z a ones

    /// The full Jacobian ∂aᵢ/∂zⱼ for one example z (a column): diag(σ'(z)) for element-wise σ,
    /// diag(s) − s sᵀ for softmax. For tests and teaching; the backward pass never forms it.
    let jacobian (f: Activation) (z: 'T[]) : Matrix<'T> =
        if isNull z then nullArg "z"
        let column = Matrix.wrap z.Length 1 (Array.copy z)
        let a = apply f column
        let n = z.Length
        match f with
        | Activation.Softmax ->
            Matrix.init n n (fun i j -> (if i = j then a.values.[i] else 'T.Zero) - a.values.[i] * a.values.[j])
        | _ ->
            let d = derivative f column
            Matrix.init n n (fun i j -> if i = j then d.values.[i] else 'T.Zero)
