namespace FunctionalBackprop.Core

open System

/// The sizes of the product's blocks, in elements, for one element type and vector width. The
/// tile is MR × NR (MR = 2 vectors of Width lanes); the loops (GemmLoops) pack blocks of op(A) of
/// MC × KC and of op(B) of KC × NC.
type internal Blocking = { Width: int; MR: int; NR: int; KC: int; MC: int; NC: int }

/// Block sizes from the caches (Goto and van de Geijn's rule, as BLIS applies it): an NR × KC
/// panel of op(B) stays in the first-level cache, next to the tile, while MR × KC panels of op(A)
/// stream through it; the MC × KC block of op(A) stays in the second level while the loops sweep
/// op(B)'s block; the KC × NC block of op(B) stays in this core's share of the third.
module internal Blockings =

    let private roundDown (step: int) (x: int) = max step (x / step * step)

    /// The blocks for tiles of `width`-lane vectors, `columns` wide, of `bytes`-byte elements.
    let derive (caches: CacheSizes) (width: int) (columns: int) (bytes: int) : Blocking =
        let mr = 2 * width
        // Half the first level for op(B)'s panel: the other half holds the op(A) panels passing
        // through and C's tile.
        let kc = caches.L1 / 2 / (columns * bytes) |> roundDown 16 |> min 512 |> max 64
        let mc = caches.L2 / 2 / (kc * bytes) |> roundDown mr
        let nc = caches.L3PerCore / 2 / (kc * bytes) |> roundDown columns
        { Width = width; MR = mr; NR = columns; KC = kc; MC = mc; NC = max nc (8 * columns) }
