namespace FunctionalBackprop.Core

#nowarn "9" // Loads and stores through pointers: the kernel's operands are pinned arrays.
#nowarn "3535" // Static abstract members: the vector type is a type parameter of the kernels.

open System
open System.Numerics
open System.Runtime.Intrinsics
open System.Runtime.Intrinsics.X86
open Microsoft.FSharp.NativeInterop
open FunctionalBackprop.Core.GenericArithmetic

/// The vector operations a register tile needs, on vectors 'V of Width lanes of 'T. A kernel
/// written over this witness is compiled by the JIT once per vector type (the witnesses are
/// structs), with every member inlined: one source, native code for each width.
type internal ISimd<'V, 'T when 'T: unmanaged> =
    /// Lanes per vector.
    static abstract Width: int
    /// The vector of zeros.
    static abstract Zero: 'V
    /// Width lanes from p.
    static abstract Load: p: voidptr -> 'V
    /// Writes the lanes of v to p.
    static abstract Store: v: 'V * p: voidptr -> unit
    /// The first `count` lanes from p (0 < count ≤ Width), zero after them; nothing past them is
    /// read, so a vector may end where the array ends.
    static abstract LoadFirst: p: voidptr * count: int -> 'V
    /// Writes the first `count` lanes of v to p (0 < count ≤ Width), and nothing after them.
    static abstract StoreFirst: v: 'V * p: voidptr * count: int -> unit
    /// x in every lane.
    static abstract Splat: x: 'T -> 'V
    /// a·b, lane by lane.
    static abstract Multiply: a: 'V * b: 'V -> 'V
    /// a·b + c, lane by lane: one rounding where the processor has fused multiply-add, two
    /// otherwise (SSE without FMA, the scalars).
    static abstract MulAdd: a: 'V * b: 'V * c: 'V -> 'V

/// The element type, for the operations .NET offers per type only (fused multiply-add, masked
/// loads and stores, shuffles).
module internal Lanes =
    /// Whether 'T is float32 (else float): a constant to the JIT, which removes the branch not taken.
    let inline isSingle<'T> = Type.op_Equality (typeof<'T>, typeof<float32>)

