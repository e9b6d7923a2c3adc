namespace FunctionalBackprop.Core

#nowarn "3535" // Static abstract members: the tile's shape is a type parameter of the kernel.

/// A small count known when the JIT compiles: the rows (in vectors) and columns of a register
/// tile, as a type parameter, so that each tile shape is compiled with its own registers.
type internal ICount =
    /// The count.
    static abstract Value: int

[<Struct>] type internal N1 = interface ICount with static member Value = 1
[<Struct>] type internal N2 = interface ICount with static member Value = 2
[<Struct>] type internal N3 = interface ICount with static member Value = 3
[<Struct>] type internal N4 = interface ICount with static member Value = 4
[<Struct>] type internal N5 = interface ICount with static member Value = 5
[<Struct>] type internal N6 = interface ICount with static member Value = 6
[<Struct>] type internal N7 = interface ICount with static member Value = 7
[<Struct>] type internal N8 = interface ICount with static member Value = 8
[<Struct>] type internal N9 = interface ICount with static member Value = 9
[<Struct>] type internal N10 = interface ICount with static member Value = 10
[<Struct>] type internal N11 = interface ICount with static member Value = 11
[<Struct>] type internal N12 = interface ICount with static member Value = 12

/// How a tile finds the columns of its op(B) panel, as a type parameter: next to each other
/// (Adjacent: a packed panel, or the rows of Bᵀ read in place), or a leading dimension apart
/// (Apart: the columns of B read in place).
type internal IColumnStep =
    /// Whether column j is j elements after column 0 (else j times the stride given).
    static abstract Adjacent: bool

[<Struct>] type internal Adjacent = interface IColumnStep with static member Adjacent = true
[<Struct>] type internal Apart = interface IColumnStep with static member Adjacent = false
