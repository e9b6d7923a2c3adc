namespace FunctionalBackprop.Core

open System

/// Marks a method that runs once or more per mini-batch (a kernel, a pass, the fold's step):
/// the build gives it the AggressiveOptimization flag (build/HotPaths), so the runtime compiles it
/// fully optimised at its first call instead of running tier-0 code through the first epochs.
/// [<MethodImpl(MethodImplOptions.AggressiveOptimization)>] would say the same, but the F#
/// compiler drops that flag (it emits only some of MethodImplOptions' bits), so the build sets it.
[<AttributeUsage(AttributeTargets.Method ||| AttributeTargets.Constructor, AllowMultiple = false)>]
[<Sealed>]
type internal HotPathAttribute() =
    inherit Attribute()