/// Vector512: AVX-512 (16 float32 or 8 float64 lanes).
[<Struct>]
type internal Lanes512<'T when 'T: unmanaged and 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType> =
    interface ISimd<Vector512<'T>, 'T> with
        static member Width = Vector512<'T>.Count
        static member Zero = Vector512<'T>.Zero
        static member Load p = Vector512.Load(NativePtr.ofVoidPtr<'T> p)
        static member Store(v, p) = Vector512.Store(v, NativePtr.ofVoidPtr<'T> p)
        static member LoadFirst(p, count) =
            if Lanes.isSingle<'T> then
                let mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create count).AsSingle()
                Avx512F.MaskLoad(NativePtr.ofVoidPtr<float32> p, mask, Vector512<float32>.Zero).As<float32, 'T>()
            else
                let mask = Vector512.LessThan(Vector512<int64>.Indices, Vector512.Create(int64 count)).AsDouble()
                Avx512F.MaskLoad(NativePtr.ofVoidPtr<float> p, mask, Vector512<float>.Zero).As<float, 'T>()
        static member StoreFirst(v, p, count) =
            if Lanes.isSingle<'T> then
                let mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create count).AsSingle()
                Avx512F.MaskStore(NativePtr.ofVoidPtr<float32> p, mask, v.As<'T, float32>())
            else
                let mask = Vector512.LessThan(Vector512<int64>.Indices, Vector512.Create(int64 count)).AsDouble()
                Avx512F.MaskStore(NativePtr.ofVoidPtr<float> p, mask, v.As<'T, float>())
        static member Splat x = Vector512.Create x
        static member Multiply(a, b) = Vector512.Multiply(a, b)
        static member MulAdd(a, b, c) =
            if Lanes.isSingle<'T> then Vector512.MultiplyAddEstimate(a.As<'T, float32>(), b.As<'T, float32>(), c.As<'T, float32>()).As<float32, 'T>()
            else Vector512.MultiplyAddEstimate(a.As<'T, float>(), b.As<'T, float>(), c.As<'T, float>()).As<float, 'T>()

/// Vector256: AVX2 with FMA (8 float32 or 4 float64 lanes).
[<Struct>]
type internal Lanes256<'T when 'T: unmanaged and 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType> =
    interface ISimd<Vector256<'T>, 'T> with
        static member Width = Vector256<'T>.Count
        static member Zero = Vector256<'T>.Zero
        static member Load p = Vector256.Load(NativePtr.ofVoidPtr<'T> p)
        static member Store(v, p) = Vector256.Store(v, NativePtr.ofVoidPtr<'T> p)
        static member LoadFirst(p, count) =
            if Lanes.isSingle<'T> then
                let mask = Vector256.LessThan(Vector256<int>.Indices, Vector256.Create count).AsSingle()
                Avx.MaskLoad(NativePtr.ofVoidPtr<float32> p, mask).As<float32, 'T>()
            else
                let mask = Vector256.LessThan(Vector256<int64>.Indices, Vector256.Create(int64 count)).AsDouble()
                Avx.MaskLoad(NativePtr.ofVoidPtr<float> p, mask).As<float, 'T>()
        static member StoreFirst(v, p, count) =
            if Lanes.isSingle<'T> then
                let mask = Vector256.LessThan(Vector256<int>.Indices, Vector256.Create count).AsSingle()
                Avx.MaskStore(NativePtr.ofVoidPtr<float32> p, mask, v.As<'T, float32>())
            else
                let mask = Vector256.LessThan(Vector256<int64>.Indices, Vector256.Create(int64 count)).AsDouble()
                Avx.MaskStore(NativePtr.ofVoidPtr<float> p, mask, v.As<'T, float>())
        static member Splat x = Vector256.Create x
        static member Multiply(a, b) = Vector256.Multiply(a, b)
        static member MulAdd(a, b, c) =
            if Lanes.isSingle<'T> then Vector256.MultiplyAddEstimate(a.As<'T, float32>(), b.As<'T, float32>(), c.As<'T, float32>()).As<float32, 'T>()
            else Vector256.MultiplyAddEstimate(a.As<'T, float>(), b.As<'T, float>(), c.As<'T, float>()).As<float, 'T>()

/// Vector128: SSE, or Arm's NEON (4 float32 or 2 float64 lanes).
[<Struct>]
type internal Lanes128<'T when 'T: unmanaged and 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType> =
    interface ISimd<Vector128<'T>, 'T> with
        static member Width = Vector128<'T>.Count
        static member Zero = Vector128<'T>.Zero
        static member Load p = Vector128.Load(NativePtr.ofVoidPtr<'T> p)
        static member Store(v, p) = Vector128.Store(v, NativePtr.ofVoidPtr<'T> p)
        static member LoadFirst(p, count) =
            if not Avx.IsSupported then
                // No masked load (SSE alone, NEON): lane by lane.
                let source = NativePtr.ofVoidPtr<'T> p
                let mutable v = Vector128<'T>.Zero
                for i in 0 .. count - 1 do v <- v.WithElement(i, NativePtr.get source i)
                v
            elif Lanes.isSingle<'T> then
                let mask = Vector128.LessThan(Vector128<int>.Indices, Vector128.Create count).AsSingle()
                Avx.MaskLoad(NativePtr.ofVoidPtr<float32> p, mask).As<float32, 'T>()
            else
                let mask = Vector128.LessThan(Vector128<int64>.Indices, Vector128.Create(int64 count)).AsDouble()
                Avx.MaskLoad(NativePtr.ofVoidPtr<float> p, mask).As<float, 'T>()
        static member StoreFirst(v, p, count) =
            if not Avx.IsSupported then
                let target = NativePtr.ofVoidPtr<'T> p
                for i in 0 .. count - 1 do NativePtr.set target i (v.GetElement i)
            elif Lanes.isSingle<'T> then
                let mask = Vector128.LessThan(Vector128<int>.Indices, Vector128.Create count).AsSingle()
                Avx.MaskStore(NativePtr.ofVoidPtr<float32> p, mask, v.As<'T, float32>())
            else
                let mask = Vector128.LessThan(Vector128<int64>.Indices, Vector128.Create(int64 count)).AsDouble()
                Avx.MaskStore(NativePtr.ofVoidPtr<float> p, mask, v.As<'T, float>())
        static member Splat x = Vector128.Create x
        static member Multiply(a, b) = Vector128.Multiply(a, b)
        static member MulAdd(a, b, c) =
            if Lanes.isSingle<'T> then Vector128.MultiplyAddEstimate(a.As<'T, float32>(), b.As<'T, float32>(), c.As<'T, float32>()).As<float32, 'T>()
            else Vector128.MultiplyAddEstimate(a.As<'T, float>(), b.As<'T, float>(), c.As<'T, float>()).As<float, 'T>()

/// One lane: plain scalar arithmetic, for a runtime without hardware intrinsics.
[<Struct>]
type internal Lanes1<'T when 'T: unmanaged and 'T :> IFloatingPointIeee754<'T>> =
    interface ISimd<'T, 'T> with
        static member Width = 1
        static member Zero = 'T.Zero
        static member Load p = NativePtr.read (NativePtr.ofVoidPtr<'T> p)
        static member Store(v, p) = NativePtr.write (NativePtr.ofVoidPtr<'T> p) v
        static member LoadFirst(p, _) = NativePtr.read (NativePtr.ofVoidPtr<'T> p)
        static member StoreFirst(v, p, _) = NativePtr.write (NativePtr.ofVoidPtr<'T> p) v
        static member Splat x = x
        static member Multiply(a, b) = a * b
        static member MulAdd(a, b, c) = a * b + c
