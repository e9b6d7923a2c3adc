namespace FunctionalBackprop.Core

open System.Numerics

/// Arithmetic operators for code that is generic over the real type 'T.
///
/// F# cannot yet chain the built-in operators on a type parameter constrained by .NET's
/// generic-math interfaces: `a * b + c` fails with FS0670 (dotnet/fsharp#17062, open). These
/// inline operators call the interfaces' static members directly, which F# chains without
/// trouble and the JIT compiles to the plain machine instruction. Every primitive numeric type
/// implements these interfaces, so int arithmetic in the same files is unaffected. Core files
/// that do generic arithmetic open this module explicitly; nothing outside the core sees it.

module internal GenericArithmetic =

    /// a + b through IAdditionOperators.
    let inline (+) (a: 'T) (b: 'T) : 'T when 'T :> IAdditionOperators<'T, 'T, 'T> = 'T.op_Addition(a, b)

    /// a − b through ISubtractionOperators.
    let inline (-) (a: 'T) (b: 'T) : 'T when 'T :> ISubtractionOperators<'T, 'T, 'T> = 'T.op_Subtraction(a, b)

    /// a × b through IMultiplyOperators.
    let inline ( * ) (a: 'T) (b: 'T) : 'T when 'T :> IMultiplyOperators<'T, 'T, 'T> = 'T.op_Multiply(a, b)

    /// a ÷ b through IDivisionOperators.
    let inline (/) (a: 'T) (b: 'T) : 'T when 'T :> IDivisionOperators<'T, 'T, 'T> = 'T.op_Division(a, b)

    /// −a through IUnaryNegationOperators.
    let inline (~-) (a: 'T) : 'T when 'T :> IUnaryNegationOperators<'T, 'T> = 'T.op_UnaryNegation(a)
